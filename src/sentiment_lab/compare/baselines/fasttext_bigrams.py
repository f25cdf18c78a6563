"""fastText (Joulin et al. 2017, "Bag of Tricks for Efficient Text Classification"): the mean
of word and hashed word-bigram vectors, then a linear softmax. What users pick when they want
fast: seconds to train on 25k reviews, thousands of reviews a second to predict.

Trained by the `fasttext` package (`pip install 'sentiment-lab[fasttext]'`, supervised mode,
`word_ngrams=2`); saved without fastText's .bin and without pickle. With two labels fastText's
prediction is exact in far fewer numbers than its matrices hold:

    h      = mean of the input rows of the text's words and hashed n-grams   (dim,)
    P(pos) = softmax(O h)[pos] = sigmoid((O[pos] - O[neg]) . h)
           = sigmoid(mean over those rows of  s_row),  s = E (O[pos] - O[neg])

so one number per input row (`weights`, nwords + bucket, float32: 8 MB for the default 2M
buckets instead of 80 MB for E at dim 10) and the word list (vocabulary.json) reproduce
fastText's probabilities (tested against the package on real reviews). Predicting needs
NumPy only, not the package. fastText's hashing is copied as the C++ reads it: FNV-1a over the
UTF-8 bytes, each byte sign-extended; a word's hash kept as int32 and sign-extended again when
n-grams are chained (h = h * 116049371 + next, modulo 2^64, then modulo `bucket`); every line
ends with the end-of-sentence word `</s>`; unknown words add no row of their own but still
take part in n-grams.

fastText splits on whitespace only, so both training and prediction first go through the
same `tokenize`: lowercase, IMDB's <br /> dropped, words (inner apostrophes kept, as TF-IDF
and NBSVM keep them) and each punctuation mark as its own token.
"""
from __future__ import annotations

import os
import re
import tempfile
from typing import Any, Sequence

import numpy as np
from scipy.special import expit

from sentiment_lab.compare.baselines.base import Baseline, check_inputs
from sentiment_lab.exceptions import BundleError, ConfigError, SentimentLabError

EOS = "</s>"
_TOKEN = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
_BR = re.compile(r"<br\s*/?>", re.I)
_NGRAM_MULT = np.uint64(116049371)
CHUNK = 1024  # texts per vectorised pass
EXTRA_HINT = "pip install 'sentiment-lab[fasttext]'"


def tokenize(text: str) -> list[str]:
    """Lowercased words and punctuation marks, the only tokens fastText ever sees. fastText
    treats NUL as whitespace (Python does not), and a token that starts with __label__ would
    be read as a label in its training file: both are neutralised here, for fit and predict."""
    tokens = _TOKEN.findall(_BR.sub(" ", text.replace("\0", " ")).lower())
    if "__label__" not in text.lower():
        return tokens
    return [t[2:] if t.startswith("__label__") else t for t in tokens]


def fnv1a(token: str) -> int:
    """fastText's Dictionary::hash: 32-bit FNV-1a over the UTF-8 bytes, each byte read as a
    signed char (so bytes >= 128 are XORed in as 0xFFFFFFxx)."""
    h = 2166136261
    for b in token.encode("utf-8"):
        h = ((h ^ (b | 0xFFFFFF00 if b >= 128 else b)) * 16777619) & 0xFFFFFFFF
    return h


def as_ngram_hash(h: np.ndarray) -> np.ndarray:
    """uint32 word hashes as fastText chains them: stored as int32, then sign-extended to uint64."""
    return np.asarray(h, dtype=np.uint32).view(np.int32).astype(np.int64).view(np.uint64)


def load_fasttext() -> Any:
    try:
        import fasttext
    except ImportError:
        raise SentimentLabError(f"the fastText baseline needs the fasttext package: {EXTRA_HINT}") from None
    return fasttext


class _Codes(dict):
    """token -> word id << 32 | its hash; a word outside the vocabulary gives -1 << 32 | its hash,
    computed when met and not kept (a long-running server would otherwise grow it forever)."""

    def __missing__(self, token: str) -> int:
        return (-1 << 32) | fnv1a(token)


class FastTextBaseline(Baseline):
    name = "fasttext"
    param_names = ("lr", "epoch", "dim", "word_ngrams", "bucket", "min_count", "threads", "seed")

    def __init__(self, lr: float = 0.5, epoch: int = 5, dim: int = 10, word_ngrams: int = 2,
                 bucket: int = 2_000_000, min_count: int = 1, threads: int = 1, seed: int = 0) -> None:
        self.lr = lr
        self.epoch = epoch
        self.dim = dim
        self.word_ngrams = word_ngrams
        self.bucket = bucket
        self.min_count = min_count
        self.threads = threads  # 1: the seed makes training repeatable; more threads are faster, not repeatable
        self.seed = seed

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> "FastTextBaseline":
        self._check_params()
        texts, y = check_inputs(texts, labels)
        return self.from_fasttext(self._train(texts, y))

    def _check_params(self) -> None:
        """fastText aborts or misbehaves on some of these; say which is wrong before it runs."""
        def number(v: Any, integer: bool = True) -> bool:
            return isinstance(v, int if integer else (int, float)) and not isinstance(v, bool)

        rules = {"lr": number(self.lr, False) and self.lr > 0, "epoch": number(self.epoch) and self.epoch >= 1,
                 "dim": number(self.dim) and self.dim >= 1, "bucket": number(self.bucket) and self.bucket >= 1,
                 "word_ngrams": number(self.word_ngrams) and 1 <= self.word_ngrams <= 5,
                 "min_count": number(self.min_count) and self.min_count >= 1,
                 "threads": number(self.threads) and self.threads >= 1, "seed": number(self.seed) and self.seed >= 0}
        bad = [k for k, ok in rules.items() if not ok]
        if bad:
            raise ConfigError(f"fasttext: invalid {', '.join(f'{k}={getattr(self, k)!r}' for k in bad)}; lr is a number > 0, "
                              "the others integers: word_ngrams 1 to 5, seed >= 0, epoch, dim, bucket, min_count, threads >= 1")

    def from_fasttext(self, model: Any) -> "FastTextBaseline":
        """Take a trained `fasttext` model's weights (two labels, __label__0 and __label__1)."""
        labels_ = model.get_labels()
        out = model.get_output_matrix().astype(np.float64)  # (labels, dim)
        direction = out[labels_.index("__label__1")] - out[labels_.index("__label__0")]
        weights = model.get_input_matrix().astype(np.float64) @ direction  # (nwords + bucket,)
        self._set(weights.astype(np.float32), list(model.get_words(on_unicode_error="replace")))
        return self

    def _train(self, texts: list[str], y: np.ndarray) -> Any:
        """fastText reads its training data from a file: one line per text, label first."""
        fasttext = load_fasttext()
        fd, path = tempfile.mkstemp(prefix="sentiment-lab-fasttext-", suffix=".txt")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                for text, label in zip(texts, y):
                    f.write(f"__label__{int(label)} {' '.join(tokenize(text))}\n")
            model = fasttext.train_supervised(input=path, lr=self.lr, epoch=self.epoch, dim=self.dim,
                                             wordNgrams=self.word_ngrams, bucket=self.bucket,
                                             minCount=self.min_count, thread=self.threads, seed=self.seed,
                                             loss="softmax", verbose=0)
        except RuntimeError as exc:  # "Encountered NaN.": the learning rate is too high for this data
            raise ConfigError(f"fasttext training failed: {exc} (try a lower lr than {self.lr})") from None
        finally:
            os.unlink(path)
        return model

    def _set(self, weights: np.ndarray, words: list[str], hashes: np.ndarray | None = None) -> None:
        self.weights_ = weights
        self.words_ = words
        self.word_hashes_ = np.array([fnv1a(w) for w in words], dtype=np.uint32) if hashes is None else hashes
        codes = (np.arange(len(words), dtype=np.int64) << 32) | self.word_hashes_.astype(np.int64)
        self._codes = _Codes(zip(words, codes.tolist()))

    def _is_fitted(self) -> bool:
        return hasattr(self, "weights_")

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        """(O[pos] - O[neg]) . h per text: fastText's logit difference, sigmoid gives P(positive)."""
        self._check_fitted()
        ids, hashes, docs = self._lookup(texts)
        nwords = len(self.words_)
        known = ids >= 0
        rows, row_docs = [ids[known]], [docs[known]]
        chained = hashes
        for n in range(1, self.word_ngrams):  # n-grams of n + 1 words, each inside one text
            chained = chained[:-1] * _NGRAM_MULT + hashes[n:]
            inside = docs[:-n] == docs[n:]
            rows.append(nwords + (chained[inside] % np.uint64(self.bucket)).astype(np.int64))  # bucket > 0 here
            row_docs.append(docs[:-n][inside])
        row, doc = np.concatenate(rows), np.concatenate(row_docs)
        total = np.bincount(doc, weights=self.weights_[row].astype(np.float64), minlength=len(texts))
        count = np.bincount(doc, minlength=len(texts))
        return total / np.maximum(count, 1)

    def _lookup(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(word id or -1, n-gram hash, text index) of every token of every text, `</s>` ending
        each text. One C-level dictionary look-up per token (`_Codes`)."""
        tokens: list[str] = []
        lengths = np.empty(len(texts), dtype=np.int64)
        for d, text in enumerate(texts):
            toks = tokenize(text)
            toks.append(EOS)
            tokens.extend(toks)
            lengths[d] = len(toks)
        codes = np.fromiter(map(self._codes.__getitem__, tokens), dtype=np.int64, count=len(tokens))
        hashes = (codes & 0xFFFFFFFF).astype(np.uint32)
        return codes >> 32, as_ngram_hash(hashes), np.repeat(np.arange(len(texts)), lengths)

    def _p_positive(self, texts: list[str]) -> np.ndarray:
        # in chunks: memory stays bounded for any number of texts
        z = np.concatenate([self.decision_function(texts[i:i + CHUNK]) for i in range(0, len(texts), CHUNK)])
        return expit(z)

    def _arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any], list[str]]:
        arrays = {"weights": self.weights_, "word_hashes": self.word_hashes_}
        return arrays, {"n_words": len(self.words_), "n_rows": len(self.weights_)}, self.words_

    def _restore(self, arrays: dict[str, np.ndarray], state: dict[str, Any], vocabulary: list[str] | None) -> None:
        words = vocabulary or []
        buckets = len(arrays["weights"]) - len(words)
        if buckets not in (self.bucket, 0 if self.word_ngrams == 1 else self.bucket) \
                or len(arrays["word_hashes"]) != len(words):
            raise BundleError(f"fastText baseline: {len(arrays['weights'])} weights for {len(words)} words and "
                              f"{self.bucket} buckets; the saved files do not belong together")
        self._set(arrays["weights"], words, arrays["word_hashes"])
