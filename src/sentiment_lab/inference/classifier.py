"""SentimentClassifier: the one object every command predicts through.

    clf = SentimentClassifier.from_pretrained("runs/seed/bundle")   # or () for the shipped model
    clf("What a great film")        -> {"label": "positive", "score": 0.97}
    clf(["great", "awful"])         -> [{...}, {...}]
    clf.predict_proba(texts)        -> array (N, 2): P(negative), P(positive)

`score` is the probability of the predicted label, so it is always >= 0.5.

backend="torch" (default) runs the PyTorch model (CPU or GPU, batched); backend="numpy"
runs the same weights through runtime.NumpyRNN without importing torch: the CLI uses it to
score a few sentences with a fast cold start. backend="onnx" runs the bundle's exported
model.onnx through onnxruntime ("onnx-int8": its dynamic-int8 model.int8.onnx; both made by
`sentiment-lab export`), also without torch. backend="auto" picks "onnx" when onnxruntime is
installed, the bundle holds a current model.onnx and the device is the CPU, else "torch":
onnxruntime measured the fastest on CPU both in batches and for one sentence
(benchmarks/results/onnx_cpu.json).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence, overload

import numpy as np

from sentiment_lab.inference.bundle import LABELS, default_bundle, load_pretrained
from sentiment_lab.exceptions import ConfigError
from sentiment_lab.text.tokenizer import check_labels, check_text, check_texts


BACKENDS = ("torch", "numpy", "onnx", "onnx-int8", "auto")


class SentimentClassifier:
    """A trained bundle ready to classify: PyTorch, NumPy or onnxruntime behind one interface
    (see the module docstring). Build it with `from_pretrained`."""

    def __init__(self, model: Any, encoder: Any, config: Any, meta: dict[str, Any],
                 batch_size: int = 0, backend: str = "torch") -> None:
        self.model = model
        self.encoder = encoder
        self.config = config
        self.meta = meta
        self.batch_size = batch_size
        self.backend = backend
        self.device: Any = "cpu"
        self.path: Path | None = None  # the bundle directory, set by from_pretrained

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, device: str = "cpu",
                        backend: str = "torch") -> "SentimentClassifier":
        """Load a bundle (a `bundle/` folder from `train`, or None for the shipped model); its
        checksums are verified first. `device` applies to the torch backend."""
        if backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, not {backend!r}")
        path = Path(path) if path is not None else default_bundle()
        if backend == "auto":
            from sentiment_lab.inference.onnx_backend import exported_file, onnxruntime_available

            onnx_ok = str(device) == "cpu" and onnxruntime_available() and exported_file(path) is not None
            backend = "onnx" if onnx_ok else "torch"
        if backend in ("onnx", "onnx-int8"):
            from sentiment_lab.inference.onnx_backend import load_onnx

            model, encoder, cfg, meta = load_onnx(path, "int8" if backend == "onnx-int8" else "fp32")
        else:
            model, encoder, cfg, meta = load_pretrained(path, backend)
        clf = cls(model, encoder, cfg, meta, backend=backend)
        clf.path = path  # where it came from: explain reloads a PyTorch copy for a numpy-backend classifier
        return clf.to(device) if backend == "torch" else clf

    def to(self, device: "str | Any") -> "SentimentClassifier":
        """Move the PyTorch model to `device` (cpu, cuda, cuda:N, mps)."""
        import torch

        if self.backend != "torch":
            raise ConfigError(f"the {self.backend} backend runs on the CPU only")
        try:
            dev = torch.device(device)
        except (RuntimeError, TypeError):
            raise ConfigError(f"unknown device {device!r}; use cpu, cuda, cuda:N or mps") from None
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError(f"device {device!r}: no CUDA device is available")
        if dev.type == "mps" and not torch.backends.mps.is_available():
            raise ConfigError(f"device {device!r}: MPS is not available")
        self.device = dev
        self.model.to(self.device)
        return self

    def _logits(self, texts: Sequence[str]) -> np.ndarray:
        seqs = self.encoder.encode(check_texts(texts))
        if self.backend != "torch":  # NumPy and onnxruntime runtimes share predict_logits
            return self.model.predict_logits(seqs)
        from sentiment_lab.text.batching import predict_logits

        return predict_logits(self.model, seqs, self.batch_size, self.device)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(N, 2) probabilities, columns in `labels` order: negative, positive."""
        p = 1 / (1 + np.exp(-self._logits(texts).astype(np.float64)))
        return np.stack([1 - p, p], axis=1)

    def predict(self, texts: Sequence[str]) -> list[str]:
        """"positive" or "negative" for each text of a list."""
        return [LABELS[int(p >= 0.5)] for p in self.predict_proba(texts)[:, 1]]

    def score(self, texts: Sequence[str], labels: Sequence[int]) -> float:
        """Accuracy against 0/1 labels (scikit-learn's `score` convention)."""
        texts = check_texts(texts)
        y = check_labels(labels, len(texts))
        return float(np.mean((self.predict_proba(texts)[:, 1] >= 0.5) == y))

    @overload
    def __call__(self, texts: str) -> dict[str, Any]: ...
    @overload
    def __call__(self, texts: Sequence[str]) -> list[dict[str, Any]]: ...

    def __call__(self, texts):
        single = isinstance(texts, (str, bytes))
        batch = [texts] if single else check_texts(texts)
        p = self.predict_proba(batch)[:, 1]
        out = [{"label": LABELS[int(q >= 0.5)], "score": float(max(q, 1 - q))} for q in p]
        return out[0] if single else out

    def unknown_words(self, text: str) -> list[str]:
        """The words of `text` that the vocabulary does not know (read as [UNK])."""
        return self.encoder.unknown_words(check_text(text))

    def __repr__(self) -> str:
        m = self.config.model
        where = self.path.name if self.path is not None else "?"
        return (f"SentimentClassifier({where!r}, {m.arch}{' bidirectional' if m.bidirectional else ''}, "
                f"{m.num_layers}x{m.hidden_size}, pooling={m.pooling}, vocab={self.encoder.vocab_size:,}, "
                f"max_len={self.encoder.max_len}, backend={self.backend!r})")

    @property
    def labels(self) -> list[str]:
        return list(LABELS)
