"""Language-model pretraining of a classifier's own word vectors and recurrent layers on the
training texts, before the classifier is trained (Dai & Le 2015, "Semi-supervised sequence
learning"; here on the training split's texts only: no unlabeled reviews, no outside corpus).

Why: a sentiment label is one bit per review; predicting every next word gives the same LSTM
hundreds of training signals per review, about syntax, negation scope and which words behave
alike, before it sees a label. The classifier then starts from those weights.

How: the network runs over each review as it will in classification (same input dropout and
DropConnect masks), and its last layer's outputs predict words: the left-to-right direction's
output at step t predicts token t+1; for a bidirectional network the right-to-left direction's
output at step t predicts token t-1. A full softmax over the vocabulary would cost more than the
LSTM itself on a CPU, so each step uses a sampled softmax (Jean et al. 2015): the true word
against NEGATIVES words drawn for the whole batch from the unigram distribution raised to 0.75,
each logit corrected by the log of its expected count in the sample. AWD-LSTM's activation penalty
(+ 2 x mean h^2) keeps the outputs away from saturation: without it, 80% of them ended above 0.9 in
magnitude after one epoch on IMDB and the classifier then sat at chance for an epoch.

What it trains: the word vectors and the recurrent layers (the pooling, the output layer and the
bag-of-n-grams term keep their initial values for the classifier). The hashed n-gram vectors are frozen at their
initial zeros, because the bigram vector at step t is built from token t-1, which the
right-to-left direction has to predict there: training it would leak the answer.

The output word tables exist only during pretraining and are not kept. Under torchrun each
process pretrains the same way and DDP then broadcasts rank 0's weights.
"""
from __future__ import annotations

import math
import time
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from sentiment_lab.models.rnn import RNNClassifier, real_steps
from sentiment_lab.text.batching import bucket_batches, collate
from sentiment_lab.training.optim import lr_factor, optimizer_step

NEGATIVES = 256  # sampled words per step, shared by the batch (1,024 made a step 2.5x slower on 2 cores)
UNIGRAM_POWER = 0.75  # word2vec's smoothing of the sampling distribution
ACTIVATION_PENALTY = 2.0  # AWD-LSTM's activation regularisation (Merity et al. 2018): alpha * mean(h^2)


def sampling_log_q(seqs: Sequence[np.ndarray], vocab_size: int) -> torch.Tensor:
    """log of each word's sampling probability (V,), from the training texts' counts ^ 0.75;
    ids that never occur (e.g. [PAD]) get -inf and are never drawn."""
    counts = np.bincount(np.concatenate(list(seqs)) if len(seqs) else np.zeros(0, np.int64), minlength=vocab_size)
    counts[0] = 0  # [PAD] is never a target
    p = counts.astype(np.float64) ** UNIGRAM_POWER
    with np.errstate(divide="ignore"):
        return torch.from_numpy(np.log(p / p.sum())).float()


def sampled_softmax_loss(h: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                         negatives: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the true word (N,) against the sampled ones (K,), for outputs h (N, H).
    Logits are corrected by log(K q(w)), so the loss approximates the full softmax's; a sampled word
    equal to a position's target is masked out for that position."""
    k = negatives.numel()
    correction = math.log(k)
    true = (h * weight[target]).sum(-1) + bias[target] - log_q[target] - correction  # (N,)
    other = h @ weight[negatives].T + bias[negatives] - log_q[negatives] - correction  # (N, K)
    other = other.masked_fill(negatives[None, :] == target[:, None], float("-inf"))
    logits = torch.cat([true[:, None], other], dim=1)
    return nn.functional.cross_entropy(logits, torch.zeros_like(target))


class LanguageModelHeads(nn.Module):
    """One output word table and bias per direction: what each direction's outputs are scored
    against. Discarded after pretraining."""

    def __init__(self, vocab_size: int, hidden_size: int, directions: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(directions, vocab_size, hidden_size).uniform_(-0.05, 0.05))
        self.bias = nn.Parameter(torch.zeros(directions, vocab_size))


def lm_loss(model: RNNClassifier, heads: LanguageModelHeads, ids: torch.Tensor, lengths: torch.Tensor,
            log_q: torch.Tensor, negatives: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(the language-model loss of one batch (B, T) against the sampled words `negatives` (K,),
    averaged over the directions; the mean square of the outputs at its real steps, after output
    dropout in training as in AWD-LSTM, which pretraining penalises). `log_q` (V,) is on the
    batch's device."""
    noise = model.sample_noise(ids.size(0)) if model.training else None
    out = model.outputs(ids, lengths, noise)  # (B, T, D)
    if noise is not None and noise.output is not None:
        out = out * noise.output[:, None, :]  # the classifier's output dropout, one mask per review
    hidden = model.cfg.hidden_size
    ahead = real_steps(lengths - 1, ids.size(1) - 1, ids.device)  # steps t with a token t+1
    losses = [sampled_softmax_loss(out[:, :-1, :hidden][ahead], ids[:, 1:][ahead],
                                   heads.weight[0], heads.bias[0], negatives, log_q)]
    if model.cfg.bidirectional:  # step t (t >= 1) predicts token t-1; same mask, shifted by one
        losses.append(sampled_softmax_loss(out[:, 1:, hidden:][ahead], ids[:, :-1][ahead],
                                           heads.weight[1], heads.bias[1], negatives, log_q))
    penalty = out[real_steps(lengths, ids.size(1), ids.device)].pow(2).mean()
    return torch.stack(losses).mean(), penalty


def pretrain(model: RNNClassifier, seqs: Sequence[np.ndarray], epochs: int, lr: float, batch_size: int,
             rng: np.random.Generator, device: torch.device, grad_clip: float = 1.0,
             max_steps: int | None = None, log: Callable[[str], None] = print) -> list[dict[str, float]]:
    """Train `model`'s word vectors and recurrent layers as language models over `seqs` (token id
    arrays of the training texts) for `epochs`, Adam at `lr` decayed linearly to zero. Returns one
    row per epoch (mean sampled-softmax loss, seconds)."""
    if model.ngrams is not None and bool(model.ngrams.table.weight.detach().any()):
        raise ValueError("language-model pretraining needs the n-gram vectors at zero (they would leak "
                         "the right-to-left direction's target); pretrain before any other training")
    directions = 2 if model.cfg.bidirectional else 1
    heads = LanguageModelHeads(model.embedding.num_embeddings, model.cfg.hidden_size, directions).to(device)
    params = [p for p in [*model.embedding.parameters(), *model.rnn.parameters()] if p.requires_grad]
    opt = torch.optim.Adam(params + list(heads.parameters()), lr=lr)
    log_q = sampling_log_q(seqs, model.embedding.num_embeddings)
    probs, log_q = log_q.exp(), log_q.to(device)  # drawn from on the CPU, scored on the device
    generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    usable = np.flatnonzero(lengths >= 2)  # a one-token review has nothing to predict
    planned = epochs * math.ceil(len(usable) / batch_size)
    if max_steps:
        planned = min(planned, max_steps)
    history, step = [], 0
    model.train()
    for epoch in range(1, epochs + 1):
        t0, total, squares, count = time.perf_counter(), 0.0, 0.0, 0
        for idx in bucket_batches(lengths[usable], batch_size, rng):
            ids, lens = collate(seqs, usable[idx], device)
            negatives = torch.multinomial(probs, NEGATIVES, replacement=True, generator=generator).to(device)
            loss, square = lm_loss(model, heads, ids, lens, log_q, negatives)
            opt.zero_grad(set_to_none=True)
            (loss + ACTIVATION_PENALTY * square).backward()
            optimizer_step(opt, params, grad_clip, lr * lr_factor("linear", step, planned))
            step += 1
            total, squares, count = total + loss.item(), squares + square.item(), count + 1
            if step >= planned:
                break
        history.append({"epoch": epoch, "lm_loss": total / max(count, 1), "mean_square_output": squares / max(count, 1),
                        "s": time.perf_counter() - t0})
        log(f"language-model pretraining, epoch {epoch}: sampled loss {history[-1]['lm_loss']:.3f}, "
            f"mean square output {history[-1]['mean_square_output']:.3f} ({history[-1]['s']:.1f}s)")
        if step >= planned:
            break
    model.zero_grad(set_to_none=True)
    return history
