#!/usr/bin/env python3
"""ab-merge.py BASE NEW LIB -- two noai release builds on one library, in alternating turns: verify
(5 pairs), tag on a fresh `cp -a` copy (3 pairs), re-tag of that copy (5 pairs); medians and
ratios. Used for the "not slower" check of BENCHMARKS.md (the merge of issues 13 and 17) and the
before/after of issue 11's per-file overhead work."""
import shutil, statistics, subprocess, sys, time
BASE, NEW = sys.argv[1], sys.argv[2]
LIB = sys.argv[3]
def t(cmd):
    s = time.monotonic(); r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); return time.monotonic() - s, r.returncode
res = {"verify": {"base": [], "new": []}, "tag": {"base": [], "new": []}, "retag": {"base": [], "new": []}}
for b in (BASE, NEW): t([b, "verify", "-q", LIB])   # warm-up
for i in range(5):
    for name, b in (("base", BASE), ("new", NEW)) if i % 2 == 0 else (("new", NEW), ("base", BASE)):
        res["verify"][name].append(t([b, "verify", "-q", LIB])[0])
for i in range(3):
    for name, b in (("base", BASE), ("new", NEW)) if i % 2 == 0 else (("new", NEW), ("base", BASE)):
        c = f"{LIB}.copy-{name}"
        shutil.rmtree(c, ignore_errors=True); subprocess.run(["cp", "-a", LIB, c]); subprocess.run(["sync"])
        res["tag"][name].append(t([b, "tag", "-q", c])[0])
for i in range(5):
    for name, b in (("base", BASE), ("new", NEW)) if i % 2 == 0 else (("new", NEW), ("base", BASE)):
        res["retag"][name].append(t([b, "tag", "-q", f"{LIB}.copy-{name}"])[0])
for k, v in res.items():
    mb, mn = statistics.median(v["base"]), statistics.median(v["new"])
    print(f"{k}: base median {mb:.3f} s {['%.3f' % x for x in v['base']]}; new median {mn:.3f} s {['%.3f' % x for x in v['new']]}; new/base {mn/mb:.2f}")
for name in ("base", "new"):
    shutil.rmtree(f"{LIB}.copy-{name}", ignore_errors=True)
