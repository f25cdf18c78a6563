"""A light guess of a text's language, for one note: a French review given to an English model.

A model reads the language it was trained on (config text.language, "en" for every bundle saved
before that setting existed). Given a French review, an English model still answers, but from
the few words it knows ("film", "super"), so its answer means little. Predictions are never
refused for it: the note says which language the model reads, and the prediction follows.

The guess counts function words (articles, pronouns, auxiliaries, prepositions) of each language
among the text's words. Those make up a third or more of any running text and rarely belong to
the other language, so a short list is enough and no language-identification model (fastText's
lid.176 is 126 MB) is needed. It says nothing about a text of fewer than MIN_WORDS words or with
too few function words: "Superbe!" or a list of titles is not worth a note.
"""
from __future__ import annotations

import re

# Only words that are rare in the other language: "a", "on", "en", "son", "plus", "pour" are
# left out because both languages use them (or English names and borrowings do).
FUNCTION_WORDS = {
    "en": frozenset("the and is are was were be been being this that these those it its of to with for from "
                    "not but have has had do does did i you he she we they my your his her our their what which "
                    "who would could should will can an at by as or if so very there about".split()),
    "fr": frozenset("le la les un une des du de et est sont été être était pas ne je tu il elle nous vous ils "
                    "elles ce cette ces que qui dans sur avec mais ou où au aux très mon ma mes ton ta tes sa ses "
                    "leur leurs notre votre y ça aussi bien comme même c' d' j' l' m' n' qu' s' t'".split()),
}
NAMES = {"en": "English", "fr": "French"}
MIN_WORDS = 4  # fewer words than this: no guess
MIN_SHARE = 0.2  # a language's function words must make up at least this share of the words
# Words with their inner apostrophes ("don't" stays whole); a French elision is split off with
# its apostrophe ("l’amour" -> l', amour), so that it counts as French, and a lone letter (the
# "s" of Penn-Treebank "it 's") as nothing. "n't" (PTB's "ca n't") is not an elision.
_WORDS = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_ELISION = re.compile(r"(jusqu|lorsqu|puisqu|qu|[cdjlmnst])['’](?!t$)(.+)")


def words(text: str) -> list[str]:
    """The lowercased words of `text`, French elisions split off."""
    out = []
    for w in _WORDS.findall(text.lower()):
        m = _ELISION.fullmatch(w)
        out.extend((m[1] + "'", m[2]) if m else (w,))
    return out


def guess_language(text: str) -> str | None:
    """"en", "fr", or None when the text is too short or its function words are too few to say."""
    seen = words(text)
    if len(seen) < MIN_WORDS:
        return None
    counts = {lang: sum(w in fw for w in seen) for lang, fw in FUNCTION_WORDS.items()}
    best = max(counts, key=counts.get)
    if counts[best] < MIN_SHARE * len(seen) or counts[best] <= 2 * min(counts.values()):
        return None
    return best


def language_note(text: str, model_language: str, model_name: str = "the model") -> str | None:
    """One line when `text` looks written in another language than the model reads, else None:
    "this text looks French; the model `imdb` reads English"."""
    guessed = guess_language(text)
    if guessed is None or guessed == model_language:
        return None
    return (f"this text looks {NAMES[guessed]}; the model `{model_name}` reads "
            f"{NAMES.get(model_language, model_language)}")
