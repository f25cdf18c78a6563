"""Which traced run first differs from the first one, at which step and in which columns: compares the
TRACE_MODE=sums records (trace.py, loop.sh) that match a glob, the first file the reference.
    python benchmarks/probes/repeatability_cpu/cmp.py '/tmp/trace/TAG_*.npy'"""
import sys, numpy as np, glob
files = sorted(glob.glob(sys.argv[1]))
ref = np.load(files[0])
for f in files[1:]:
    t = np.load(f)
    n = min(len(t), len(ref))
    diff = np.nonzero(np.any(t[:n] != ref[:n], axis=1))[0]
    if len(diff) == 0:
        print(f, "identical over", n, "steps"); continue
    s = diff[0]; cols = np.nonzero(t[s] != ref[s])[0]
    print(f, "first differing step", s, "of", n, "columns", cols[:20].tolist(), "rel diff", np.abs((t[s]-ref[s])/ref[s])[cols][:6])
