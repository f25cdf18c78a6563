"""Invariance to protected attributes (issue 30): swapping a religion, nationality, ethnicity,
sexual orientation, gender word, a first name or a place in a neutral sentence must not change
the label.

The sentences are generated from templates (invariance_<language>.json beside this module) and
the word lists of text/attribute_words/<language>.json. A *frame* is one template with every slot
but the attribute filled ("{name} is a {religion}." with name = Edward); its *variants* fill the
attribute with every word of the group, the training half and the held-out half of the lists.
Generation is deterministic: when a group's templates give more frames than it asks for, a fixed
seeded draw picks them.

Metric, per group:
- flip rate: the share of variants whose label differs from their frame's majority label (a tie
  goes to the label of the frame's mean P(positive)). 0 means the word never matters; the target
  for shipped models is <= 2% in every group.
- flip rate on held-out words: the same share among the variants whose word is in the held-out
  half, which counterfactual augmentation (text/counterfactual.py) never sees. A model that only
  learned to ignore the augmented words shows a low flip rate and a high held-out one.
- max spread: the largest max - min P(positive) within one frame, with that frame's two extreme
  variants (the issue's example: "Edward is a Christian" 0.31 vs "... Protestant" 0.67).
- the words that flip most often (share of their variants that flip).
"""
from __future__ import annotations

import json
import math
import re
from importlib import resources
from typing import Any, Sequence

import numpy as np

from sentiment_lab.inference.postprocess import is_positive
from sentiment_lab.text.counterfactual import GROUPS, group_words, resolve_language, word_lists

TARGET_FLIP_RATE = 0.02  # issue 30: shipped models change their label on <= 2% of swaps per group
_SEED = 0
_AN = re.compile(r"\b([Aa]) (?=[AEIOUaeiou])")  # English "a" before a vowel: "an Atheist"


def load_templates(language: str | None = "en") -> dict[str, Any]:
    """The template file of a language: {"fillers": {slot: [...]}, "groups": {group: {"frames", "templates"}}}."""
    lang = resolve_language(language)
    path = resources.files("sentiment_lab.analysis.challenge").joinpath(f"invariance_{lang}.json")
    return json.loads(path.read_text(encoding="utf-8"))


def _slot_values(spec: dict[str, Any], lists: dict[str, Any], slot: str) -> list[str]:
    if slot in GROUPS:
        return group_words(lists, slot, "train") + group_words(lists, slot, "heldout")
    return spec["fillers"][slot]


def _frames(spec: dict[str, Any], lists: dict[str, Any], group: str, n: int) -> list[tuple[str, dict[str, str]]]:
    """n (template, filled slots) pairs drawn without repeats from every template's combinations
    of its other slots: one index into their mixed-radix count, decoded."""
    options = []
    for template in spec["groups"][group]["templates"]:
        slots = [s for s in dict.fromkeys(re.findall(r"{(\w+)}", template)) if s != group]
        values = [_slot_values(spec, lists, s) for s in slots]
        options.append((template, slots, values, math.prod(len(v) for v in values)))
    total = sum(o[3] for o in options)
    picks = sorted(np.random.default_rng(_SEED).choice(total, size=min(n, total), replace=False).tolist())
    starts = np.cumsum([0] + [o[3] for o in options])
    out = []
    for k in picks:
        t = int(np.searchsorted(starts, k, side="right")) - 1
        template, slots, values, _ = options[t]
        rest, fill = k - int(starts[t]), {}
        for slot, vals in zip(slots, values):
            rest, i = divmod(rest, len(vals))
            fill[slot] = vals[i]
        out.append((template, fill))
    return out


def generate(language: str | None = "en", frames: int | None = None) -> list[dict[str, Any]]:
    """The variants: dicts with group, frame ("religion/12"), word, heldout (bool) and text.
    `frames` overrides every group's frame count (fewer for a quick look)."""
    lang = resolve_language(language)
    spec, lists = load_templates(lang), word_lists(lang)
    out = []
    for group, g in spec["groups"].items():
        words = [(w, False) for w in group_words(lists, group, "train")]
        words += [(w, True) for w in group_words(lists, group, "heldout")]
        for f, (template, fill) in enumerate(_frames(spec, lists, group, frames or g["frames"])):
            for word, held in words:
                text = template.format(**fill, **{group: word})
                out.append({"group": group, "frame": f"{group}/{f}", "word": word, "heldout": held,
                            "text": _AN.sub(r"\1n ", text) if lang == "en" else text})
    return out


def _p_positive(clf: Any, texts: list[str]) -> np.ndarray:
    """P(positive) from a classifier (predict_proba), or a callable returning either P(positive)
    as an array or {"label", "score"} dicts."""
    if hasattr(clf, "predict_proba"):
        return np.asarray(clf.predict_proba(texts))[:, 1].astype(np.float64)
    preds = clf(texts)
    if isinstance(preds, np.ndarray):
        return preds.astype(np.float64)
    return np.array([d["p_positive"] if "p_positive" in d else d["score"] if d["label"] == "positive"
                     else 1 - d["score"] for d in preds], dtype=np.float64)


def flip_stats(variants: Sequence[dict[str, Any]], p: np.ndarray) -> dict[str, Any]:
    """The metric above, per group, from the variants and their P(positive)."""
    p = np.asarray(p, dtype=np.float64)
    frames, inverse = np.unique([v["frame"] for v in variants], return_inverse=True)
    pos = is_positive(p).astype(np.int64)
    n_f = np.bincount(inverse, minlength=len(frames))
    pos_f = np.bincount(inverse, weights=pos, minlength=len(frames))
    mean_f = np.bincount(inverse, weights=p, minlength=len(frames)) / n_f
    majority = np.where(2 * pos_f == n_f, is_positive(mean_f), 2 * pos_f > n_f)
    flipped = pos != majority[inverse]
    lo, hi = np.full(len(frames), np.inf), np.full(len(frames), -np.inf)
    np.minimum.at(lo, inverse, p)
    np.maximum.at(hi, inverse, p)
    groups = {}
    for group in dict.fromkeys(v["group"] for v in variants):
        rows = np.flatnonzero([v["group"] == group for v in variants])
        groups[group] = _group_stats(variants, p, rows, flipped, inverse, hi - lo)
    rates = [g["flip_rate"] for g in groups.values()]
    return {"n": len(variants), "target_flip_rate": TARGET_FLIP_RATE, "groups": groups,
            "mean_flip_rate": float(np.mean(rates)) if rates else 0.0,
            "max_flip_rate": max(rates, default=0.0)}


def _group_stats(variants: Sequence[dict[str, Any]], p: np.ndarray, rows: np.ndarray, flipped: np.ndarray,
                 inverse: np.ndarray, spread: np.ndarray) -> dict[str, Any]:
    held = np.array([variants[i]["heldout"] for i in rows], dtype=bool)
    worst = int(inverse[rows][np.argmax(spread[inverse[rows]])])
    in_worst = rows[inverse[rows] == worst]
    lo, hi = in_worst[np.argmin(p[in_worst])], in_worst[np.argmax(p[in_worst])]
    words: dict[str, list[bool]] = {}
    for i in rows:
        words.setdefault(variants[i]["word"], []).append(bool(flipped[i]))
    top = sorted(((w, sum(f) / len(f)) for w, f in words.items()), key=lambda wf: -wf[1])[:5]
    return {"variants": int(len(rows)), "frames": int(len(np.unique(inverse[rows]))),
            "flip_rate": float(flipped[rows].mean()),
            "flip_rate_heldout": float(flipped[rows][held].mean()) if held.any() else None,
            "max_spread": float(spread[worst]),
            "max_spread_pair": [{"text": variants[i]["text"], "p_positive": round(float(p[i]), 4)} for i in (lo, hi)],
            "top_words": [{"word": w, "flip_rate": round(r, 4)} for w, r in top if r > 0]}


def run_invariance(clf: Any, language: str | None = "en", variants: Sequence[dict[str, Any]] | None = None,
                   frames: int | None = None) -> dict[str, Any]:
    """Generate (or take) the variants, predict them, and measure: flip_stats plus the language."""
    lang = resolve_language(language)
    variants = list(variants) if variants is not None else generate(lang, frames)
    p = _p_positive(clf, [v["text"] for v in variants]) if variants else np.zeros(0)
    return {"language": lang, **flip_stats(variants, p)}


def summary(res: dict[str, Any]) -> dict[str, Any]:
    """The figures a bundle keeps in metrics.json (and its model card shows): per group, the
    flip rates and the spread, without example texts."""
    keep = ("variants", "flip_rate", "flip_rate_heldout", "max_spread")
    return {"language": res["language"], "n": res["n"], "mean_flip_rate": res["mean_flip_rate"],
            "max_flip_rate": res["max_flip_rate"],
            "groups": {g: {k: v[k] for k in keep} for g, v in res["groups"].items()}}


