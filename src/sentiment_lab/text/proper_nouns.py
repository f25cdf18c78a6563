"""Proper nouns read as unknown words (text.proper_nouns = "unknown"): every word that the
training texts write with a capital letter in the middle of a sentence (Edward, Jennifer, Tokyo,
Chinese, Muslim, Hollywood) is left out of the vocabulary, so it reads as [UNK], the same id as
any word the vocabulary does not know.

Why: on neutral sentences the mixture's model changed its label when only a name, a place, a
nationality or a religion was swapped ("Chen is Irish." P(positive) 0.16, "Chen is Korean." 0.90;
"Jennifer lives in Tokyo." 0.18, "Connor lives in Tokyo." 0.87): it had learnt the actors, towns
and peoples that its reviews praise or pan. Counterfactual augmentation (counterfactual.py) swaps
only the words of its lists; this rule needs no list, so it covers the names nobody listed. The
price: a review can no longer lean on a name ("an Uwe Boll film"); validation says what that costs
(docs/general_model.md).

Which words, learnt from the run's own training texts (never from validation, test or the
invariance suite's lists):
- only texts written in mixed case count (SST-2 is lowercased throughout, a text in capitals
  shouts): a text with no capital letter, or with no lowercase one, is skipped;
- a word counts where it follows, in the same sentence, a word or a comma (not the start of a
  text, not after . ! ? : or a quote or a bracket, not after an HTML line break): there its
  capital is the word's own, not the sentence's. A word in capitals throughout ("TV", "OK")
  counts as neither;
- a word is a proper noun when it is seen there at least MIN_COUNT times and written with a
  capital at least SHARE of them: in the general mixture "English" (98%), "Oscar" (97%),
  "French" (89%), "Catholic" (82%) are; "God" (66%), "Black" (21%), "will" (2%) are not. Reviews
  are typed casually, so a proper noun is often written in lowercase: at 80-90% the general
  mixture's words are still names, titles and brands (Frank, Grant, Trek, Sony, Dutch, Raj),
  below 70% common nouns start (god, captain, moon, hill), hence 0.8. "I" and its contractions
  are not names.
The words are taken out of the fitted word-level vocabulary (fitted with as many more words, so
that it keeps its size): the bundle's tokenizer.json holds the rule, and every prediction path
applies it. (One shared [NAME] id was the first idea; the tokenizer library keeps one word per
id when it reads tokenizer.json, so several words cannot share an id there.)
"""
from __future__ import annotations

import json
import re
from collections import Counter
from typing import Iterable

from tokenizers import Tokenizer

from sentiment_lab.text.tokenizer import _WORD_RE, TextEncoder

MIN_COUNT = 5  # mid-sentence sightings needed to judge a word
SHARE = 0.8  # share of them written with a capital (see above)
_TOKEN = re.compile(rf"<br\s*/?>|{_WORD_RE}|[^\w\s]")  # words as the tokenizer reads them, and the marks between
_MID = re.compile(rf"{_WORD_RE}|,")  # what may come right before a mid-sentence word
_NOT_NAMES = frozenset({"i", "i'm", "i've", "i'd", "i'll"})


def count_cases(texts: Iterable[str]) -> tuple[Counter, Counter]:
    """(capitalised, seen): per lowercased word, its mid-sentence sightings written with a
    capital, and all its mid-sentence sightings (rules in the module docstring)."""
    capital, seen = Counter(), Counter()
    for text in texts:
        if text.islower() or text.isupper() or not any(c.isalpha() for c in text):
            continue  # one case throughout: its capitals say nothing
        prev = None
        for tok in _TOKEN.findall(text):
            if prev is not None and _MID.fullmatch(prev) and tok[0].isalpha() and not tok.isupper():
                # ’ -> ': the English normalizer keeps ’, so a curly "edward’s" stays in the vocabulary;
                # left so because the shipped general model (recipe 4) was trained with it
                key = tok.lower().replace("’", "'")
                seen[key] += 1
                capital[key] += tok[0].isupper()
            prev = tok
    return capital, seen


def proper_nouns(texts: Iterable[str], min_count: int = MIN_COUNT, share: float = SHARE) -> set[str]:
    """The lowercased words that the texts write as proper nouns (the rules above)."""
    capital, seen = count_cases(texts)
    return {w for w, n in seen.items() if n >= min_count and capital[w] >= share * n and w not in _NOT_NAMES}


def without_words(encoder: TextEncoder, words: Iterable[str], vocab_size: int) -> tuple[TextEncoder, int]:
    """A copy of a fitted word-level encoder whose vocabulary has none of `words` (they read as
    [UNK], as an unknown word does), renumbered and cut to its first `vocab_size` ids: fit with
    vocab_size + len(words) first, and the vocabulary stays as large as asked. Returns the
    encoder and how many of `words` the vocabulary held."""
    spec = json.loads(encoder.tokenizer.to_str())
    model = spec["model"]
    if model.get("type") != "WordLevel":
        raise ValueError("text.proper_nouns='unknown' needs text.level='word'")
    drop = set(words)
    special = {t["content"] for t in spec.get("added_tokens") or []}
    ordered = sorted(model["vocab"].items(), key=lambda kv: kv[1])
    kept = [w for w, _ in ordered if w in special or w not in drop][:vocab_size]
    if any(model["vocab"][w] != i for i, w in enumerate(w for w in kept if w in special)):
        raise ValueError("the special tokens must hold the first ids")
    spec["model"] = dict(model, vocab={w: i for i, w in enumerate(kept)})
    tok = Tokenizer.from_str(json.dumps(spec))
    return TextEncoder(tok, encoder.max_len, encoder.truncation), sum(w in drop for w, _ in ordered)
