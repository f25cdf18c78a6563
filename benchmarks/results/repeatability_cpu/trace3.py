"""As trace.py, plus: every torch.autograd.grad call (one per shard and step on the split path) logs
the calling thread's name, its torch thread count, the shard size, and a float64 sum of the grads,
for the first STEPS steps, to TRACE_OUT + '.log'."""
import os, sys, threading, numpy as np, torch
OUT = os.environ["TRACE_OUT"]; STEPS = 4
rows = []; log = open(OUT + ".log", "w")
class Traced(torch.optim.Adam):
    def step(self, *a, **k):
        rows.append([v for p in self.param_groups[0]["params"] if p.grad is not None
                     for v in (p.grad.double().sum().item(), p.grad.double().abs().sum().item())])
        np.save(OUT, np.array(rows))
        out = super().step(*a, **k)
        if len(rows) <= STEPS:
            log.write(f"after step {len(rows) - 1} params " + " ".join(repr(p.double().sum().item()) for p in self.param_groups[0]["params"]) + "\n")
        return out
torch.optim.Adam = Traced
_grad = torch.autograd.grad
def grad(outputs, inputs, *a, **k):
    res = _grad(outputs, inputs, *a, **k)
    if len(rows) < STEPS:
        s = sum(float(g.double().abs().sum()) for g in res if g is not None)
        log.write(f"step {len(rows)} thread {threading.current_thread().name} nthreads {torch.get_num_threads()} "
                  f"interop {torch.get_num_interop_threads()} loss {outputs.item()!r} gradsum {s!r}\n"); log.flush()
    return res
torch.autograd.grad = grad
from sentiment_lab.cli import main
sys.argv = ["sentiment-lab", *sys.argv[1:]]
main()
