"""One fresh process: a split training step of a seed-shaped model, then at once the process's first
sqrt (and other VML ops) on 2 threads, compared with the same ops half a second later.
    python benchmarks/probes/repeatability_cpu/race_sqrt.py          # with the package's warm-up (mkl_warmup.py, run on import of models)
    python benchmarks/probes/repeatability_cpu/race_sqrt.py skip     # without it
Prints which ops differed between the two calls and whether each call equals float64 sqrt rounded."""
import sys, time
import torch
import sentiment_lab.models.mkl_warmup as w
if "skip" in sys.argv:
    w._done = True  # the warm-up then does nothing
from sentiment_lab.config import load_config
from sentiment_lab.training.cpu_shards import ShardedStep
from sentiment_lab.models import build_model

from race_batch import VOCAB as V, seed_batch

cfg = load_config("seed")
ids, lens, y = seed_batch()
torch.manual_seed(0)
v = torch.rand(640000) * 1e-9; m = torch.randn(640000) * 1e-5
torch.manual_seed(42); model = build_model(cfg.model, V).train()
step = ShardedStep(2)


def ops():
    x = m * 1e4
    return dict(sqrt=v.sqrt(), exp=x.exp(), tanh=x.tanh(), sigmoid=x.sigmoid(), log=v.log(), div=v / 1.7,
                rsqrt=v.rsqrt(), norm=torch.linalg.vector_norm(m).reshape(1))


step(model, ids, lens, y, torch.nn.BCEWithLogitsLoss())
first = ops()
time.sleep(0.5)
later = ops()
bad = [k for k in first if not torch.equal(first[k], later[k])]
print("differ:", bad, [int((first[k] != later[k]).sum()) for k in bad])
step.close()
