"""The classifiers behind the web API, and which one scores a batch of a given size.

Measured on this project's 2-core CPU with one thread each (benchmarks/bench_serve.py,
"backends_ms_per_forward" in benchmarks/results/serve_cpu.json, shipped BiLSTM): the NumPy
runtime scores one sentence in 1.36 ms against PyTorch's 2.42 ms (no dispatcher overhead),
two in 2.98 vs 3.05 ms, while PyTorch's fused LSTM wins from 4 sentences on (3.49 vs 3.73
ms; 19.9 vs 29.7 ms at 64). So backend="auto" keeps both: batches of up to
`small_batch` texts go to NumPy, larger ones to PyTorch. The two are tested to agree to
float rounding (tests/test_runtime.py), so a text gets the same answer whichever path the
batcher picked.

`Engines` holds the models a server answers with: the one it started with (loaded at startup)
and the other shipped models (inference/shipped.py), each loaded on its first request and kept
(12-20 MB each). Single texts for several models share one micro-batcher: `predict_items`
scores each model's texts in one forward pass per model.

Explanations need gradients, so they run on a third, PyTorch copy of the network that only
the explain thread touches: Captum hooks the embedding layer during Integrated Gradients,
which would corrupt predictions running through the same module on the predict thread.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from sentiment_lab.inference.backends import Backend
from sentiment_lab.inference.classifier import SentimentClassifier
from sentiment_lab.inference.shipped import SHIPPED, available, describe, resolve_model, shipped_bundle, shipped_name
from sentiment_lab.inference.postprocess import postprocess
from sentiment_lab.text.tokenizer import FAST_PATH_MIN_TEXTS

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
        self.path = resolve_model(bundle)  # a shipped name, a folder, None: the default shipped model
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

    def warm_up(self) -> None:
        """One prediction through each path (small and large batches), so that what is built on
        first use (the encoder's fast path, the backends' lazy state: ~140 ms) exists before the
        server freezes its heap out of the garbage collector's view and before the first request;
        built later, it stayed in the collector's view and every full collection re-scanned it
        (~45 ms pauses at one connection, benchmarks/results/text_path_cpu/README.md)."""
        calls = dict(self.calls)
        self.predict(["warm-up"])
        self.predict(["warm-up"] * max(self.small_batch + 1, FAST_PATH_MIN_TEXTS))
        self.calls = calls  # the counters report requests, not this

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


class UnknownModel(ValueError):
    """A request named a model this server does not have (the API answers 404 with the names)."""


class Engines:
    """The served models by name: `default` (the model the server started with) and every
    shipped model present, each an Engine loaded once, on first use, and kept."""

    def __init__(self, bundle: str | Path | None = None, backend: Backend | str = "auto",
                 small_batch: int = SMALL_BATCH) -> None:
        self.backend, self.small_batch = backend, small_batch
        first = Engine(bundle, backend, small_batch)
        name = shipped_name(first.path) or first.path.name
        # a folder named like a shipped model is not that model: its own name says so
        self.default = f"./{name}" if name in SHIPPED and shipped_name(first.path) is None else name
        self._engines = {self.default: first}
        self._lock = threading.Lock()  # the predict and the explain threads may load the same model

    def names(self) -> list[str]:
        """The served model first, then the other shipped models present."""
        return [self.default, *(n for n in available() if n != self.default)]

    def check(self, name: str | None) -> str:
        """The name a request's `model` field means (None: the default), or UnknownModel."""
        if name is None or name == self.default:
            return self.default
        if name not in self.names():
            raise UnknownModel(f"unknown model {name!r}; this server has: {', '.join(self.names())}")
        return name

    def get(self, name: str | None = None) -> Engine:
        """The Engine of model `name`, loaded now if it is not yet (on the calling worker thread)."""
        name = self.check(name)
        with self._lock:
            if name not in self._engines:
                self._engines[name] = Engine(shipped_bundle(name), self.backend, self.small_batch)
            return self._engines[name]

    def loaded(self) -> list[str]:
        return list(self._engines)

    def describe(self) -> list[dict[str, Any]]:
        """What GET /v1/models lists: each model's name, language, data, accuracy, size, default."""
        out = []
        for name in self.names():
            path = self._engines[name].path if name in self._engines else shipped_bundle(name)
            out.append({**describe(path, name), "default": name == self.default, "loaded": name in self._engines})
        return out

    def predict_items(self, items: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """(model name, text) pairs, scored in one forward pass per model, answered in order."""
        out: list[dict[str, Any] | None] = [None] * len(items)
        groups: dict[str, list[int]] = {}
        for i, (name, _) in enumerate(items):
            groups.setdefault(name, []).append(i)
        for name, rows in groups.items():
            for i, p in zip(rows, self.get(name).predict([items[i][1] for i in rows])):
                out[i] = p
        return out  # type: ignore[return-value]
