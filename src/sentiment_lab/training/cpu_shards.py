"""Data parallelism across the CPU's cores inside one process: each training batch is split
into shards whose forward and backward passes run at the same time in worker threads, one
core each.

Why: at this project's sizes (batches of 128, 64 to 256 hidden units) a recurrent layer is a
chain of small matrix products, one per time step. Two cores sharing each product spend much
of the step synchronising at every time step; two threads each running half the batch on
one core do not. On 2 cores a training step takes 0.81x as long for the seed preset and 0.82x
for the best one (benchmarks/bench_cpu_shards.py), and the seed preset's epoch went from 14.3
to 11.7 s (bench_seed.py). Inference gains nothing this way (measured), so only training
steps are split.

The step is the same step: each shard's mean loss is weighted by its share of the batch, each
shard's gradients come back separately, and the calling thread adds them up in shard order
(not in whichever order the threads finish), so the result does not depend on timing. The
random masks are drawn once, by the calling thread, before the split
(RNNClassifier.sample_noise), so a run is reproducible from its seed and matches the unsplit
run up to float rounding (tested).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Callable

import torch
from torch import nn

from sentiment_lab.training.adversarial import adversarial_grads, probe_directions


MAX_AUTO_SHARDS = 4  # measured on 2 cores only; more threads would mostly queue for Python's GIL


def shard_count(setting: int, model: nn.Module, device: torch.device, distributed: bool) -> int:
    """How many shards to split each training batch into: `setting` (0 = auto: one per torch
    thread, at most MAX_AUTO_SHARDS), and 1 wherever splitting does not apply: GPUs (one kernel
    already fills them), multi-process runs (each process has its own cores), and models whose
    randomness is not all drawn up front (dropout between stacked layers)."""
    if setting == 1 or device.type != "cpu" or distributed or not getattr(model, "shardable", False):
        return 1
    return setting or min(torch.get_num_threads(), MAX_AUTO_SHARDS)


def _worker_threads(n: int) -> None:
    """Worker initialiser. torch.set_num_threads sets the calling thread's OpenMP team size
    and also the process-wide default that each thread reads on its first parallel operation;
    reading it back here makes this thread's setting final."""
    torch.set_num_threads(n)
    torch.get_num_threads()


class ShardedStep:
    """Forward and backward of one batch, split across `shards` worker threads that share the
    caller's torch threads between them (one each on 2 cores).

    While it is open, threads that start using torch for the first time get the workers' count
    (the process-wide default they set); the calling thread keeps its own count, which is
    fixed here before any worker starts, and `close` restores the default."""

    def __init__(self, shards: int) -> None:
        self.shards = shards
        self.threads = torch.get_num_threads()  # also fixes the calling thread's own count now
        self.pool = ThreadPoolExecutor(shards, thread_name_prefix="shard",
                                       initializer=partial(_worker_threads, max(1, self.threads // shards)))

    def __call__(self, model: nn.Module, ids: torch.Tensor, lengths: torch.Tensor, y: torch.Tensor,
                 loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                 dtype: torch.dtype | None = None, adversarial: float = 0.0,
                 virtual: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Sets the batch's gradients in .grad (zeroed or unset before); returns the batch's
        logits and mean loss. `adversarial` / `virtual` > 0 add (virtual) adversarial training
        (adversarial.py).
        Shards take every k-th review: batches are length-sorted, so each gets the same mix
        of lengths and the threads finish together."""
        n = ids.size(0)
        noise = model.sample_noise(n)
        probe = probe_directions(model, ids, virtual)
        parts = [torch.arange(i, n, self.shards) for i in range(min(self.shards, n))]
        params = [p for p in model.parameters() if p.requires_grad]

        def run(index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor | None, ...]]:
            lens = lengths[index]
            width = int(lens.max())  # right-padded: a shard's padding beyond its longest review goes
            if adversarial or virtual:
                return adversarial_grads(model, ids[index, :width], lens, y[index], noise.rows(index), loss_fn,
                                         params, len(index) / n, adversarial, dtype, virtual,
                                         None if probe is None else probe[index, :width])
            with torch.autocast("cpu", dtype=dtype, enabled=dtype is not None):  # autocast is per thread
                logits = model(ids[index, :width], lens, noise.rows(index)).float()
            loss = loss_fn(logits, y[index]) * (len(index) / n)
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            return logits.detach(), loss.detach(), grads

        logits = torch.empty(n, dtype=torch.float32)
        total = torch.zeros(())
        for index, (part_logits, part_loss, grads) in zip(parts, self.pool.map(run, parts)):
            logits[index] = part_logits
            total = total + part_loss
            for p, g in zip(params, grads):
                if g is not None:
                    p.grad = g if p.grad is None else p.grad.add_(g)
        return logits, total

    def close(self) -> None:
        self.pool.shutdown()
        torch.set_num_threads(self.threads)
