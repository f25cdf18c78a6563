"""What differs in a deviant first step (deviant_TAG.pt from race_first_step.py): Adam's moments,
the updated embedding, where in the tensor, and by how much against Adam's formula.
    python benchmarks/probes/repeatability_cpu/race_analyse.py deviant_TAG.pt"""
import sys
import torch

d = torch.load(sys.argv[1]); a, b, init = d["a"], d["b"], d["init"]
print("Adam moments differ: exp_avg", int((a["m"] != b["m"]).sum()), "exp_avg_sq", int((a["v"] != b["v"]).sum()))
for n in init:
    if (a[n] != b[n]).any():
        print("parameter differing after the step:", n)
pa, pb, p0 = (x.flatten() for x in (a["embedding.weight"], b["embedding.weight"], init["embedding.weight"]))
m, v = a["m"].flatten(), a["v"].flatten()
diff = (pa != pb).nonzero().flatten()
half = len(pa) // 2
print(f"{len(diff)} elements differ, flat indices {int(diff.min())}..{int(diff.max())} (the tensor has {len(pa)}; "
      f"2 threads split elementwise ops at {half})")
exact = p0.clone().addcdiv_(m, (v.sqrt() / 0.001 ** 0.5).add_(1e-8), value=-0.004 / 0.1)  # Adam step 1 recomputed
for name, p in (("first repeat", pa), ("later repeats", pb)):
    print(f"{name}: equals Adam recomputed now: first half {bool((p[:half] == exact[:half]).all())}, "
          f"second half {bool((p[half:] == exact[half:]).all())}")
upd = (m != 0).nonzero().flatten(); upd = upd[upd < half]
ex = (exact - p0).double()[upd]; upd = upd[ex != 0]; ex = ex[ex != 0]
rel = ((pa - p0).double()[upd] - ex) / ex
q = torch.quantile(rel, torch.tensor([0.01, 0.5, 0.99], dtype=torch.float64)).tolist()
print("first repeat, relative error of the update in the first half: 1%% %.2e, median %.2e, 99%% %.2e" % tuple(q))
