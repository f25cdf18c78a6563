"""One training step's forward and backward, chosen once per run: plain, adversarial (on
the input vectors), or split across CPU threads. Each is a callable with one signature,
`(ids, lengths, y) -> (logits, loss)`, that leaves the batch's gradients in .grad, so the
loop has no branch for the choice."""
from __future__ import annotations

from typing import Callable, Protocol

import torch
from torch import nn

from sentiment_lab.training.adversarial import adversarial_backward
from sentiment_lab.training.cpu_shards import ShardedStep


class TrainStep(Protocol):
    def __call__(self, ids: torch.Tensor, lengths: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...

    def close(self) -> None: ...


LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class PlainStep:
    """Forward (under autocast when `dtype` is set) and backward through `net` (DDP or the model)."""

    def __init__(self, net: nn.Module, loss_fn: LossFn, dtype: torch.dtype | None) -> None:
        self.net, self.loss_fn, self.dtype = net, loss_fn, dtype

    def __call__(self, ids: torch.Tensor, lengths: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.autocast(ids.device.type, dtype=self.dtype, enabled=self.dtype is not None):
            logits = self.net(ids, lengths).float()
        loss = self.loss_fn(logits, y)
        loss.backward()
        return logits, loss

    def close(self) -> None:
        pass


class AdversarialStep(PlainStep):
    """The clean loss plus (virtual) adversarial losses on perturbed input vectors (adversarial.py)."""

    def __init__(self, net: nn.Module, model: nn.Module, loss_fn: LossFn, dtype: torch.dtype | None,
                 adversarial: float, virtual: float) -> None:
        super().__init__(net, loss_fn, dtype)
        self.model, self.adversarial, self.virtual = model, adversarial, virtual

    def __call__(self, ids: torch.Tensor, lengths: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return adversarial_backward(self.net, self.model, ids, lengths, y, self.loss_fn, self.adversarial, self.dtype,
                                    self.virtual)


class SplitStep(PlainStep):
    """The batch split across `shards` CPU threads (cpu_shards.py), adversarial losses included."""

    def __init__(self, model: nn.Module, loss_fn: LossFn, dtype: torch.dtype | None, shards: int,
                 adversarial: float, virtual: float) -> None:
        super().__init__(model, loss_fn, dtype)
        self.model, self.adversarial, self.virtual = model, adversarial, virtual
        self.sharded = ShardedStep(shards)

    def __call__(self, ids: torch.Tensor, lengths: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.sharded(self.model, ids, lengths, y, self.loss_fn, self.dtype, self.adversarial, self.virtual)

    def close(self) -> None:
        self.sharded.close()


def make_train_step(net: nn.Module, model: nn.Module, loss_fn: LossFn, dtype: torch.dtype | None, shards: int,
                    adversarial: float, virtual: float) -> TrainStep:
    """The run's step: split when `shards` > 1 (cpu_shards.shard_count decides), else
    adversarial when either size is set, else plain."""
    if shards > 1:
        return SplitStep(model, loss_fn, dtype, shards, adversarial, virtual)
    if adversarial or virtual:
        return AdversarialStep(net, model, loss_fn, dtype, adversarial, virtual)
    return PlainStep(net, loss_fn, dtype)
