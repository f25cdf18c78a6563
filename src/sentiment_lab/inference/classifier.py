"""SentimentClassifier: the one object every command predicts through.

    clf = SentimentClassifier.from_pretrained("runs/seed/bundle")   # or "imdb", or () for the default shipped model
    clf("What a great film")        -> {"label": "positive", "score": 0.97}
    clf(["great", "awful"])         -> [{...}, {...}]
    clf.predict_proba(texts)        -> array (N, 2): P(negative), P(positive)

`score` is the probability of the predicted label, so it is always >= 0.5. The calls above
come from inference/mixin.py (shared with the baselines); this class adds loading, saving and
`_p_positive`: tokenize, run the backend's runner (inference/runners.py), sigmoid.

backend="torch" (default) runs the PyTorch model (CPU or GPU, batched); backend="numpy"
runs the same weights through numpy_backend.NumpyRNN without importing torch: the CLI uses it to
score a few sentences with a fast cold start. backend="onnx" runs the bundle's exported
model.onnx through onnxruntime ("onnx-int8": its dynamic-int8 model.int8.onnx; both made by
`sentiment-lab export`), also without torch. backend="auto" picks "onnx" when onnxruntime is
installed, the bundle holds a current model.onnx and the device is the CPU, else "torch":
onnxruntime measured the fastest on CPU both in batches and for one sentence
(benchmarks/results/onnx_cpu.json). The names are `backends.Backend` (plain strings work too).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sentiment_lab.exceptions import ConfigError
from sentiment_lab.inference import backends
from sentiment_lab.inference.backends import BACKENDS, Backend
from sentiment_lab.inference.bundle import copy_bundle
from sentiment_lab.inference.shipped import default_bundle, resolve_model
from sentiment_lab.inference.mixin import ClassifierMixin
from sentiment_lab.text.language import language_note
from sentiment_lab.text.tokenizer import check_text, check_texts

__all__ = ["BACKENDS", "Backend", "SentimentClassifier", "default_bundle"]


class SentimentClassifier(ClassifierMixin):
    """A trained bundle ready to classify: PyTorch, NumPy or onnxruntime behind one interface
    (see the module docstring). Build it with `from_pretrained`."""

    def __init__(self, model: Any, encoder: Any, config: Any, meta: dict[str, Any],
                 batch_size: int = 0, backend: "Backend | str" = "torch") -> None:
        self.model = model
        self.encoder = encoder
        self.config = config
        self.meta = meta
        self.batch_size = batch_size  # reviews per batch; 0: the runner's own choice
        self.backend = backends.parse_backend(backend).value  # the name, a plain str ("torch", ...)
        self.runner = backends.runner_for(model, self.backend)  # predict_logits(seqs, batch_size)
        self.device: Any = "cpu"
        self.path: Path | None = None  # the bundle directory, set by from_pretrained

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, device: str = "cpu",
                        backend: "Backend | str" = "torch") -> "SentimentClassifier":
        """Load a bundle: a shipped model by name ("imdb", "general"), a folder (a `bundle/` from
        `train`; write "./imdb" for a folder named like a shipped model, or pass a Path), or None
        for the default shipped model (inference/shipped.py). Its checksums are verified first.
        `device` applies to the torch backend."""
        backends.parse_backend(backend)
        path = resolve_model(path)
        resolved = backends.resolve(backend, path, device)
        model, encoder, cfg, meta = backends.load(path, resolved)
        clf = cls(model, encoder, cfg, meta, backend=resolved)
        clf.path = path  # where it came from: explain reloads a PyTorch copy for a numpy-backend classifier
        return clf.to(device) if resolved is Backend.TORCH else clf

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write the bundle this classifier was loaded from into `directory` (new, empty or an
        older bundle), atomically: a copy of its verified files, ONNX exports included."""
        if self.path is None:
            raise ConfigError("this classifier has no bundle to save: it was not loaded with from_pretrained")
        return copy_bundle(self.path, directory, self.meta.get("sha256"))

    def to(self, device: "str | Any") -> "SentimentClassifier":
        """Move the PyTorch model to `device` (cpu, cuda, cuda:N, mps)."""
        import torch

        if self.backend != Backend.TORCH:
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
        self.runner.to(dev)
        return self

    def _logits(self, texts: Sequence[str]) -> np.ndarray:
        """Positive-class logits (float32) of a list of texts, in input order."""
        return self.runner.predict_logits(self.encoder.encode(check_texts(texts)), self.batch_size)

    def _p_positive(self, texts: list[str]) -> np.ndarray:
        """sigmoid(logit) in float64 (the mixin's hook; `texts` already checked)."""
        logits = self.runner.predict_logits(self.encoder.encode(texts), self.batch_size)
        return 1 / (1 + np.exp(-logits.astype(np.float64)))

    def unknown_words(self, text: str) -> list[str]:
        """The words of `text` that the vocabulary does not know (read as [UNK])."""
        return self.encoder.unknown_words(check_text(text))

    @property
    def language(self) -> str:
        """The language the model reads: "en" or "fr" (config text.language; "en" for bundles saved
        before that setting existed)."""
        return self.config.text.language

    @property
    def name(self) -> str:
        """The bundle's name as a user knows it: its folder, or the run's for a run's bundle/."""
        if self.path is None:
            return "the model"
        return self.path.parent.name if self.path.name == "bundle" else self.path.name

    def language_note(self, text: str) -> str | None:
        """One line when `text` looks written in another language than the model reads (a French
        review to an English model), else None. A note only: the text is still classified."""
        return language_note(check_text(text), self.language, self.name)

    def __repr__(self) -> str:
        m = self.config.model
        where = self.path.name if self.path is not None else "?"
        return (f"SentimentClassifier({where!r}, {m.arch}{' bidirectional' if m.bidirectional else ''}, "
                f"{m.num_layers}x{m.hidden_size}, pooling={m.pooling}, vocab={self.encoder.vocab_size:,}, "
                f"max_len={self.encoder.max_len}, backend={self.backend!r})")
