"""The classifiers behind the web API, and which one scores a batch of a given size.

Measured on this project's 2-core CPU with one thread each (benchmarks/bench_serve.py,
"backends_ms_per_forward" in benchmarks/results/serve_cpu.json, shipped BiLSTM): the NumPy
runtime scores one sentence in 1.36 ms against PyTorch's 2.42 ms (no dispatcher overhead),
two in 2.98 vs 3.05 ms, while PyTorch's fused LSTM wins from 4 sentences on (3.49 vs 3.73
ms; 19.9 vs 29.7 ms at 64). So backend="auto" keeps both: batches of up to
`small_batch` texts go to NumPy, larger ones to PyTorch. The two are tested to agree to
float rounding (tests/test_runtime.py), so a text gets the same answer whichever path the
batcher picked.

Explanations need gradients, so they run on a third, PyTorch copy of the network that only
the explain thread touches: Captum hooks the embedding layer during Integrated Gradients,
which would corrupt predictions running through the same module on the predict thread.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sentiment_lab.inference.backends import Backend
from sentiment_lab.inference.classifier import SentimentClassifier, default_bundle
from sentiment_lab.inference.postprocess import postprocess

SERVE_BACKENDS = tuple(b.value for b in (Backend.AUTO, Backend.NUMPY, Backend.TORCH, Backend.ONNX))
SMALL_BATCH = 2  # auto: NumPy up to this many texts, PyTorch above (measured crossover)


def default_threads() -> int:
    """Compute threads for the model: all cores but one, which the event loop needs to parse
    requests while a batch runs (on 2 cores: 1). More than 8 stop paying for small batches."""
    return max(1, min(8, (os.cpu_count() or 2) - 1))


class Engine:
    """Loads the bundle once and scores lists of texts (called on the worker thread only)."""

    def __init__(self, bundle: str | Path | None = None, backend: Backend | str = "auto",
                 small_batch: int = SMALL_BATCH) -> None:
        if backend not in SERVE_BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(SERVE_BACKENDS)}, not {backend!r}")
        backend = Backend(backend)
        self.path = Path(bundle) if bundle is not None else default_bundle()
        self.backend = backend.value
        self.small_batch = small_batch if backend is Backend.AUTO else 0
        if backend is Backend.AUTO:
            self.small = SentimentClassifier.from_pretrained(self.path, backend=Backend.NUMPY)
            self.large = SentimentClassifier.from_pretrained(self.path, backend=Backend.TORCH)
        else:
            self.small = self.large = SentimentClassifier.from_pretrained(self.path, backend=backend)
        self._explainer: SentimentClassifier | None = None
        self.calls = {"small": 0, "large": 0}

    @property
    def classifier(self) -> SentimentClassifier:
        """The classifier whose metadata describes the bundle (all of them share it)."""
        return self.large

    def backend_for(self, n: int) -> str:
        return self.small.backend if n <= self.small_batch else self.large.backend

    def predict(self, texts: list[str]) -> list[dict[str, Any]]:
        """label, score (probability of that label), p_positive, unknown words and the language note
        (None, or a line saying the text looks written in another language than the model reads)."""
        which = "small" if len(texts) <= self.small_batch else "large"
        clf = self.small if which == "small" else self.large
        self.calls[which] += 1
        proba = clf.predict_proba(texts)[:, 1]
        return [{**postprocess(p), "unknown_words": clf.unknown_words(t), "note": clf.language_note(t)}
                for t, p in zip(texts, proba)]

    def explain(self, text: str, ig_steps: int = 32, internals: bool = False) -> dict[str, Any]:
        """explain() on the private PyTorch copy (loaded on first use, on the explain thread)."""
        from sentiment_lab.analysis.explain import explain  # lazy: Captum is only needed here

        if self._explainer is None:
            self._explainer = SentimentClassifier.from_pretrained(self.path, backend=Backend.TORCH)
        e = explain(self._explainer, text, ig_steps=ig_steps, internals=internals)
        d = e.to_dict()
        # unrounded (to_dict rounds to 4 digits: 1 - 0.4732 came out as 0.5267999999999999)
        d.update(postprocess(float(e.score)))
        return d
