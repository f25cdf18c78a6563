"""Word vectors trained on the training texts (gensim word2vec or fastText), plus the unlabeled
texts of `data.unlabeled` when set (imdb-unsup), to initialise the embedding layer and to find
neighbours for synonym-replacement augmentation.

Why train them here instead of downloading GloVe: the targets are "from scratch on the
IMDB train split alone", the vectors then share the classifier's tokenizer exactly, and
nothing leaks from test. Sentences are the tokenizer's ids (as strings), so every vector
lands on the right embedding row with no second vocabulary to keep in sync.
"""
from __future__ import annotations

import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from sentiment_lab.exceptions import ConfigError
from sentiment_lab.text.tokenizer import PAD_ID, UNK_ID, TextEncoder

if TYPE_CHECKING:
    from rich.console import Console

    from sentiment_lab.config import Config
    from sentiment_lab.data import Splits


def _stable_hash(text: str) -> int:
    """gensim seeds each vector with hash(word + seed); Python's str hash changes per process."""
    return zlib.crc32(text.encode("utf-8"))


def train_word_vectors(texts: Sequence[str], encoder: TextEncoder, dim: int, kind: str = "word2vec",
                       epochs: int = 5, window: int = 5, seed: int = 42, workers: int = 1) -> np.ndarray:
    """(vocab_size, dim) float32 matrix: a trained vector for every id seen in `texts`,
    small uniform noise (Keras's embedding init) for the rest, zeros for [PAD].
    One worker and a stable hash make it reproducible (gensim's own advice); more workers
    are faster but jitter."""
    try:
        from gensim.models import FastText, Word2Vec
    except ImportError:  # pragma: no cover - depends on the environment
        raise ConfigError("model.pretrained_vectors needs gensim: pip install 'sentiment-lab[vectors]'") from None
    if kind not in ("word2vec", "fasttext"):
        raise ConfigError(f"model.pretrained_vectors must be none, word2vec or fasttext, not {kind!r}")
    encs = encoder.tokenizer.encode_batch(list(texts), add_special_tokens=False)
    sentences = [[str(i) for i in e.ids if i != UNK_ID] for e in encs]
    cls = Word2Vec if kind == "word2vec" else FastText
    model = cls(sentences=sentences, vector_size=dim, window=window, min_count=1, sg=1, epochs=epochs,
                seed=seed, workers=workers, hashfxn=_stable_hash)
    rng = np.random.default_rng(seed)
    matrix = rng.uniform(-0.05, 0.05, size=(encoder.vocab_size, dim)).astype(np.float32)
    for word, idx in model.wv.key_to_index.items():
        matrix[int(word)] = model.wv.vectors[idx]
    # rescale to the init's spread, so Adam's steps mean the same as for a random start
    trained = np.fromiter((int(w) for w in model.wv.key_to_index), dtype=np.int64)
    if len(trained):
        matrix[trained] *= (0.05 / np.sqrt(3)) / (matrix[trained].std() + 1e-12)
    matrix[PAD_ID] = 0.0
    return matrix


def nearest_neighbours(matrix: np.ndarray, k: int = 5, min_id: int = 2) -> np.ndarray:
    """(vocab_size, k) ids of each id's k nearest neighbours by cosine similarity (itself and
    the special ids excluded): the synonym table for augmentation."""
    unit = matrix / (np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-12)
    out = np.zeros((len(matrix), k), dtype=np.int64)
    for start in range(0, len(matrix), 2048):  # blocks keep memory at 2048 x vocab
        sims = unit[start:start + 2048] @ unit.T
        sims[:, :min_id] = -np.inf
        rows = np.arange(sims.shape[0])
        sims[rows, start + rows] = -np.inf
        out[start:start + 2048] = np.argpartition(-sims, k, axis=1)[:, :k]
    return out


def unlabeled_texts(name: str, splits: "Splits") -> list[str]:
    """The texts of the unlabeled dataset `name` ("none": no texts) less any that is also a
    validation or test text of `splits` (same text_key as the mixture's overlap check): the
    vectors may read unlabeled reviews, never the reviews they are judged on."""
    if name == "none":
        return []
    from sentiment_lab.data.datasets import load_dataset
    from sentiment_lab.data.mixture import text_key

    held_out = {text_key(r.text) for r in (*splits.val, *splits.test)}
    return [r.text for r in load_dataset(name) if text_key(r.text) not in held_out]


def run_word_vectors(cfg: "Config", splits: "Splits", encoder: TextEncoder, run_dir: Path, resume: bool,
                     console: "Console") -> tuple[np.ndarray, np.ndarray]:
    """Word vectors trained on the training split and their neighbour table, saved in the run
    directory (safetensors) so that a resumed run uses the very same ones."""
    from safetensors.numpy import load_file, save

    from sentiment_lab.fileio import write_bytes

    path = run_dir / "word_vectors.safetensors"
    if resume and path.exists():
        saved = load_file(str(path))
        return saved["vectors"], saved["neighbours"]
    t0 = time.perf_counter()
    kind = cfg.model.pretrained_vectors if cfg.model.pretrained_vectors != "none" else "word2vec"
    texts = [r.text for r in splits.train]
    extra = unlabeled_texts(cfg.data.unlabeled, splits)
    vectors = train_word_vectors(texts + extra, encoder, cfg.model.embedding_dim, kind, seed=cfg.train.seed)
    neighbours = nearest_neighbours(vectors)
    write_bytes(path, save({"vectors": vectors, "neighbours": neighbours}))  # atomic; a full disk is an OSError
    also = f" and {len(extra):,} unlabeled {cfg.data.unlabeled} texts" if extra else ""
    console.log(f"{kind} vectors trained on the training split{also} in {time.perf_counter() - t0:.1f}s")
    return vectors, neighbours
