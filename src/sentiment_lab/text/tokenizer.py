"""The one path from text to token ids: normalization, tokenization, truncation.

The tokenizer is a Hugging Face `tokenizers` object fitted on the training split only,
saved in the bundle as tokenizer.json and reused for every prediction, so training and
inference can never disagree (the course notebook encoded its own sentences without the
+3 offset that keras.datasets.imdb applies, and flipped obvious positives to negative).

Speed (docs/speed_and_scale.md, "The text path"): the word-level splitter is one pattern (it
used to be three chained splits plus a stop-word split, which cost half the throughput), and
TextEncoder.encode reads a batch through private copies of the tokenizer that give the very
same ids faster: Latin-1 texts are normalized in Python on plain strings, stop words are looked
up to an id that is then dropped with numpy, and truncation is one vectorised pass. Bundles
saved with the old splitter are converted on load; tests/test_text_path.py and
tests/test_text_path_imdb.py prove the old and new paths identical.
"""
from __future__ import annotations

import json
import re
import unicodedata
from itertools import chain
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
# Building the fast path (_FastWords: two tokenizer copies) costs ~40-110 ms once, and for a few
# short texts it saves nothing (one sentence: 17 µs either way); a batch this large builds it.
FAST_PATH_MIN_TEXTS = 16
_WORD_RE = r"\w+(?:['’]\w+)*"  # a word, with inner apostrophes (didn't, l’homme)
# What the word-level splitter keeps: words, and ! and ? one by one. Every other punctuation
# mark is dropped, as Keras's Tokenizer drops all of it: "." and "," carry no sentiment and
# would use up ~15% of the max_len budget. Whitespace is never part of a match.
_KEEP_RE = _WORD_RE + r"|[!?]"
# The languages a word-level tokenizer is made for (config text.language). French differs in two
# ways, both inside the tokenizer so that bundles carry them: the typographic apostrophes ’ and ʼ
# are normalized to ', and an elision at the start of a word is a token of its own, apostrophe
# kept ("l'amour" -> l' amour, "qu'il" -> qu' il), so that "amour" is one word whether or not an
# article is glued to it. An apostrophe inside a word keeps it whole (aujourd'hui, prud'homme).
LANGUAGES = ("en", "fr")
ELISIONS = ("jusqu", "lorsqu", "puisqu", "quoiqu", "qu", "c", "d", "j", "l", "m", "n", "s", "t")
_FR_KEEP_RE = rf"(?<!\w)(?:{'|'.join(ELISIONS)})'(?=\w)|{_KEEP_RE}"
_FR_APOSTROPHES = "[’ʼ]"
# The splitter of bundles saved before the one-pattern splitter (kept to recognise them):
# split on whitespace, isolate words and single punctuation marks, drop single marks but ! ?.
_WORD = Regex(_WORD_RE + r"|[^\w\s]")
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


def _normalizer(language: str = "en") -> normalizers.Normalizer:
    # HTML line breaks (IMDB's <br />), compatibility forms (NFKC: ligatures, full-width
    # letters), lowercase. Accents are kept so that French reviews keep their meaning. French
    # first turns ’ and ʼ into ' (first, so that the fast path can do it before its Latin-1 test).
    steps = [normalizers.Replace(Regex(r"<br\s*/?>"), " "), normalizers.NFKC(), normalizers.Lowercase()]
    if language == "fr":
        steps.insert(0, normalizers.Replace(Regex(_FR_APOSTROPHES), "'"))
    elif language != "en":
        raise ValueError(f"unknown text language {language!r}; choose one of {', '.join(LANGUAGES)}")
    return normalizers.Sequence(steps)


def new_tokenizer(level: str, stopwords: str = "none", language: str = "en") -> tuple[Tokenizer, trainers.Trainer]:
    """An untrained tokenizer and its trainer. Word level is the notebook's; BPE leaves
    no unknown words in typed sentences. `stopwords` names a list in STOPWORDS whose words
    the word-level splitter removes (saved in tokenizer.json, so predictions do the same).
    `language` "fr" splits elisions off (word level; BPE gets only the apostrophe normalization)."""
    if stopwords != "none" and level != "word":
        raise ValueError(f"text.stopwords={stopwords!r} needs text.level='word'")
    if level == "word":
        tok = Tokenizer(models.WordLevel(unk_token=UNK))
        tok.pre_tokenizer = word_splitter(stopwords, language)
        return tok, trainers.WordLevelTrainer
    if level == "bpe":
        # Byte-level: every byte is in the alphabet, so no text has unknown pieces.
        tok = Tokenizer(models.BPE(unk_token=UNK))
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
        tok.decoder = decoders.ByteLevel()
        return tok, trainers.BpeTrainer
    raise ValueError(f"unknown tokenizer level {level!r}")


def _kept_pattern(stopwords: str, language: str = "en") -> str:
    r"""The one pattern whose matches are the word-level tokens. With stop words, a word that is
    one of them whole is not matched: (?!stop(?!\w|['’]\w)) refuses it at its first letter,
    (?<!\w) any later letter (a word never starts right after a word character). French: an
    elision is tried first, at the start of a word only; French has no stop-word list."""
    if language == "fr":
        if stopwords != "none":
            raise ValueError(f"text.stopwords={stopwords!r} is an English list; French takes none")
        return _FR_KEEP_RE
    if stopwords == "none":
        return _KEEP_RE
    words = "|".join(sorted(STOPWORDS[stopwords]))
    return rf"(?<!\w)(?!(?:{words})(?!\w|['’]\w)){_WORD_RE}|[!?]"


def word_splitter(stopwords: str = "none", language: str = "en") -> pre_tokenizers.PreTokenizer:
    """The word-level pre-tokenizer: one pass of one pattern, everything it does not match
    (whitespace, dropped punctuation, stop words) removed."""
    return pre_tokenizers.Split(Regex(_kept_pattern(stopwords, language)), behavior="removed", invert=True)


def legacy_word_splitter(stopwords: str = "none") -> pre_tokenizers.PreTokenizer:
    """The splitter bundles were saved with before word_splitter: WhitespaceSplit, then words
    and single punctuation isolated, single marks other than ! ? removed, then stop words
    removed. Same tokens, three to four passes (tests/test_text_path.py)."""
    steps = [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(_WORD, behavior="isolated"),
             pre_tokenizers.Split(_DROP, behavior="removed")]
    if stopwords != "none":
        words = "|".join(sorted(STOPWORDS[stopwords]))
        steps.append(pre_tokenizers.Split(Regex(rf"^(?:{words})$"), behavior="removed"))
    return pre_tokenizers.Sequence(steps)


def _state(component: object) -> str | None:
    """A normalizer's or pre-tokenizer's JSON as this library writes it (None when unset)."""
    return None if component is None else component.__getstate__().decode("utf-8")


def _upgrade(tok: Tokenizer) -> Tokenizer:
    """Replace a legacy word-level splitter by its one-pattern equivalent, in place.

    Only for the normalizer this package writes: NFKC removes the six characters (² ³ ¹ ¼ ½ ¾)
    on which the two splitters differ when nothing normalizes first (Oniguruma counts them as
    word characters in one pattern and not in the other)."""
    if _state(tok.normalizer) != _state(_normalizer()) or tok.pre_tokenizer is None:
        return tok
    current = _state(tok.pre_tokenizer)
    for stopwords in ("none", *STOPWORDS):
        if current == _state(legacy_word_splitter(stopwords)):
            tok.pre_tokenizer = word_splitter(stopwords)
            break
    return tok


# The normalizer's <br> pattern on Latin-1 text: Oniguruma's \s there is tab to CR, space, NEL, NBSP.
_LATIN1_BR = re.compile(r"<br[\t\n\x0b\x0c\r \x85\xa0]*/?>")


class _FastWords:
    """A word-level tokenizer's ids, faster, for a batch (used by TextEncoder.encode).

    Two private copies of the tokenizer, each the same JSON with one change:
    - stop words are in the vocabulary, mapped to `drop` (an id past the vocabulary), and the
      splitter keeps them: one cheaper pattern, and those ids are removed afterwards in numpy.
      A stop word never becomes [UNK];
    - for Latin-1 texts (all of IMDB's but 0.1%), the normalizer is done in Python before, on
      plain strings (the <br> pattern with Oniguruma's whitespace on Latin-1, NFKC, lower()),
      and the second copy has none: the library's normalizer rebuilds the string and its
      alignments at each of its three steps. NFKC is the identity on ASCII, and Unicode's
      stability policy fixes it for characters as old as Latin-1; Python's lower() (which
      differs from the library's character-by-character lowercase on a final Σ) agrees with it
      on all that NFKC makes of Latin-1 (every Latin-1 character and pair is checked in
      tests/test_text_path.py).
    A text holding an added token's content ([PAD], [UNK], matched before normalization) goes
    through the first copy, where added tokens are matched as in the original."""

    def __init__(self, spec: dict, stopwords: str, language: str = "en") -> None:
        vocab = dict(spec["model"]["vocab"])
        self.drop = max([*vocab.values(), *(t["id"] for t in spec.get("added_tokens") or [])], default=0) + 1
        if stopwords != "none":
            vocab.update(dict.fromkeys(STOPWORDS[stopwords], self.drop))
        self.apostrophes = re.compile(_FR_APOSTROPHES) if language == "fr" else None
        full = dict(spec, pre_tokenizer=json.loads(_state(word_splitter("none", language))),
                    model=dict(spec["model"], vocab=vocab))
        self.full = Tokenizer.from_str(json.dumps(full))
        self.plain = Tokenizer.from_str(json.dumps(dict(full, normalizer=None)))
        self.added = [t["content"] for t in spec.get("added_tokens") or []]
        self.stopwords = stopwords != "none"

    @classmethod
    def of(cls, tok: object) -> "_FastWords | None":
        """The fast copies of `tok`, or None where they are not proven identical (BPE, another
        normalizer or splitter, truncation or padding set in the tokenizer)."""
        if not isinstance(tok, Tokenizer):
            return None
        language = next((lang for lang in LANGUAGES if _state(tok.normalizer) == _state(_normalizer(lang))), None)
        if language is None:
            return None
        current = _state(tok.pre_tokenizer)
        lists = ("none", *STOPWORDS) if language == "en" else ("none",)
        stopwords = next((s for s in lists if current == _state(word_splitter(s, language))), None)
        if stopwords is None:
            return None
        spec = json.loads(tok.to_str())
        if (spec["model"].get("type") != "WordLevel" or spec["model"].get("unk_token") != UNK
                or any(spec.get(k) is not None for k in ("truncation", "padding", "post_processor"))):
            return None
        return cls(spec, stopwords, language)

    def normalize(self, text: str) -> str | None:
        """The normalized form of a Latin-1 text, or None when it must go the full way. French's
        apostrophe step comes first in its normalizer, so it is done first here too."""
        if self.apostrophes is not None:
            text = self.apostrophes.sub("'", text)
        if text.isascii():
            out = _LATIN1_BR.sub(" ", text).lower()
        elif max(text) <= "\xff":
            out = unicodedata.normalize("NFKC", _LATIN1_BR.sub(" ", text)).lower()
        else:
            return None
        if any(a in text or a in out for a in self.added):
            return None
        return out

    def ids(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(ids, lengths): every text's untruncated ids, concatenated, as the tokenizer gives them."""
        plain = [self.normalize(t) for t in texts]
        fast = [i for i, p in enumerate(plain) if p is not None]
        encs: list = [None] * len(texts)
        if fast:
            for i, e in zip(fast, self.plain.encode_batch_fast([plain[i] for i in fast], add_special_tokens=False)):
                encs[i] = e
        if len(fast) < len(texts):
            slow = [i for i, p in enumerate(plain) if p is None]
            for i, e in zip(slow, self.full.encode_batch_fast([texts[i] for i in slow], add_special_tokens=False)):
                encs[i] = e
        flat, lengths = _flatten(encs)
        if self.stopwords:
            dropped = flat == self.drop
            if dropped.any():
                owner = np.repeat(np.arange(len(lengths)), lengths)
                lengths = lengths - np.bincount(owner[dropped], minlength=len(lengths))
                flat = flat[~dropped]
        return flat, lengths


def _flatten(encs: Sequence) -> tuple[np.ndarray, np.ndarray]:
    ids = [e.ids for e in encs]
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    return np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=int(lengths.sum())), lengths


def clip_flat(flat: np.ndarray, lengths: np.ndarray, max_len: int, side: str) -> list[np.ndarray]:
    """Texts' concatenated ids -> one int64 array per text, as TextEncoder.clip makes it (truncated
    on `side`, never empty), in one vectorised pass instead of a loop over texts."""
    n = len(lengths)
    if n == 0:
        return []
    lengths = np.asarray(lengths, dtype=np.int64)
    flat = np.asarray(flat, dtype=np.int64)
    if int(lengths.max()) > max_len:
        starts = np.cumsum(lengths) - lengths
        owner = np.repeat(np.arange(n), lengths)
        rank = np.arange(len(flat)) - starts[owner]  # position of each id in its text
        length = lengths[owner]
        if side == "head":
            keep = rank < max_len
        elif side == "tail":
            keep = rank >= length - max_len
        else:  # head+tail; a text within max_len keeps everything under each rule
            head = max_len // 2
            keep = (rank < head) | (rank >= length - (max_len - head))
        flat = flat[keep]
        lengths = np.minimum(lengths, max_len)
    empty = lengths == 0
    if empty.any():  # a text of dropped punctuation reads as one [UNK]
        out = np.full(int(lengths.sum() + empty.sum()), UNK_ID, dtype=np.int64)
        out[np.repeat(~empty, np.maximum(lengths, 1))] = flat
        flat, lengths = out, np.maximum(lengths, 1)
    ends = np.cumsum(lengths).tolist()
    return [flat[a:b] for a, b in zip([0, *ends[:-1]], ends)]


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

    @property
    def tokenizer(self) -> Tokenizer:
        return self._tokenizer

    @tokenizer.setter
    def tokenizer(self, tok: Tokenizer) -> None:
        """A legacy word-level splitter is converted (_upgrade); the fast copies are remade."""
        self._tokenizer = _upgrade(tok) if isinstance(tok, Tokenizer) else tok
        self._fast: _FastWords | bool | None = None

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_fast"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _fast=None)

    @classmethod
    def fit(cls, texts: Iterable[str], vocab_size: int, max_len: int, truncation: str = "tail",
            level: str = "word", min_frequency: int = 1, stopwords: str = "none",
            language: str = "en") -> "TextEncoder":
        tok, trainer_cls = new_tokenizer(level, stopwords, language)
        tok.normalizer = _normalizer(language)
        extra = {"initial_alphabet": pre_tokenizers.ByteLevel.alphabet()} if level == "bpe" else {}
        trainer = trainer_cls(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=[PAD, UNK],
                              show_progress=False, **extra)
        tok.train_from_iterator(texts, trainer)
        return cls(tok, max_len, truncation)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    def encode(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Token ids of each text as the model reads them (what clip() makes of the tokenizer's
        ids); tokenized in parallel by the Rust library."""
        flat, lengths = self.encode_untruncated(texts)
        return clip_flat(flat, lengths, self.max_len, self.truncation)

    def encode_untruncated(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(ids, lengths): the tokenizer's ids of every text, untruncated and concatenated
        (text i's are ids[sum(lengths[:i]):][:lengths[i]]), int64. Word-level tokenizers made by
        this package go the fast way (_FastWords), every other one through the tokenizer."""
        texts = list(texts)
        if self._fast is None and len(texts) >= FAST_PATH_MIN_TEXTS:  # built by the first large batch
            self._fast = _FastWords.of(self._tokenizer) or False
        if self._fast:
            return self._fast.ids(texts)
        return _flatten(self._tokenizer.encode_batch_fast(texts, add_special_tokens=False))

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
