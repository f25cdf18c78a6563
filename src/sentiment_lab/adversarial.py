"""Adversarial training on the input vectors (Miyato, Dai & Goodfellow 2017, "Adversarial
training methods for semi-supervised text classification"): each step adds a second loss on
the same batch, with every review's input vectors (word, and n-gram when configured) moved a
small step in the direction that raises that review's loss the most. The model learns to keep
its decision when a few words' vectors drift a little, which the paper found to regularise
LSTMs on IMDB better than random noise or dropout alone.

The step's length is relative: e * ||x|| per review, x being the review's input vectors at its
real tokens. The paper instead normalises the embeddings and uses a fixed length; without one
or the other a model could make any fixed step negligible by growing its embeddings. As in the
paper, the direction is a constant (no gradient flows through it), so a step costs one more
forward and backward pass: about twice the time.

The same dropout masks serve both passes, so the perturbation is adversarial for the network
that is trained. Per review, the direction depends only on that review's loss, so a batch split
across threads (cpu_shards.py) perturbs each review exactly as the whole batch would.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

from sentiment_lab.models.rnn import Noise, real_steps

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _zero_perturbation(model: nn.Module, ids: torch.Tensor) -> torch.Tensor:
    """A zero perturbation that requires a gradient: the gradient of the loss with respect to it
    is the gradient with respect to the input vectors."""
    return torch.zeros(*ids.shape, model.rnn.input_size, device=ids.device, requires_grad=True)


def _logits(net: nn.Module, ids: torch.Tensor, lengths: torch.Tensor, noise: Noise | None,
            perturb: torch.Tensor, dtype: torch.dtype | None) -> torch.Tensor:
    """fp32 logits of the perturbed inputs, under autocast when a lower precision is set."""
    with torch.autocast(ids.device.type, dtype=dtype, enabled=dtype is not None):
        return net(ids, lengths, noise, perturb).float()


def perturbation(model: nn.Module, ids: torch.Tensor, lengths: torch.Tensor, grad: torch.Tensor,
                 epsilon: float) -> torch.Tensor:
    """r = epsilon * ||x|| * g / ||g||, per review, norms over its real tokens' input vectors.
    A review whose gradient is zero (e.g. all its inputs dropped) gets no perturbation."""
    with torch.no_grad():
        mask = real_steps(lengths, ids.size(1), ids.device)[..., None]
        x_norm = (model.embed(ids) * mask).float().flatten(1).norm(dim=1)
        g = grad * mask
        scale = epsilon * x_norm / g.flatten(1).norm(dim=1).clamp_min(1e-30)  # finite: a zero g stays zero
        return g * scale[:, None, None]


def adversarial_grads(model: nn.Module, ids: torch.Tensor, lengths: torch.Tensor, y: torch.Tensor,
                      noise: Noise, loss_fn: LossFn, params: Sequence[torch.Tensor], weight: float,
                      epsilon: float, dtype: torch.dtype | None = None
                      ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor | None, ...]]:
    """(logits, weighted clean loss, gradients of the weighted clean + adversarial loss), by
    torch.autograd.grad: for the threads of cpu_shards.py, which must not write .grad."""
    delta = _zero_perturbation(model, ids)
    logits = _logits(model, ids, lengths, noise, delta, dtype)
    loss = loss_fn(logits, y) * weight
    *grads, g = torch.autograd.grad(loss, [*params, delta], allow_unused=True)
    r = perturbation(model, ids, lengths, g, epsilon)
    adv_loss = loss_fn(_logits(model, ids, lengths, noise, r, dtype), y) * weight
    adv = torch.autograd.grad(adv_loss, params, allow_unused=True)
    total = tuple(a if b is None else b if a is None else a + b for a, b in zip(grads, adv))
    return logits.detach(), loss.detach(), total


def adversarial_backward(net: nn.Module, model: nn.Module, ids: torch.Tensor, lengths: torch.Tensor,
                         y: torch.Tensor, loss_fn: LossFn, epsilon: float,
                         dtype: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The same step through .backward() (twice), for one process or DDP (`net` may wrap
    `model`; DDP averages gradients in backward hooks, which autograd.grad skips).
    Returns (logits, clean loss); .grad holds the clean + adversarial gradients."""
    noise = model.sample_noise(ids.size(0))
    delta = _zero_perturbation(model, ids)
    logits = _logits(net, ids, lengths, noise, delta, dtype)
    loss = loss_fn(logits, y)
    loss.backward()
    r = perturbation(model, ids, lengths, delta.grad, epsilon)
    loss_fn(_logits(net, ids, lengths, noise, r, dtype), y).backward()
    return logits.detach(), loss.detach()
