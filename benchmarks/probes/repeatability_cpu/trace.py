"""Run `sentiment-lab train ...` (the arguments after this script) with Adam wrapped to record what
the first optimiser steps see, so that two processes' records show where a seeded run starts to differ.

TRACE_MODE=sums (default): every step's per-parameter float64 sums of grad and |grad| go to TRACE_OUT
  (a .npy, compared by cmp.py); for the first STEPS steps, TRACE_OUT.log also gets each
  torch.autograd.grad call (one per shard on the split path: thread, torch threads, loss, gradient sum)
  and every parameter's sum after the step.
TRACE_MODE=hashes: SHA-256 prefixes of every parameter at Adam's construction, and of every gradient,
  parameter and Adam state around the first STEPS steps, go to TRACE_OUT (text).
TRACE_MODE=dump: as sums, and also keeps in memory a copy of every parameter at Adam's construction,
  every gradient at step 0 and every parameter after step 0 (a clone costs about what a sum does, far
  less than hashing), written at exit to TRACE_OUT.npz with the tokenizer's SHA-256, for elementwise
  comparison of a usual and a differing run.
TRACE_STOP=N (default 0 = never): exit right after step N-1, skipping the rest of the run.
"""
import atexit, hashlib, os, sys, threading
import numpy as np, torch

OUT, MODE = os.environ["TRACE_OUT"], os.environ.get("TRACE_MODE", "sums")
STEPS, STOP = 2 if MODE == "hashes" else 4, int(os.environ.get("TRACE_STOP", "0"))
log = open(OUT if MODE == "hashes" else OUT + ".log", "w")
rows = []  # sums mode: one row per step
kept = {}  # dump mode: name -> array
DUMP = MODE == "dump"
if DUMP:
    MODE = "sums"

    def _write():
        tok_path = os.path.join(sys.argv[sys.argv.index("-o") + 1], "tokenizer.json")
        tok = open(tok_path, "rb").read() if os.path.exists(tok_path) else b""
        np.savez(OUT + ".npz", tokenizer_sha=np.array(hashlib.sha256(tok).hexdigest()),
                 **{k: v.numpy() for k, v in kept.items()})

    atexit.register(_write)


def digest(t):
    return hashlib.sha256(t.detach().contiguous().numpy().tobytes()).hexdigest()[:10]


def line(label, tensors, show=digest):
    log.write(f"{label} " + " ".join(show(t) for t in tensors) + "\n")
    log.flush()


class Traced(torch.optim.Adam):
    n = 0  # steps taken

    def __init__(self, params, *a, **k):
        params = list(params)
        if MODE == "hashes":
            line("init", params)
        if DUMP:
            kept.update({f"init_{i}": p.detach().clone() for i, p in enumerate(params)})
        super().__init__(params, *a, **k)

    def step(self, *a, **k):
        ps, n = self.param_groups[0]["params"], Traced.n
        if DUMP and n == 0:
            kept.update({f"grad0_{i}": p.grad.detach().clone() for i, p in enumerate(ps) if p.grad is not None})
        if MODE == "sums":
            rows.append([v for p in ps if p.grad is not None
                         for v in (p.grad.double().sum().item(), p.grad.double().abs().sum().item())])
            np.save(OUT, np.array(rows))
        elif n < STEPS:
            line(f"step {n} grads", [p.grad for p in ps])
            line(f"step {n} params", ps)
        out = super().step(*a, **k)
        if n < STEPS:
            if DUMP and n == 0:
                kept.update({f"after0_{i}": p.detach().clone() for i, p in enumerate(ps)})
            if MODE == "sums":
                line(f"after step {n} params", ps, lambda p: repr(p.double().sum().item()))
            else:
                line(f"after {n} params", ps)
                line(f"after {n} exp_avg", [self.state[p]["exp_avg"] for p in ps])
                line(f"after {n} exp_avg_sq", [self.state[p]["exp_avg_sq"] for p in ps])
        Traced.n += 1
        if STOP and Traced.n == STOP:
            log.close()
            os._exit(0)
        return out


torch.optim.Adam = Traced
if MODE == "sums":
    _grad = torch.autograd.grad

    def grad(outputs, inputs, *a, **k):
        res = _grad(outputs, inputs, *a, **k)
        if len(rows) < STEPS:
            s = sum(float(g.double().abs().sum()) for g in res if g is not None)
            log.write(f"step {len(rows)} thread {threading.current_thread().name} nthreads {torch.get_num_threads()} "
                      f"interop {torch.get_num_interop_threads()} loss {outputs.item()!r} gradsum {s!r}\n")
            log.flush()
        return res

    torch.autograd.grad = grad

from sentiment_lab.cli import main  # noqa: E402

sys.argv = ["sentiment-lab", *sys.argv[1:]]
main()
