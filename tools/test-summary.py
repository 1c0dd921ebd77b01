#!/usr/bin/python3
"""Reads meson's testlog.json and prints 'N passed, N failed' over TAP subtests.

A suite that did not end OK (crash, timeout, missing plan) adds one failure even
when none of its subtests reported 'not ok'. Exits 1 on any failure or when no
test ran at all."""
import json
import re
import sys

passed = failed = 0
with open(sys.argv[1], encoding="utf-8") as log:
    for line in log:
        entry = json.loads(line)
        out = entry.get("stdout") or ""
        ok = len(re.findall(r"^ok \d+", out, re.M))
        not_ok = len(re.findall(r"^not ok \d+", out, re.M))
        passed += ok
        failed += not_ok
        if entry.get("result") not in ("OK", "EXPECTEDFAIL", "SKIP") and not_ok == 0:
            failed += 1
        if entry.get("result") == "OK" and ok == 0:
            passed += 1  # a suite that is not TAP counts as one test
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or passed == 0 else 0)
