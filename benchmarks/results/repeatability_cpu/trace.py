"""Run `sentiment-lab train ...` (args after the script) with Adam wrapped so that every step's
gradients are summarised (per-parameter float64 sums of grad and of |grad|) into TRACE_OUT (a .npy).
Two processes' traces show the first step whose gradients differ, and in which parameters."""
import os, sys, numpy as np, torch
OUT = os.environ["TRACE_OUT"]
rows = []
class Traced(torch.optim.Adam):
    def step(self, *a, **k):
        rows.append([v for p in self.param_groups[0]["params"] if p.grad is not None
                     for v in (p.grad.double().sum().item(), p.grad.double().abs().sum().item())])
        np.save(OUT, np.array(rows))
        return super().step(*a, **k)
torch.optim.Adam = Traced
from sentiment_lab.cli import main
sys.argv = ["sentiment-lab", *sys.argv[1:]]
main()
