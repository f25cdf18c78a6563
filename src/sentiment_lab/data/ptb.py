"""Penn-Treebank-tokenized text back to what people type.

SST-2 (GLUE) ships its sentences lowercased and split Penn-Treebank style: `it 's`, `does n't`,
`ca n't`, `-lrb- sic -rrb-`, `` `` quoted '' ``, `, .` as tokens. The word tokenizer here
keeps `doesn't` as one token but splits `does n't` into `does`, `n`, `t`: a model trained on the
raw text would never see the `doesn't` people type. The SST-2 loader therefore runs its text
through `detokenize`, so training and prediction see the same tokens (tests/test_datasets.py
checks that the tokenizer reads both the same way). Case cannot be restored and is left lower;
the tokenizer lowercases anyway.
"""
from __future__ import annotations

import re

_BRACKETS = {"-lrb-": "(", "-rrb-": ")", "-lsb-": "[", "-rsb-": "]", "-lcb-": "{", "-rcb-": "}"}
_BRACKET = re.compile(r"(?<!\S)(" + "|".join(map(re.escape, _BRACKETS)) + r")(?!\S)", re.IGNORECASE)
# PTB splits these words in two: gonna -> gon na, wanna -> wan na, gotta -> got ta.
_SPLIT_WORDS = re.compile(r"\b(gon|wan) na\b|\bgot ta\b", re.IGNORECASE)
_CLITIC = re.compile(r"(?<=\S) (n't|'s|'re|'ve|'ll|'d|'m)(?!\w)", re.IGNORECASE)  # does n't, it 's, we 're
_OPEN_QUOTE = re.compile(r"(?<!\S)(``|`)(?:\s+|$)")  # `` word -> "word ;  ` word -> 'word (also a phrase's last token)
_CLOSE_QUOTE = re.compile(r"\s+('')")
_CLOSE_SINGLE = re.compile(r"(?<=\S)\s+'(?=\s|$)")  # word ' -> word' (a closing quote or the plural possessive)
_SPACE_BEFORE = re.compile(r"\s+([,.!?;:%)\]}])")  # the film , -> the film,
_SPACE_AFTER = re.compile(r"([(\[{$])\s+")  # ( sic -> (sic


def detokenize(text: str) -> str:
    """`does n't` -> `doesn't`, `it 's` -> `it's`, `-lrb- x -rrb-` -> `(x)`, `` `` x '' `` -> `"x"`,
    `` ` x ' `` -> `'x'`, `film ,` -> `film,`, `gon na` -> `gonna`; whitespace collapsed and the
    trailing space SST-2 leaves dropped. Text people typed passes through unchanged."""
    t = " ".join(text.split())
    t = _BRACKET.sub(lambda m: _BRACKETS[m.group(1).lower()], t)
    t = t.replace("\\/", "/").replace("\\*", "*")  # PTB escapes these two
    t = _SPLIT_WORDS.sub(lambda m: m.group(0).replace(" ", ""), t)
    t = _CLITIC.sub(r"\1", t)
    t = _OPEN_QUOTE.sub(lambda m: '"' if m.group(1) == "``" else "'", t)
    t = _CLOSE_QUOTE.sub('"', t).replace("''", '"')
    t = _CLOSE_SINGLE.sub("'", t)
    t = _SPACE_BEFORE.sub(r"\1", t)
    t = _SPACE_AFTER.sub(r"\1", t)
    return t.strip()
