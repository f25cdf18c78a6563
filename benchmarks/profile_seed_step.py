"""Where the seed preset's training step spends its time on this CPU (torch.profiler).

    .venv/bin/python benchmarks/profile_seed_step.py

One step of the seed model at its benchmark shape: 128 reviews x 122 tokens (the mean IMDB
test review after dropping function words and truncating to 200), with DropConnect, input
dropout, clipping, Adam and the weight average, as train.py runs them. Prints the median time
of forward, backward, clip+Adam and the average update over 30 steps, then the profiler's top
operators.
"""
from __future__ import annotations

import time

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.profiler import ProfilerActivity, profile

from sentiment_lab.config import load_config
from sentiment_lab.models.rnn import RNNClassifier

BATCH, TOKENS, STEPS_PER_EPOCH = 128, 122, 157  # 20,000 training reviews / 128


def main() -> None:
    import argparse

    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()  # --help, like the other scripts
    cfg = load_config("seed")
    torch.manual_seed(0)
    model = RNNClassifier(cfg.model, cfg.text.vocab_size).train()
    opt = torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.train.ema), use_buffers=True)
    ids = torch.randint(2, cfg.text.vocab_size, (BATCH, TOKENS))
    lengths = torch.full((BATCH,), TOKENS)
    y = torch.randint(0, 2, (BATCH,)).float()
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def step() -> tuple[float, float, float, float]:
        t0 = time.perf_counter()
        loss = loss_fn(model(ids, lengths), y)
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.train.grad_clip)
        opt.step()
        t3 = time.perf_counter()
        ema.update_parameters(model)
        return t1 - t0, t2 - t1, t3 - t2, time.perf_counter() - t3

    for _ in range(5):  # warm-up
        step()
    ms = np.median(np.array([step() for _ in range(30)]), axis=0) * 1000
    print(f"threads {torch.get_num_threads()}; median ms per step: forward {ms[0]:.1f}, backward {ms[1]:.1f}, "
          f"clip+Adam {ms[2]:.1f}, weight average {ms[3]:.1f}; total {ms.sum():.1f} "
          f"= {ms.sum() * STEPS_PER_EPOCH / 1000:.1f} s per epoch of {STEPS_PER_EPOCH} steps")
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(5):
            step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


if __name__ == "__main__":
    main()
