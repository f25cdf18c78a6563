"""A challenge suite in the spirit of CheckList (Ribeiro et al., ACL 2020): short labelled
cases written for this project, grouped by capability (negation, contrast, sarcasm, typos,
other domains, invariance to names and neutral words, the notebook's own sentences...).

Accuracy on IMDB says how often a model is right on reviews like IMDB's; the suite says
*where* it breaks. Invariance cases come in pairs that differ only by a name or a neutral
word: a pair passes when both get the same label (the label itself is checked too, and
counted in the group's accuracy).
"""
from __future__ import annotations

import json
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any

from sentiment_lab.exceptions import DataError, require_file


def load_suite(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The cases: dicts with group, text, label ("positive"/"negative") and, for invariance, pair."""
    try:
        text = (require_file(path).read_text(encoding="utf-8") if path is not None
                else resources.files("sentiment_lab.analysis.challenge").joinpath("suite.jsonl").read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text") from None
    cases = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path or 'suite.jsonl'}: line {n}: not JSON ({exc.msg})") from None
        if not isinstance(case, dict) or case.get("label") not in ("positive", "negative") or not case.get("text"):
            raise DataError(f"{path or 'suite.jsonl'}: line {n}: needs text, group and label positive/negative")
        case.setdefault("group", "other")
        cases.append(case)
    return cases


def run_challenge(clf: Any, cases: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Predict every case; per-group accuracy, invariance pass rate, and the failures."""
    cases = cases if cases is not None else load_suite()
    preds = clf([c["text"] for c in cases])
    per_group: dict[str, list[bool]] = defaultdict(list)
    failures = []
    for c, p in zip(cases, preds):
        ok = p["label"] == c["label"]
        per_group[c["group"]].append(ok)
        if not ok:
            failures.append({**c, "predicted": p["label"], "score": p["score"]})
    pairs: dict[Any, list[str]] = defaultdict(list)
    for c, p in zip(cases, preds):
        if "pair" in c:
            pairs[c["pair"]].append(p["label"])
    broken = [k for k, labels in pairs.items() if len(set(labels)) > 1]
    groups = {g: {"n": len(v), "accuracy": sum(v) / len(v)} for g, v in per_group.items()}
    return {"n": len(cases), "accuracy": sum(sum(v) for v in per_group.values()) / len(cases), "groups": groups,
            "invariance": {"pairs": len(pairs), "consistent": len(pairs) - len(broken),
                           "broken": [[c["text"] for c in cases if c.get("pair") == k] for k in broken]},
            "failures": failures}
