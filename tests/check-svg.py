#!/usr/bin/python3
"""Checks the application icons: each parses as XML with an <svg> root in the
SVG namespace and has a usable viewBox; the symbolic one is 16×16 and uses
plain fills only (no gradients, no images, no colours other than #2e3436).
TAP output.

usage: check-svg.py SCALABLE.svg SYMBOLIC.svg"""
import re
import sys
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"
scalable, symbolic = sys.argv[1:3]
results = []


def check(ok, what):
    results.append((bool(ok), what))


def load(path):
    try:
        return ET.parse(path).getroot()
    except (ET.ParseError, OSError) as err:
        check(False, f"{path} parses as XML ({err})")
        return None


def viewbox(root):
    try:
        return [float(v) for v in re.split(r"[\s,]+", root.get("viewBox", "").strip())]
    except ValueError:
        return []


for path in (scalable, symbolic):
    root = load(path)
    if root is None:
        continue
    check(root.tag == SVG + "svg", f"{path}: root is <svg> in the SVG namespace (got {root.tag})")
    vb = viewbox(root)
    check(len(vb) == 4 and vb[2] > 0 and vb[2] == vb[3], f"{path}: square viewBox ({vb})")
    if path == symbolic:
        check(vb == [0, 0, 16, 16], f"{path}: viewBox is 0 0 16 16")
        bad = [el.tag for el in root.iter()
               if el.tag in (SVG + "image", SVG + "linearGradient", SVG + "radialGradient",
                             SVG + "text")]
        check(not bad, f"{path}: no images, gradients or text ({bad})")
        colours = set()
        for el in root.iter():
            for attr in ("fill", "stroke"):
                value = el.get(attr)
                if value and value not in ("none",) and not value.startswith("url("):
                    colours.add(value.lower())
        check(colours <= {"#2e3436"}, f"{path}: only #2e3436 is used ({sorted(colours)})")

print(f"1..{len(results)}")
for n, (ok, what) in enumerate(results, start=1):
    print(f"{'ok' if ok else 'not ok'} {n} - {what}")
sys.exit(0 if results and all(ok for ok, _ in results) else 1)
