"""Counterfactual augmentation: attribute words (religion, nationality, ethnicity, sexual
orientation, gender, first names, places) swapped for others of their group in training reviews.

Why: a review's sentiment does not depend on whether the lead is Christian or Protestant, from
Lagos or from Boston, but a model trained on IMDB picks such words up as cues (issue 30: the
shipped model changed its label on 21% of attribute swaps on an external suite). Showing it the
same review with the word swapped, fresh each epoch, takes the cue away (Lu et al. 2018,
"Gender Bias in Neural NLP", counterfactual data augmentation).

The word lists (attribute_words/<language>.json) are split once, by hand, into a `train` half
and a `heldout` half. Augmentation reads and writes only the train half; the invariance
challenge (analysis/challenge/invariance.py) uses both and reports the held-out words apart, so
that "the model learned to ignore these words" and "the model learned to ignore religion" can
be told apart.

It works on token ids, as the other operations in augment.py do: the tokenizer lowercases, so
case needs no care, and a word is swappable only when the fitted tokenizer reads it as one known
id (unknown words, words split into several BPE pieces and dropped stop words are left alone).
Per review:
- every occurrence of a listed word becomes a word drawn from its group's train half (possibly
  itself); one draw per (review, word), so a name said five times stays one name;
- with probability 1/2 every gendered word flips to its partner together (he/she, his/her,
  man/woman, ...). "her" is ambiguous (him or his): it flips to the first pair listed, "his".
Nothing more clever (no agreement, no coreference): kept modest on purpose.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from sentiment_lab.exceptions import ConfigError
from sentiment_lab.text.tokenizer import UNK_ID

LANGUAGES = ("en", "fr")
GROUPS = ("religion", "nationality", "ethnicity", "sexual_orientation", "gender", "name", "place")
_ALIASES = {"english": "en", "french": "fr", "français": "fr", "francais": "fr"}


def resolve_language(language: str | None) -> str:
    """A config's language ("en", "fr", "english", "French"; None = "en") as a word-list key."""
    if not language:
        return "en"
    key = _ALIASES.get(language.lower(), language.lower())
    if key not in LANGUAGES:
        raise ConfigError(f"no attribute word lists for language {language!r}; known: {', '.join(LANGUAGES)}")
    return key


def word_lists(language: str | None = "en") -> dict[str, Any]:
    """The attribute word lists of a language: group -> {"train": [...], "heldout": [...]} (gender
    entries are [male, female] pairs) and "gender_extra" (pairs for augmentation only)."""
    lang = resolve_language(language)
    path = resources.files("sentiment_lab.text").joinpath("attribute_words", f"{lang}.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in raw.items() if k != "about"}


def group_words(lists: dict[str, Any], group: str, half: str) -> list[str]:
    """The words of one half ("train" or "heldout") of a group, gender pairs flattened."""
    out: list[str] = []
    for w in lists[group][half]:
        out.extend(w if isinstance(w, list) else [w])
    return out


def _single_id(encoder: Any, word: str) -> int | None:
    """The word's id when the tokenizer reads it as one known token, else None."""
    ids, _ = encoder.encode_untruncated([word])
    return int(ids[0]) if len(ids) == 1 and ids[0] != UNK_ID else None


@dataclass(frozen=True)
class CounterfactualTable:
    """What augmentation needs, as arrays over the vocabulary."""

    group: np.ndarray  # (V,) group number of each id (swap groups only), -1 for none
    choices: np.ndarray  # (G, K) each group's training-half ids, right-padded with its first id
    sizes: np.ndarray  # (G,) how many of each row of choices are real
    partner: np.ndarray  # (V,) each gendered id's partner, every other id itself

    @property
    def vocab(self) -> int:
        return len(self.group)

    @classmethod
    def build(cls, encoder: Any, language: str | None = "en") -> "CounterfactualTable":
        """The table for a fitted tokenizer, from the train halves of the language's lists."""
        lists = word_lists(language)
        v = encoder.vocab_size
        group = np.full(v, -1, dtype=np.int64)
        rows: list[list[int]] = []
        for name in (g for g in GROUPS if g != "gender"):
            ids = sorted({i for w in group_words(lists, name, "train") if (i := _single_id(encoder, w)) is not None})
            if len(ids) > 1:  # one known word has nothing to be swapped with
                group[ids] = len(rows)
                rows.append(ids)
        width = max((len(r) for r in rows), default=1)
        choices = np.array([r + [r[0]] * (width - len(r)) for r in rows] or [[0]], dtype=np.int64)
        partner = np.arange(v, dtype=np.int64)
        for male, female in lists["gender"]["train"] + lists["gender_extra"]:
            a, b = _single_id(encoder, male), _single_id(encoder, female)
            if a is not None and b is not None:
                for x, y in ((a, b), (b, a)):
                    if partner[x] == x:  # the first pair wins ("her" -> "his")
                        partner[x] = y
        return cls(group, choices, np.array([len(r) for r in rows] or [0], dtype=np.int64), partner)

    def apply(self, flat: np.ndarray, row: np.ndarray, n_reviews: int, rng: np.random.Generator) -> np.ndarray:
        """Swap the attribute words of a flat batch of ids (row = each id's review number)."""
        at = np.flatnonzero(self.group[flat] >= 0)
        if len(at):
            # one draw per (review, word): a name repeated in a review is replaced consistently
            keys, inverse = np.unique(row[at] * self.vocab + flat[at], return_inverse=True)
            g = self.group[keys % self.vocab]
            picked = self.choices[g, rng.integers(self.sizes[g])]
            flat[at] = picked[inverse]
        flip = rng.random(n_reviews) < 0.5
        return np.where(flip[row], self.partner[flat], flat)
