"""One way to run a network over many id sequences, whatever runs it.

A *runner* answers `predict_logits(seqs, batch_size=0) -> np.ndarray`: the positive-class
logit (float32) of every id sequence, in input order. The PyTorch model (`TorchRunner`), the
NumPy twin (`numpy_backend.NumpyRNN`) and onnxruntime (`onnx_backend.OnnxRNN`) are runners,
each over `sorted_batch_logits`: sequences sorted by length, cut into batches, each batch
padded only to its longest sequence, so that the padding computed and thrown away stays a few
percent of the work. `SentimentClassifier` holds one runner and never asks which.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence

import numpy as np

from sentiment_lab.text.batching import inference_batch_size, sorted_batches
from sentiment_lab.text.tokenizer import pad_batch

if TYPE_CHECKING:
    import torch


class Runner(Protocol):
    def predict_logits(self, seqs: Sequence[np.ndarray], batch_size: int = 0) -> np.ndarray:
        """Logits (N,) float32 of N id sequences, in input order (batch_size 0: the runner's own)."""
        ...


def sorted_batch_logits(seqs: Sequence[np.ndarray], batch_size: int,
                        forward: Callable[[np.ndarray, np.ndarray], Any]) -> np.ndarray:
    """`forward(ids (B, T), lengths (B,))` over length-sorted, per-batch-padded batches of `seqs`;
    the logits back in input order, as float32."""
    out = np.empty(len(seqs), dtype=np.float32)
    for idx in sorted_batches(seqs, batch_size):
        ids, lengths = pad_batch([seqs[i] for i in idx])
        out[idx] = forward(ids, lengths)
    return out


class TorchRunner:
    """A PyTorch RNNClassifier as a runner, on its device (batch_size 0: 64 reviews on a CPU,
    512 on an accelerator; see text.batching.inference_batch_size)."""

    def __init__(self, model: "torch.nn.Module", device: "torch.device | str" = "cpu") -> None:
        self.model = model
        self.device = device

    def to(self, device: "torch.device") -> "TorchRunner":
        self.model.to(device)
        self.device = device
        return self

    def predict_logits(self, seqs: Sequence[np.ndarray], batch_size: int = 0) -> np.ndarray:
        import torch

        device = torch.device(self.device)
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode():
                return sorted_batch_logits(seqs, batch_size or inference_batch_size(device),
                                           lambda ids, lengths: self._forward(ids, lengths, device))
        finally:
            self.model.train(was_training)

    def _forward(self, ids: np.ndarray, lengths: np.ndarray, device: "torch.device") -> np.ndarray:
        import torch

        return self.model(torch.from_numpy(ids).to(device), torch.from_numpy(lengths).to(device)).float().cpu().numpy()
