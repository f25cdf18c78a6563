"""Negation augmentation: extra training rows made by negating a short training text's one
polar word, with the label flipped ("the film is boring" 0 -> "the film is not boring" 1).

Why: the mixture hardly ever shows a negated polar word. SST-2's 67,349 training phrases hold 7
"not bad / not terrible / not boring"-type phrases, and the first general model trained on it
read "The movie was not bad at all." as negative (P(positive) 0.03; docs/general_model.md): nothing taught it that "not"
turns "bad" around. The rows added here are such lessons, made from the run's own training
texts only (never from validation or test, never from a hand-written list of sentences).

How, kept simple on purpose (rules, no parser):
- the polar words are learnt from the training rows of at most MAX_WORDS words (SST-2's
  phrases, in practice): a word seen in at least MIN_COUNT of them with at least PURITY of one
  label; of those, the ones seen right after a form of "to be" (is, was, are, were, 's; an
  adverb such as "very" may sit between) at least MIN_PREDICATIVE times, which keeps adjectives
  ("boring", "funny") and leaves out nouns and verbs ("cast", "drag") that "not" would not
  simply turn around;
- a training text is negated when it has at most MAX_WORDS words, no negation already (not,
  n't, never, no, ...), exactly one polar word, whose label is the text's, and that word is
  either the whole text (adverbs aside: "boring" -> "not boring", "very funny" -> "not very
  funny") or follows a form of "to be" ("is (very) funny" -> "is not (very) funny"; "isn't"
  and "is never" are drawn too, so that the forms people type are all seen) with no second
  clause after it ("and", "but", another "is": "is dull and too long" is left alone);
- negated versions of each such text (the form drawn anew each time, so some repeat), label
  flipped: `copies` per text in the direction with more texts (in SST-2's phrases 497 positive
  texts qualify against 212 negative ones: "not funny" is commonly written, "not boring" is
  not), and proportionally more per text in the other, so the two directions are equally many.
  Unbalanced, the copies teach that "not" itself means negative: a first candidate with 3
  copies each moved the challenge suite's negated positives from 53% to 93% and left the
  negated negatives at 17%. A few hundred texts qualify, a small share of a ~90,000-row
  mixture, hence several copies; a copy that equals a validation or test text
  of any source is dropped by the mixture's overlap check like any other training row.
English only: the forms of "to be" and the negators are English words.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from typing import Iterable, Sequence

import numpy as np

from sentiment_lab.data.records import Record

MAX_WORDS = 8  # longer texts hold more than one judgement; negating one word rarely flips them
MIN_COUNT = 20  # short training texts a word must appear in to be judged polar
PURITY = 0.85  # share of one label among them (add-one smoothed)
MIN_PREDICATIVE = 3  # times seen after a form of "to be": an adjective, not a noun or a verb
MARK = "~not"  # in a copy's id, after its original's: how the copies are told apart (metrics, the card)

# the word tokenizer's words (text/tokenizer.py _WORD_RE; data/ may not import text/, a later stage)
_WORD = re.compile(r"\w+(?:['’]\w+)*")
NEGATORS = frozenset({"not", "no", "never", "nothing", "none", "nobody", "nowhere", "neither", "nor",
                      "without", "hardly", "barely", "scarcely", "cannot", "lack", "lacks", "lacking"})
# a form of "to be" -> its contraction with n't ("'s" has none: "it's" -> "it's not")
BE = {"is": "isn't", "was": "wasn't", "are": "aren't", "were": "weren't", "'s": None}
# "'s" is "is" after these ("it's boring"), and a possessive elsewhere ("the film's score")
_IS_AFTER = frozenset({"it", "that", "what", "there", "here", "he", "she", "who", "this", "everything", "one"})
# a second clause or a list after the polar word ("is boring and too long", "is dull, the cast is
# fine"): one negation would not turn the whole text around
_CLAUSE = frozenset({"and", "but", "yet", "or", "though", "although", "while", "whereas"})
ADVERBS = frozenset({"very", "really", "so", "too", "quite", "pretty", "particularly", "especially", "terribly",
                     "incredibly", "truly", "overly", "all", "that", "exactly", "entirely", "completely", "just",
                     "even", "remotely", "genuinely", "always", "altogether", "wholly"})


def is_copy(record: Record) -> bool:
    """Whether a training row is a negated copy made here."""
    return MARK in record.id


def words(text: str) -> list[str]:
    """Lowercased words, inner apostrophes kept; "it's" and "film's" give "it" + "'s"."""
    out: list[str] = []
    for w in _WORD.findall(text.lower().replace("’", "'")):
        if w.endswith("'s") and len(w) > 2:
            out += [w[:-2], "'s"]
        else:
            out.append(w)
    return out


def has_negation(w: list[str]) -> bool:
    """Whether a text's words (words()) hold a negation: not, never, no, ..., or an n't form."""
    return any(x in NEGATORS or x.endswith("n't") for x in w)


def _is_be(w: list[str], i: int) -> bool:
    """Whether w[i] is a form of "to be" (a possessive "'s" is not)."""
    return w[i] in BE and (w[i] != "'s" or (i > 0 and w[i - 1] in _IS_AFTER))


def polar_words(records: Iterable[Record]) -> dict[str, int]:
    """Polar adjectives learnt from the short training texts: word -> the label it carries."""
    seen, positive, predicative = Counter(), Counter(), Counter()
    for r in records:
        w = words(r.text)
        if not 1 <= len(w) <= MAX_WORDS:
            continue
        for x in set(w):
            seen[x] += 1
            positive[x] += r.label
        for i, x in enumerate(w):
            if _is_be(w, i):
                j = i + 1
                while j < len(w) and w[j] in ADVERBS:
                    j += 1
                if j < len(w):
                    predicative[w[j]] += 1
    out = {}
    for x, n in seen.items():
        if n < MIN_COUNT or predicative[x] < MIN_PREDICATIVE or x in NEGATORS or x in BE or x in ADVERBS:
            continue
        p = (positive[x] + 1) / (n + 2)
        if p >= PURITY or p <= 1 - PURITY:
            out[x] = int(p >= PURITY)
    return out


def negate(text: str, label: int, polar: dict[str, int], rng: np.random.Generator) -> str | None:
    """The text with its one polar word negated, or None when the rules above do not apply."""
    w = words(text)
    if not 1 <= len(w) <= MAX_WORDS or has_negation(w):
        return None
    hits = [i for i, x in enumerate(w) if x in polar]
    if len(hits) != 1 or polar[w[hits[0]]] != label:
        return None
    k = hits[0]
    form = rng.choice(3, p=[0.6, 0.25, 0.15])  # not, n't (after "to be"; else "not ... at all"), never
    if all(x in ADVERBS for i, x in enumerate(w) if i != k):  # "boring", "very funny"
        return " ".join(["never" if form == 2 else "not"] + w + (["at", "all"] if form == 1 else []))
    b = k - 1
    while b >= 0 and w[b] in ADVERBS:
        b -= 1
    if b < 0 or not _is_be(w, b) or any(x in _CLAUSE or x in BE for x in w[k + 1:]):
        return None
    if form == 1 and BE[w[b]]:
        out = w[:b] + [BE[w[b]]] + w[b + 1:]
    else:
        out = w[:b + 1] + ["never" if form == 2 else "not"] + w[b + 1:]
    return " ".join(out).replace(" 's", "'s")


def negated_rows(train: Sequence[Record], polar: dict[str, int], seed: int, copies: int = 1) -> list[Record]:
    """Negated versions (the form drawn anew for each), label flipped, of every training row the
    rules apply to: `copies` per text in the direction with more texts, more per text in the
    other, so that as many rows turn negative into positive as positive into negative."""
    rng = np.random.default_rng(seed)
    eligible = [r for r in train if negate(r.text, r.label, polar, rng) is not None]
    count = Counter(r.label for r in eligible)
    most = max(count.values(), default=0)
    per_text = {label: round(copies * most / n) for label, n in count.items()}
    out = []
    for r in eligible:
        for c in range(per_text[r.label]):
            text = negate(r.text, r.label, polar, rng)
            out.append(replace(r, text=text, label=1 - r.label, id=f"{r.id}{MARK}{c}"))
    return out
