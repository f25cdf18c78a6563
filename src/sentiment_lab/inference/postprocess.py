"""One prediction, from P(positive) to what a user reads, in one place.

    postprocess(0.2598)  -> {"label": "negative", "score": 0.7402, "p_positive": 0.2598}

`label` is "positive" exactly when P(positive) >= 0.5; `score` is the confidence in that
label, max(p, 1 - p), so always >= 0.5; `p_positive` is the model's P(positive). Every
place that turns probabilities into labels or result dicts (the classifiers' `__call__`
and `predict`, the web API, streaming, compare, explain) goes through this module, so the
rule and the field names cannot drift apart.
"""
from __future__ import annotations

from typing import Any

import numpy as np

LABELS = ["negative", "positive"]
THRESHOLD = 0.5  # P(positive) at or above it reads "positive"


def is_positive(p: Any) -> Any:
    """p >= 0.5, for one probability or an array of them."""
    return p >= THRESHOLD


def label_of(p: float) -> str:
    """ "positive" or "negative" for one P(positive) (NaN reads "negative")."""
    return LABELS[int(is_positive(p))]


def confidence(p: float) -> float:
    """The probability of the predicted label, max(p, 1 - p)."""
    return float(max(p, 1 - p))


def postprocess(p_positive: float, with_p_positive: bool = True) -> dict[str, Any]:
    """{"label", "score", "p_positive"} of one prediction (`with_p_positive=False`: the first two,
    what `clf("text")` returns)."""
    out: dict[str, Any] = {"label": label_of(p_positive), "score": confidence(p_positive)}
    if with_p_positive:
        out["p_positive"] = float(p_positive)
    return out


def postprocess_columns(p_positive: np.ndarray) -> dict[str, np.ndarray]:
    """The same three fields as columns, for many predictions at once (tables, streaming)."""
    p = np.asarray(p_positive)
    return {"label": np.where(is_positive(p), LABELS[1], LABELS[0]), "score": np.maximum(p, 1 - p), "p_positive": p}
