"""torch.compile on the seed preset's training step, against eager mode, on this CPU.

    .venv/bin/python benchmarks/bench_compile.py --out benchmarks/results/compile_cpu.json

Both models start from the same weights and take the same batches (128 reviews of 150-200
tokens, right-padded as the trainer feeds them), timed back to back for `--steps` steps
after warm-up (compile time reported apart). Almost all of a step is oneDNN's fused LSTM,
which torch.compile leaves as one call, so little is expected; this measures how little.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "compile_cpu.json")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    import torch

    from bench_seed import machine_info
    from sentiment_lab.fileio import write_json
    from sentiment_lab.config import load_config
    from sentiment_lab.models import build_model

    cfg = load_config("seed", [])
    rng = np.random.default_rng(0)

    def batch():
        lengths = torch.tensor(np.sort(rng.integers(150, 200, 128))[::-1].copy())
        ids = torch.randint(2, cfg.text.vocab_size, (128, int(lengths.max())))
        for i, n in enumerate(lengths):
            ids[i, n:] = 0
        return ids, lengths, torch.randint(0, 2, (128,)).float()

    def make():
        torch.manual_seed(0)
        m = build_model(cfg.model, cfg.text.vocab_size)
        m.train()
        return m, torch.optim.Adam(m.parameters(), 1e-3)

    loss_fn = torch.nn.BCEWithLogitsLoss()

    def step(m, opt, b):
        ids, lengths, y = b
        opt.zero_grad()
        loss_fn(m(ids, lengths), y).backward()
        opt.step()

    eager, opt_e = make()
    base, opt_c = make()
    compiled = torch.compile(base, dynamic=True)
    t0 = time.perf_counter()
    step(compiled, opt_c, batch())
    step(compiled, opt_c, batch())
    compile_s = time.perf_counter() - t0
    step(eager, opt_e, batch())
    te, tc = [], []
    for _ in range(args.steps):
        b = batch()
        t0 = time.perf_counter()
        step(eager, opt_e, b)
        te.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        step(compiled, opt_c, b)
        tc.append(time.perf_counter() - t0)
    res = {"machine": machine_info(), "preset": "seed", "batch": 128, "tokens": "150-200",
           "compile_and_first_2_steps_s": compile_s, "eager_step_ms": [1e3 * t for t in te],
           "compiled_step_ms": [1e3 * t for t in tc], "speedup_median": statistics.median(te) / statistics.median(tc),
           "loadavg_after": os.getloadavg(), "command": "python benchmarks/bench_compile.py"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, res)  # atomic, as every result file
    print(f"eager {statistics.median(te) * 1e3:.0f} ms, compiled {statistics.median(tc) * 1e3:.0f} ms per step "
          f"({res['speedup_median']:.2f}x), compile {compile_s:.0f} s, load {res['loadavg_after'][0]:.1f}")


if __name__ == "__main__":
    main()
