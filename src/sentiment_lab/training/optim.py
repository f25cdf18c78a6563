"""The optimiser's side of a step, shared by classification training and LM pretraining:
the learning-rate schedule, gradient clipping, and the weight average that is validated and
kept when `train.ema` is on."""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch.optim.swa_utils import AveragedModel


def lr_factor(schedule: str, step: int, total: float) -> float:
    """Multiplier of the base learning rate at optimizer step `step` of `total` planned:
    constant, or a decay to zero (linear or cosine) that lets the last steps settle."""
    if schedule == "constant" or total <= 0:
        return 1.0
    progress = min(step / total, 1.0)
    if schedule == "linear":
        return 1.0 - progress
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def optimizer_step(opt: torch.optim.Optimizer, params, grad_clip: float, lr: float) -> None:
    """Clip the gradients (when grad_clip > 0), set this step's learning rate, step."""
    if grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(params, grad_clip)
    for group in opt.param_groups:
        group["lr"] = lr
    opt.step()


def ema_multi_avg_fn(decay: float) -> Callable[[list[torch.Tensor], list[torch.Tensor], torch.Tensor], None]:
    """An exponential moving average that starts as the plain mean of the steps so far
    (decay n/(n+1) until that reaches `decay`). A fixed decay from the first step would keep
    most of the random initial weights in short runs: 0.99 over 40 steps leaves 67% of them,
    and the model predicts at chance. All tensors of a device in one foreach call, so the
    step count is read from the device once per step, not once per parameter (a CUDA sync)."""
    def avg(averaged: list[torch.Tensor], current: list[torch.Tensor], num_averaged: torch.Tensor) -> None:
        n = float(num_averaged)
        d = min(decay, n / (n + 1.0))
        torch._foreach_lerp_(averaged, current, 1.0 - d)
    return avg


class WeightAverage:
    """The weights that are validated, selected and shipped: an exponential average of the
    steps' weights when `decay` > 0 (it sits nearer the middle of the loss valley than the last
    step, which small-batch noise keeps moving), else the model itself. `.kept` is that module;
    `update` does nothing when off, so the loop has no branch for it."""

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        self.averaged = AveragedModel(model, multi_avg_fn=ema_multi_avg_fn(decay), use_buffers=True) if decay else None
        self.kept = self.averaged.module if self.averaged is not None else model

    def update(self, model: torch.nn.Module) -> None:
        if self.averaged is not None:
            self.averaged.update_parameters(model)
