"""Batches of id sequences: length-bucketed for training, length-sorted for inference, so
that the padding computed and thrown away stays a few percent of the work."""
from __future__ import annotations

from contextlib import nullcontext
from typing import TYPE_CHECKING, Iterator, Sequence

import numpy as np

from sentiment_lab.text.tokenizer import pad_batch

if TYPE_CHECKING:
    import torch


def bucket_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator,
                   pool: int = 64) -> list[np.ndarray]:
    """Shuffled batches of similar lengths: shuffle, sort within pools of `pool` batches,
    cut, shuffle the batch order. Randomness stays; padding mostly goes."""
    order = rng.permutation(len(lengths))
    batches = []
    span = batch_size * pool
    for start in range(0, len(order), span):
        chunk = order[start:start + span]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def collate(seqs: Sequence[np.ndarray], idx: np.ndarray, device: "torch.device") -> tuple["torch.Tensor", "torch.Tensor"]:
    import torch

    ids, lengths = pad_batch([seqs[i] for i in idx])
    return torch.from_numpy(ids).to(device), torch.from_numpy(lengths).to(device)


def sorted_batches(seqs: Sequence[np.ndarray], batch_size: int) -> Iterator[np.ndarray]:
    """Index batches in length order (inference: every batch is nearly padding-free)."""
    order = np.argsort(np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs)), kind="stable")
    for i in range(0, len(order), batch_size):
        yield order[i:i + batch_size]


def inference_batch_size(device: "torch.device | str") -> int:
    """Reviews per inference batch when none is given: 64 on a CPU, 512 on an accelerator.
    On a CPU smaller batches run faster per review, as a batch's activations stay in cache.
    5,000 IMDB test reviews on 2 cores (benchmarks/results/inference_batch_cpu.json): the
    shipped BiLSTM(128) 782 reviews/s at 64, 703 at 128, 625 at 256, 574 at 512; the seed
    LSTM(64) 7,228 at 64, 7,290 at 128, 5,759 at 512."""
    return 64 if str(device).startswith("cpu") else 512


def predict_logits(model: "torch.nn.Module", seqs: Sequence[np.ndarray], batch_size: int,
                   device: "torch.device", dtype: "torch.dtype | None" = None) -> np.ndarray:
    """Logits for every sequence, in input order (batch_size 0: inference_batch_size)."""
    import torch

    batch_size = batch_size or inference_batch_size(device)
    with torch.inference_mode():
        return _predict_logits(model, seqs, batch_size, device, dtype)


def _predict_logits(model: "torch.nn.Module", seqs: Sequence[np.ndarray], batch_size: int,
                    device: "torch.device", dtype: "torch.dtype | None") -> np.ndarray:
    import torch

    was_training = model.training
    model.eval()
    out = np.empty(len(seqs), dtype=np.float32)
    autocast = torch.autocast(device.type, dtype=dtype) if dtype is not None else nullcontext()
    with autocast:
        for idx in sorted_batches(seqs, batch_size):
            ids, lengths = collate(seqs, idx, device)
            out[idx] = model(ids, lengths).float().cpu().numpy()
    model.train(was_training)
    return out

