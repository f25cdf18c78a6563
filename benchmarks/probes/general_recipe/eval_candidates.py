"""Selection figures for general-model candidates, never test figures: per-source VALIDATION
accuracy (each run's metrics.json: val_by_source), the accuracy on the SST-2 dev sentences that
hold a negation (not, n't, never, no, ...: real sentences nobody here wrote, the validation
figure for data.negation), the English challenge suite (overall and the two negation groups) and
the protected-attribute invariance flip rates (mean and worst group).

    python benchmarks/probes/general_recipe/eval_candidates.py NAME=RUN_DIR ... --out FILE.json
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench_seed import machine_info, write_result  # noqa: E402

from sentiment_lab import SentimentClassifier  # noqa: E402
from sentiment_lab.analysis.challenge import run_challenge  # noqa: E402
from sentiment_lab.analysis.challenge.invariance import run_invariance, summary  # noqa: E402
from sentiment_lab.data import load_dataset  # noqa: E402
from sentiment_lab.data.negation import has_negation, words  # noqa: E402


def negated_dev() -> tuple[list[str], list[int]]:
    """SST-2 dev sentences with a negation word, and their labels."""
    rows = [r for r in load_dataset("sst2", splits=["val"], progress=False)
            if has_negation(words(r.text))]
    return [r.text for r in rows], [r.label for r in rows]


def candidate(run: Path, negated: tuple[list[str], list[int]]) -> dict:
    m = json.loads((run / "metrics.json").read_text())
    cfg = json.loads((run / "config.json").read_text())
    clf = SentimentClassifier.from_pretrained(run / "bundle")
    ch = run_challenge(clf)
    inv = summary(run_invariance(clf))
    texts, labels = negated
    neg_dev = sum(int(p >= 0.5) == y for p, y in zip(clf.predict_proba(texts)[:, 1], labels)) / len(labels)
    return {"val": {k: round(v["accuracy"], 4) for k, v in (m.get("val_by_source") or {}).items()},
            "val_pooled": round(m["val"]["accuracy"], 4), "best_epoch": m.get("best_epoch"),
            "sst2_dev_negated": round(neg_dev, 4), "sst2_dev_negated_n": len(labels),
            "challenge": round(ch["accuracy"], 4),
            "negated_negative": round(ch["groups"]["negated_negative"]["accuracy"], 4),
            "negated_positive": round(ch["groups"]["negated_positive"]["accuracy"], 4),
            "invariance_mean_flip": round(inv["mean_flip_rate"], 4), "invariance_max_flip": round(inv["max_flip_rate"], 4),
            "invariance_groups": {g: round(v["flip_rate"], 4) for g, v in inv["groups"].items()},
            "model": {k: cfg["model"][k] for k in ("pooling", "ngram_buckets")}, "augment": cfg["train"]["augment"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+", help="NAME=RUN_DIR")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    out = {"machine": machine_info(), "command": " ".join(sys.argv), "candidates": {}}
    negated = negated_dev()  # read once for every candidate
    for spec in a.runs:
        name, run = spec.split("=", 1)
        out["candidates"][name] = candidate(Path(run), negated)
    print(write_result(out, a.out))


if __name__ == "__main__":
    main()
