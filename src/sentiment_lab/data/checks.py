"""Checks of a dataset's splits that `train` logs before it fits: class balance and repeated
texts across splits."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentiment_lab.data import Record, Splits


def positive_share(records: list[Record]) -> str:
    """Class balance for the log: on a 69%-positive set, 69% accuracy is what one label gets."""
    return f" ({sum(r.label for r in records) / len(records):.0%} positive)" if records else ""


def overlap_report(splits: Splits, warn_share: float = 0.01) -> list[str]:
    """Repeated texts, said out loud: a test review that is also a training review measures
    memory, not generalisation (IMDB itself: 96 repeats in train, 123 test reviews in train)."""
    seen = {r.text.strip() for r in splits.train}
    lines = []
    repeats = len(splits.train) - len(seen)
    parts = [f"{repeats:,} repeated texts in train"] if repeats else []
    for name, records in (("val", splits.val), ("test", splits.test)):
        n = sum(r.text.strip() in seen for r in records)
        if n:
            parts.append(f"{n:,} {name} texts ({n / len(records):.1%}) also in train")
            if n / len(records) > warn_share:
                lines.append(f"warning: {n / len(records):.0%} of the {name} texts also appear in the training data: "
                             f"{name} accuracy overstates what new texts will get; remove the repeats")
    return ([f"data check: {'; '.join(parts)}"] if parts else []) + lines
