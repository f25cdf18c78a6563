"""Elementwise comparison of two TRACE_MODE=dump records (trace.py): which tensors differ at Adam's
construction, in the step-0 gradients and after step 0, where, and by how much.
    python benchmarks/probes/repeatability_cpu/cmp_dump.py A.npy.npz B.npy.npz"""
import sys
import numpy as np

a, b = (np.load(p) for p in sys.argv[1:3])
print("tokenizer", "same" if a["tokenizer_sha"] == b["tokenizer_sha"] else f"DIFFERS {a['tokenizer_sha']} {b['tokenizer_sha']}")
for k in sorted(set(a.files) - {"tokenizer_sha"}, key=lambda k: (k.split("_")[0], int(k.split("_")[1]))):
    x, y = a[k], b[k]
    if x.shape != y.shape:
        print(k, "shapes", x.shape, y.shape)
        continue
    d = x != y
    if not d.any():
        continue
    where = np.argwhere(d)
    rows = np.unique(where[:, 0])
    print(f"{k} shape {x.shape}: {d.sum()} elements differ in {len(rows)} rows (first rows {rows[:10].tolist()}), "
          f"max |diff| {np.abs(x - y).max():.3g}; at the first: {x[tuple(where[0])]!r} vs {y[tuple(where[0])]!r}")
