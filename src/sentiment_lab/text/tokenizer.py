"""The one path from text to token ids: normalization, tokenization, truncation.

The tokenizer is a Hugging Face `tokenizers` object fitted on the training split only,
saved in the bundle as tokenizer.json and reused for every prediction, so training and
inference can never disagree (the course notebook encoded its own sentences without the
+3 offset that keras.datasets.imdb applies, and flipped obvious positives to negative).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

from sentiment_lab.exceptions import BundleError, DataError, InputError

PAD, UNK = "[PAD]", "[UNK]"
PAD_ID, UNK_ID = 0, 1
# A text longer than this is refused rather than silently tokenized at great cost: the
# model reads at most a few hundred tokens anyway.
MAX_TEXT_CHARS = 100_000
_WORD = Regex(r"\w+(?:['’]\w+)*|[^\w\s]")  # words (with inner apostrophes) or single punctuation
# Punctuation other than ! and ? is dropped, as Keras's Tokenizer drops all of it: "." and
# "," carry no sentiment and would use up ~15% of the max_len budget.
_DROP = Regex(r"^[^\w\s!?]$")
# Function words that say nothing about sentiment but make up a third of IMDB's tokens, so
# that dropping them lets max_len tokens cover more of a review (and the LSTM takes fewer
# steps). Negations (not, no, never, n't forms), contrast (but, though), intensifiers (so,
# very, too), modals and the numeral "one" ("one of the best") are deliberately kept.
STOPWORDS = {
    "english": ("the", "a", "an", "and", "of", "to", "is", "in", "it", "its", "this", "that", "was",
                "as", "for", "with", "on", "at", "by", "from", "be", "been", "are", "were", "he",
                "she", "his", "her", "him", "they", "their", "them", "i", "my", "me", "you", "your",
                "we", "our", "who", "which", "has", "have", "had"),
}


def _normalizer() -> normalizers.Normalizer:
    # HTML line breaks (IMDB's <br />), compatibility forms (NFKC: ligatures, full-width
    # letters), lowercase. Accents are kept so that French reviews keep their meaning.
    return normalizers.Sequence([normalizers.Replace(Regex(r"<br\s*/?>"), " "), normalizers.NFKC(),
                                 normalizers.Lowercase()])


def new_tokenizer(level: str, stopwords: str = "none") -> tuple[Tokenizer, trainers.Trainer]:
    """An untrained tokenizer and its trainer. Word level is the notebook's; BPE leaves
    no unknown words in typed sentences. `stopwords` names a list in STOPWORDS whose words
    the word-level splitter removes (saved in tokenizer.json, so predictions do the same)."""
    if stopwords != "none" and level != "word":
        raise ValueError(f"text.stopwords={stopwords!r} needs text.level='word'")
    if level == "word":
        tok = Tokenizer(models.WordLevel(unk_token=UNK))
        steps = [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(_WORD, behavior="isolated"),
                 pre_tokenizers.Split(_DROP, behavior="removed")]
        if stopwords != "none":
            words = "|".join(sorted(STOPWORDS[stopwords]))
            steps.append(pre_tokenizers.Split(Regex(rf"^(?:{words})$"), behavior="removed"))
        tok.pre_tokenizer = pre_tokenizers.Sequence(steps)
        return tok, trainers.WordLevelTrainer
    if level == "bpe":
        # Byte-level: every byte is in the alphabet, so no text has unknown pieces.
        tok = Tokenizer(models.BPE(unk_token=UNK))
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
        tok.decoder = decoders.ByteLevel()
        return tok, trainers.BpeTrainer
    raise ValueError(f"unknown tokenizer level {level!r}")


def truncate(ids: Sequence[int], max_len: int, side: str) -> list[int]:
    """Keep `max_len` ids from the head, the tail, or half of each (head+tail)."""
    if len(ids) <= max_len:
        return list(ids)
    if side == "head":
        return list(ids[:max_len])
    if side == "tail":
        return list(ids[-max_len:])
    head = max_len // 2
    return list(ids[:head]) + list(ids[len(ids) - (max_len - head):])


def check_texts(texts: object) -> list[str]:
    """A batch of texts (any iterable of str), each checked. A bare string, a dict or None is
    refused: iterating it would classify its characters or keys, silently."""
    if texts is None or isinstance(texts, (str, bytes, Mapping)) or not isinstance(texts, Iterable):
        raise InputError(f"expected a list of texts, got {type(texts).__name__}; for one text pass [text]")
    return [check_text(t) for t in texts]


def check_labels(labels: object, n: int) -> np.ndarray:
    """0/1 labels (or booleans), one per text, as int64: "positive" or 2 would otherwise be
    compared as truthy values and give a wrong accuracy without a word."""
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != n:
        raise DataError(f"{n} texts but {y.size} labels")
    if n == 0:
        raise DataError("no texts to score")
    if y.dtype != bool and not np.isin(y, [0, 1]).all():
        raise DataError("labels must be 0 (negative) or 1 (positive)")
    return y.astype(np.int64)


def is_unicode(text: str) -> bool:
    """False for a lone surrogate, which no UTF-8 and no tokenizer takes: undecodable bytes on a
    command line arrive as one, and JSON can carry one ("\\ud800")."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_text(text: object) -> str:
    """Refuse what cannot be classified, with a message that says why."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("text is not valid UTF-8") from None
    if not isinstance(text, str):
        raise InputError(f"text must be a string, got {type(text).__name__}")
    if not is_unicode(text):
        raise InputError("text is not valid UTF-8")
    if not text.strip():
        raise InputError("text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"text has {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}")
    return text


class TextEncoder:
    """A fitted tokenizer plus the truncation rule: texts in, id arrays out."""

    def __init__(self, tokenizer: Tokenizer, max_len: int, truncation: str = "tail") -> None:
        self.tokenizer = tokenizer
        self.max_len = max_len
        self.truncation = truncation

    @classmethod
    def fit(cls, texts: Iterable[str], vocab_size: int, max_len: int, truncation: str = "tail",
            level: str = "word", min_frequency: int = 1, stopwords: str = "none") -> "TextEncoder":
        tok, trainer_cls = new_tokenizer(level, stopwords)
        tok.normalizer = _normalizer()
        extra = {"initial_alphabet": pre_tokenizers.ByteLevel.alphabet()} if level == "bpe" else {}
        trainer = trainer_cls(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=[PAD, UNK],
                              show_progress=False, **extra)
        tok.train_from_iterator(texts, trainer)
        return cls(tok, max_len, truncation)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    def encode(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Token ids of each text, truncated; tokenized in parallel by the Rust library."""
        encs = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [self.clip(e.ids) for e in encs]

    def clip(self, ids: Sequence[int]) -> np.ndarray:
        """One text's full ids as the model reads them: truncated to max_len on the configured
        side, int64, and never empty (a text of dropped punctuation reads as one [UNK])."""
        if len(ids) > self.max_len:
            ids = truncate(ids, self.max_len, self.truncation)
        return np.asarray(ids if len(ids) else [UNK_ID], dtype=np.int64)

    def tokens(self, text: str) -> list[str]:
        return self.tokenizer.encode(text, add_special_tokens=False).tokens

    def unknown_words(self, text: str) -> list[str]:
        """Words of `text` (as written) that the vocabulary does not know; unknown
        punctuation is not worth reporting."""
        e = self.tokenizer.encode(text, add_special_tokens=False)
        seen, out = set(), []
        for i, (a, b) in zip(e.ids, e.offsets):
            word = text[a:b]
            if i == UNK_ID and word not in seen and any(c.isalnum() for c in word):
                seen.add(word)
                out.append(word)
        return out

    def save(self, path: Path) -> None:
        self.tokenizer.save(str(path))

    @classmethod
    def load(cls, path: Path, max_len: int, truncation: str) -> "TextEncoder":
        try:
            tok = Tokenizer.from_file(str(path))
        except Exception as exc:  # the Rust library raises bare Exceptions
            raise BundleError(f"cannot read tokenizer {path}: {str(exc).splitlines()[0]}") from None
        return cls(tok, max_len, truncation)


def pad_batch(seqs: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad id arrays to the longest one: (ids (B, T), lengths (B,))."""
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    ids = np.zeros((len(seqs), int(lengths.max())), dtype=np.int64)
    for row, s in enumerate(seqs):
        ids[row, : len(s)] = s
    return ids, lengths
