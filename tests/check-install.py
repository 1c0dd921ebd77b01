#!/usr/bin/python3
"""Installs the build into a temporary DESTDIR and checks that the desktop files
landed where desktop environments look for them, then that AppStream accepts the
installed tree as a whole (metainfo, its launchable .desktop file and the icon).
TAP output, one line per check.

usage: check-install.py MESON APPSTREAMCLI BUILD_DIR PREFIX DATADIR"""
import os
import subprocess
import sys
import tempfile

meson, appstreamcli, build_dir, prefix, datadir = sys.argv[1:6]
datadir = os.path.join(prefix, datadir)  # datadir may be relative to prefix or absolute

expected = [
    ("applications", "org.patchlab.PatchLab.desktop"),
    ("metainfo", "org.patchlab.PatchLab.metainfo.xml"),
    ("icons/hicolor/scalable/apps", "org.patchlab.PatchLab.svg"),
    ("icons/hicolor/symbolic/apps", "org.patchlab.PatchLab-symbolic.svg"),
]

print(f"1..{len(expected) + 2}")
with tempfile.TemporaryDirectory(prefix="patchlab-destdir-") as destdir:
    run = subprocess.run(
        [meson, "install", "-C", build_dir, "--no-rebuild", "--destdir", destdir],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if run.returncode != 0:
        print("not ok 1 - meson install --destdir")
        for line in run.stdout.splitlines():
            print("# " + line)
    else:
        print("ok 1 - meson install --destdir")
    failed = run.returncode != 0
    for n, (sub, name) in enumerate(expected, start=2):
        path = os.path.join(datadir, sub, name)
        staged = destdir + path if os.path.isabs(path) else os.path.join(destdir, path)
        if os.path.isfile(staged) and os.path.getsize(staged) > 0:
            print(f"ok {n} - {path}")
        else:
            failed = True
            print(f"not ok {n} - {path} missing under DESTDIR")

    # validate-tree looks under PREFIX/share, so it only applies to the usual datadir.
    n = len(expected) + 2
    staged_prefix = destdir + prefix if os.path.isabs(prefix) else os.path.join(destdir, prefix)
    if os.path.normpath(datadir) != os.path.normpath(os.path.join(prefix, "share")):
        print(f"ok {n} - appstreamcli validate-tree # SKIP datadir is not PREFIX/share")
    else:
        tree = subprocess.run([appstreamcli, "validate-tree", "--no-net", staged_prefix],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        status = "ok" if tree.returncode == 0 else "not ok"
        failed = failed or tree.returncode != 0
        print(f"{status} {n} - appstreamcli validate-tree on the installed tree")
        for line in tree.stdout.splitlines():
            if line.strip():
                print("# " + line)
sys.exit(1 if failed else 0)
