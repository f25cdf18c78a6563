"""What every baseline shares: the classifier interface and the pickle-free save format.

A baseline answers the same calls as `SentimentClassifier` (`__call__`, `predict`,
`predict_proba`, `score`, `labels`), so comparing methods is one loop. It is saved as a
directory, never a pickle:

    baseline.json       {"format": "sentiment-lab-baseline", "name": ..., "params": ..., "sha256": ...,
                         "manifest_sha256": ...}
    arrays.safetensors  learned arrays (idf, coefficients, log-count ratios, ...)
    vocabulary.json     n-gram list in column order (text baselines only)

scikit-learn estimators are rebuilt from those arrays on load; a round trip gives identical
probabilities (tested). Checksums make an altered, truncated or partial directory fail loudly,
checked by the same function as a model bundle's (inference/integrity.py): baseline.json lists
exactly the files of its kind of baseline and checks itself ("manifest_sha256"). They detect
corruption, not a deliberate forgery.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sentiment_lab import __version__
from sentiment_lab.fileio import check_dir_target, swap_dir, write_bytes, write_json
from sentiment_lab.inference.integrity import Layout, file_sha256, seal, verify
from sentiment_lab.inference.mixin import ClassifierMixin
from sentiment_lab.inference.postprocess import LABELS
from sentiment_lab.exceptions import BundleError, DataError
from sentiment_lab.text.tokenizer import check_labels, check_texts

FORMAT = "sentiment-lab-baseline"
FORMAT_VERSION = 1
META = "baseline.json"
ARRAYS, VOCABULARY = "arrays.safetensors", "vocabulary.json"
#: the baselines that save their vocabulary (n-grams, or fastText's words) beside the arrays (the others: arrays only)
WITH_VOCABULARY = frozenset({"tfidf", "nbsvm", "fasttext"})


def layout(name: str, files: tuple[str, ...] | None = None) -> Layout:
    """What a saved baseline of that name must hold: `files` (a subclass's `saved_files`), or
    arrays.safetensors, plus vocabulary.json for the n-gram baselines."""
    if files is None:
        files = (ARRAYS, VOCABULARY) if name in WITH_VOCABULARY else (ARRAYS,)
    return Layout("baseline", META, required=tuple(files))


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
    #: files saved beside baseline.json; None: see `layout` (a new baseline outside WITH_VOCABULARY
    #: that saves a vocabulary sets ("arrays.safetensors", "vocabulary.json"))
    saved_files: tuple[str, ...] | None = None

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
        from safetensors.numpy import save

        self._check_fitted()
        directory = check_dir_target(directory, META)
        directory.parent.mkdir(parents=True, exist_ok=True)
        arrays, state, vocabulary = self._arrays()
        tmp = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}."))
        try:
            # bytes through fileio: a full disk is a plain OSError, not safetensors' SafetensorError
            write_bytes(tmp / ARRAYS, save({k: np.ascontiguousarray(v) for k, v in arrays.items()}))
            files = [ARRAYS]
            if vocabulary is not None:
                write_json(tmp / VOCABULARY, vocabulary)
                files.append(VOCABULARY)
            expected = layout(self.name, self.saved_files)
            if set(files) != set(expected.required):  # a bug here, not a user's error: say so now, not at load
                raise RuntimeError(f"{type(self).__name__} saved {files}, but a {self.name!r} baseline holds "
                                   f"{list(expected.required)}; set saved_files")
            meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "name": self.name,
                    "sentiment_lab_version": __version__, "labels": LABELS,
                    "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "params": self.get_params(), "state": state, "metrics": metrics or {},
                    "sha256": {f: _sha256(tmp / f) for f in files}}
            write_json(tmp / META, seal(meta, expected))
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
        meta = read_meta(directory, cls.saved_files)
        if meta["name"] != cls.name:
            raise BundleError(f"{directory} holds a {meta['name']!r} baseline, not {cls.name!r}")
        obj = cls(**{k: _tuples(v) for k, v in meta["params"].items() if k in cls.param_names})
        try:
            arrays = load_file(str(directory / ARRAYS))
        except (SafetensorError, OSError) as exc:
            raise BundleError(f"{directory}/arrays.safetensors is unreadable: {exc}") from None
        vocab_path = directory / VOCABULARY  # read only when listed, so verified: never a stray file
        vocabulary = json.loads(vocab_path.read_text(encoding="utf-8")) if VOCABULARY in meta["sha256"] else None
        obj._restore(arrays, meta.get("state", {}), vocabulary)
        return obj


def read_meta(directory: Path, files: tuple[str, ...] | None = None) -> dict[str, Any]:
    """baseline.json of a saved baseline, verified as a bundle's config.json is
    (integrity.verify): it lists exactly the files of its kind (`layout(name, files)`), each
    matches its checksum, and baseline.json matches its own."""
    directory = Path(directory)
    path = directory / META
    if not path.is_file():
        raise BundleError(f"{directory} is not a saved baseline: {META} is missing")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise BundleError(f"{path}: not a sentiment-lab baseline (format {FORMAT} v{FORMAT_VERSION} expected)")
    if not isinstance(meta.get("name"), str):
        raise BundleError(f"{path}: not a sentiment-lab baseline (no name)")
    verify(directory, meta, layout(meta["name"], files))
    return meta


_sha256 = file_sha256


def _tuples(v: Any) -> Any:
    """JSON turns tuples (ngram_range) into lists; constructors expect tuples back."""
    return tuple(v) if isinstance(v, list) else v
