"""What every baseline shares: the classifier interface and the pickle-free save format.

A baseline answers the same calls as `SentimentClassifier` (`__call__`, `predict`,
`predict_proba`, `score`, `labels`), so comparing methods is one loop. It is saved as a
directory, never a pickle:

    baseline.json       {"format": "sentiment-lab-baseline", "name": ..., "params": ..., "sha256": ...}
    arrays.safetensors  learned arrays (idf, coefficients, log-count ratios, ...)
    vocabulary.json     n-gram list in column order (text baselines only)

scikit-learn estimators are rebuilt from those arrays on load; a round trip gives identical
probabilities (tested). Checksums make an altered or truncated directory fail loudly.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sentiment_lab import __version__
from sentiment_lab.fileio import check_dir_target, swap_dir, write_json
from sentiment_lab.inference.mixin import ClassifierMixin
from sentiment_lab.inference.postprocess import LABELS
from sentiment_lab.exceptions import BundleError, DataError
from sentiment_lab.text.tokenizer import check_labels, check_texts

FORMAT = "sentiment-lab-baseline"
FORMAT_VERSION = 1
META = "baseline.json"


def check_inputs(texts: Sequence[str], labels: Sequence[int] | None = None) -> tuple[list[str], np.ndarray | None]:
    """Validate texts (as the RNN does) and 0/1 labels, once, with messages that say what is wrong."""
    texts = check_texts(texts)
    if labels is None:
        return texts, None
    y = check_labels(labels, len(texts))
    if len(np.unique(y)) < 2:
        raise DataError("the training data has only one label; need both positive and negative examples")
    return texts, y


class Baseline(ClassifierMixin):
    """Base class: subclasses set `name`, implement `fit`, `_p_positive`, `_arrays`, `_restore`.
    The classifier interface (`__call__`, `predict`, `predict_proba`, `score`, `labels`) is
    inference.mixin.ClassifierMixin's, the same as SentimentClassifier's."""

    name = "baseline"
    #: constructor parameters saved in baseline.json (scikit-learn style: stored, not used, by __init__)
    param_names: tuple[str, ...] = ()

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(N, 2) probabilities, columns negative, positive (an unfitted baseline refuses first)."""
        self._check_fitted()
        return super().predict_proba(texts)

    def get_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.param_names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ---- to implement ----
    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> "Baseline":
        raise NotImplementedError

    def _p_positive(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def _arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any], list[str] | None]:
        """(arrays for safetensors, extra JSON state, vocabulary or None)."""
        raise NotImplementedError

    def _restore(self, arrays: dict[str, np.ndarray], state: dict[str, Any], vocabulary: list[str] | None) -> None:
        raise NotImplementedError

    def _is_fitted(self) -> bool:
        return True

    def _check_fitted(self) -> None:
        if not self._is_fitted():
            raise DataError(f"{type(self).__name__} is not fitted yet: call fit(texts, labels) first")

    # ---- save / load ----
    def save_pretrained(self, directory: str | Path, metrics: dict[str, Any] | None = None) -> Path:
        """Write into a temporary sibling directory, then swap it into place (atomic for readers)."""
        from safetensors.numpy import save_file

        self._check_fitted()
        directory = check_dir_target(directory, META)
        directory.parent.mkdir(parents=True, exist_ok=True)
        arrays, state, vocabulary = self._arrays()
        tmp = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}."))
        try:
            save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(tmp / "arrays.safetensors"))
            files = ["arrays.safetensors"]
            if vocabulary is not None:
                write_json(tmp / "vocabulary.json", vocabulary)
                files.append("vocabulary.json")
            meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "name": self.name,
                    "sentiment_lab_version": __version__, "labels": LABELS,
                    "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "params": self.get_params(), "state": state, "metrics": metrics or {},
                    "sha256": {f: _sha256(tmp / f) for f in files}}
            write_json(tmp / META, meta)
            swap_dir(tmp, directory, META)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> "Baseline":
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        directory = Path(directory)
        meta = read_meta(directory)
        if meta["name"] != cls.name:
            raise BundleError(f"{directory} holds a {meta['name']!r} baseline, not {cls.name!r}")
        obj = cls(**{k: _tuples(v) for k, v in meta["params"].items() if k in cls.param_names})
        try:
            arrays = load_file(str(directory / "arrays.safetensors"))
        except (SafetensorError, OSError) as exc:
            raise BundleError(f"{directory}/arrays.safetensors is unreadable: {exc}") from None
        vocab_path = directory / "vocabulary.json"
        vocabulary = json.loads(vocab_path.read_text(encoding="utf-8")) if vocab_path.is_file() else None
        obj._restore(arrays, meta.get("state", {}), vocabulary)
        return obj


def read_meta(directory: Path) -> dict[str, Any]:
    """baseline.json of a saved baseline, with every listed file checked against its sha256."""
    path = directory / META
    if not path.is_file():
        raise BundleError(f"{directory} is not a saved baseline: {META} is missing")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise BundleError(f"{path}: not a sentiment-lab baseline (format {FORMAT} v{FORMAT_VERSION} expected)")
    for name, digest in meta.get("sha256", {}).items():
        f = directory / name
        if not f.is_file():
            raise BundleError(f"baseline {directory} is incomplete: {name} is missing")
        if _sha256(f) != digest:
            raise BundleError(f"baseline {directory}: {name} does not match its checksum (altered or truncated)")
    return meta


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _tuples(v: Any) -> Any:
    """JSON turns tuples (ngram_range) into lists; constructors expect tuples back."""
    return tuple(v) if isinstance(v, list) else v
