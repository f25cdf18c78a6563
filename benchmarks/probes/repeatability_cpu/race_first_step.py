"""In one process, N times: seed the seed preset's model, take one split training step on a
synthetic Zipf batch (clip, Adam, weight averaging, as train.py does), hash the parameters.
Another outcome in the first repeat than in the later ones means the first step of a process
differs. On a second outcome it saves both parameter sets, Adam's moments and the initial
weights to deviant_TAG.pt in the current folder (analysed in benchmarks/results/repeatability_cpu/README.md).
    python benchmarks/probes/repeatability_cpu/race_first_step.py N STEPS TAG"""
import hashlib, sys
import torch
from torch.optim.swa_utils import AveragedModel
from sentiment_lab.config import load_config
from sentiment_lab.training.cpu_shards import ShardedStep
from sentiment_lab.models import build_model

from race_batch import VOCAB as V, seed_batch
from sentiment_lab.training.optim import ema_multi_avg_fn

cfg = load_config("seed")
ids, lens, y = seed_batch()
loss_fn = torch.nn.BCEWithLogitsLoss()
N, STEPS, TAG = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
seen, keep = {}, {}
for it in range(N):
    torch.manual_seed(42)
    model = build_model(cfg.model, V).train()
    opt = torch.optim.Adam(list(model.parameters()), lr=0.004)
    ema = AveragedModel(model, multi_avg_fn=ema_multi_avg_fn(0.99), use_buffers=True)
    step = ShardedStep(2)
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        step(model, ids, lens, y, loss_fn)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step(); ema.update_parameters(model)
    step.close()
    h = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in model.parameters())).hexdigest()[:12]
    seen[h] = seen.get(h, 0) + 1
    if h not in keep:
        st = opt.state[model.embedding.weight]
        keep[h] = {n: p.detach().clone() for n, p in model.named_parameters()} | {
            "m": st["exp_avg"].clone(), "v": st["exp_avg_sq"].clone()}
        print(it, "new outcome", h, flush=True)
print(seen)
if len(keep) > 1:
    a, b = list(keep.values())[:2]
    for n in a:
        if (a[n] != b[n]).any():
            print(n, int((a[n] != b[n]).sum()), "elements differ, max", float((a[n] - b[n]).abs().max()))
    torch.manual_seed(42); init = build_model(cfg.model, V)
    torch.save({"a": a, "b": b, "init": {n: p.detach().clone() for n, p in init.named_parameters()}},
               f"deviant_{TAG}.pt")
