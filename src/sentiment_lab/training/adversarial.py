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

Virtual adversarial training (`virtual`, the paper's best IMDB result: 5.91% error against 6.21%
for adversarial training) needs no label: the step is the direction that changes the model's own
prediction the most, found by one power iteration (a probe step of XI * ||x|| in a random
direction, then the gradient of the KL divergence there), and the added loss is the KL divergence
between the clean prediction and the prediction at that step. It costs two more passes, not one.
For two classes the KL divergence from p = sigmoid(clean logit) is the cross-entropy with p as a
soft target, minus p's entropy, which has no gradient: the code uses the cross-entropy.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from sentiment_lab.models.rnn import Noise, real_steps

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
# The power iteration's probe step, relative to ||x|| like epsilon. The paper's 1e-6 (on normalised
# embeddings) is a finite difference; in fp32 a change of the logit that small is rounding noise.
# 1e-3 is 50x shorter than the adversarial step of 5% and still moves the logit measurably.
XI = 1e-3


def probe_directions(model: nn.Module, ids: torch.Tensor, virtual: float) -> torch.Tensor | None:
    """VAT's random start directions, drawn once per batch by the calling thread (after the
    dropout masks), so that a batch split across threads uses the rows the whole batch would."""
    return torch.randn(*ids.shape, model.rnn.input_size, device=ids.device) if virtual else None


def _zero_perturbation(model: nn.Module, ids: torch.Tensor) -> torch.Tensor:
    """A zero perturbation that requires a gradient: the gradient of the loss with respect to it
    is the gradient with respect to the input vectors."""
    return torch.zeros(*ids.shape, model.rnn.input_size, device=ids.device, requires_grad=True)


def _logits(net: nn.Module, ids: torch.Tensor, lengths: torch.Tensor, noise: Noise | None,
            perturb: torch.Tensor, dtype: torch.dtype | None) -> torch.Tensor:
    """fp32 logits of the perturbed inputs, under autocast when a lower precision is set (a
    float64 model, the tests' exact reference, keeps its float64 logits)."""
    with torch.autocast(ids.device.type, dtype=dtype, enabled=dtype is not None):
        out = net(ids, lengths, noise, perturb)
    return out if out.dtype == torch.float64 else out.float()


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


def virtual_perturbation(model: nn.Module, ids: torch.Tensor, lengths: torch.Tensor, noise: Noise | None,
                         logits: torch.Tensor, probe: torch.Tensor, epsilon: float,
                         dtype: torch.dtype | None = None) -> torch.Tensor:
    """VAT's step: epsilon * ||x|| per review, in the direction (from one power iteration started
    at `probe`) in which the prediction moves away from the clean `logits` the fastest.
    Runs `model` itself, not a DDP wrapper: this pass must not reduce gradients across processes."""
    r = perturbation(model, ids, lengths, probe, XI).requires_grad_(True)
    target = torch.sigmoid(logits.detach())
    kl = F.binary_cross_entropy_with_logits(_logits(model, ids, lengths, noise, r, dtype), target, reduction="sum")
    g, = torch.autograd.grad(kl, r)
    return perturbation(model, ids, lengths, g, epsilon)


def _virtual_loss(net: nn.Module, model: nn.Module, ids: torch.Tensor, lengths: torch.Tensor, noise: Noise | None,
                  logits: torch.Tensor, probe: torch.Tensor, epsilon: float, dtype: torch.dtype | None) -> torch.Tensor:
    """KL(clean prediction || prediction at VAT's step), up to a constant without gradient (see
    above), the prediction at the step made by `net` (which may wrap `model`)."""
    r = virtual_perturbation(model, ids, lengths, noise, logits, probe, epsilon, dtype)
    return F.binary_cross_entropy_with_logits(_logits(net, ids, lengths, noise, r, dtype),
                                              torch.sigmoid(logits.detach()))


def adversarial_grads(model: nn.Module, ids: torch.Tensor, lengths: torch.Tensor, y: torch.Tensor,
                      noise: Noise, loss_fn: LossFn, params: Sequence[torch.Tensor], weight: float,
                      epsilon: float, dtype: torch.dtype | None = None, virtual: float = 0.0,
                      probe: torch.Tensor | None = None
                      ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor | None, ...]]:
    """(logits, weighted clean loss, gradients of the weighted clean + adversarial + virtual
    adversarial losses), by torch.autograd.grad: for the threads of cpu_shards.py, which must not
    write .grad. `probe` holds VAT's start directions for these rows (probe_directions)."""
    delta = _zero_perturbation(model, ids)
    logits = _logits(model, ids, lengths, noise, delta, dtype)
    loss = loss_fn(logits, y) * weight
    *total, g = torch.autograd.grad(loss, [*params, delta], allow_unused=True)
    extra = []
    if epsilon:
        r = perturbation(model, ids, lengths, g, epsilon)
        extra.append(loss_fn(_logits(model, ids, lengths, noise, r, dtype), y) * weight)
    if virtual:
        extra.append(_virtual_loss(model, model, ids, lengths, noise, logits, probe, virtual, dtype) * weight)
    for more in extra:
        grads = torch.autograd.grad(more, params, allow_unused=True)
        total = [a if b is None else b if a is None else a + b for a, b in zip(total, grads)]
    return logits.detach(), loss.detach(), tuple(total)


def adversarial_backward(net: nn.Module, model: nn.Module, ids: torch.Tensor, lengths: torch.Tensor,
                         y: torch.Tensor, loss_fn: LossFn, epsilon: float,
                         dtype: torch.dtype | None = None, virtual: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The same step through .backward(), for one process or DDP (`net` may wrap `model`; DDP
    averages gradients in backward hooks, which autograd.grad skips). Returns (logits, clean
    loss); .grad holds the clean + adversarial + virtual adversarial gradients."""
    noise = model.sample_noise(ids.size(0))
    probe = probe_directions(model, ids, virtual)
    delta = _zero_perturbation(model, ids)
    logits = _logits(net, ids, lengths, noise, delta, dtype)
    loss = loss_fn(logits, y)
    loss.backward()
    if epsilon:
        r = perturbation(model, ids, lengths, delta.grad, epsilon)
        loss_fn(_logits(net, ids, lengths, noise, r, dtype), y).backward()
    if virtual:
        _virtual_loss(net, model, ids, lengths, noise, logits, probe, virtual, dtype).backward()
    return logits.detach(), loss.detach()
