"""The general model's figures: test accuracy per source over several seeds of one recipe,
the challenge suite, size, and raw-text throughput against the shipped IMDB model in the same
process (issue 30's targets).

Train the seeds first (the recipe is in docs/general_model.md), e.g.
    SENTIMENT_LAB_DATA=../shared/data sentiment-lab train --preset general --seed 42 -o runs/general-42
then
    python benchmarks/bench_general.py runs/general-42 runs/general-43 runs/general-44 \
        --reference imdb --out benchmarks/results/general_cpu/results.json

Test figures are read from each run's metrics.json (test_by_source: written once at the end of
training, never used to choose anything). Throughput: predict_proba on the first N IMDB test
reviews, the candidate and the reference interleaved, median of --rounds.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_seed import machine_info, write_result  # noqa: E402

from sentiment_lab import SentimentClassifier  # noqa: E402
from sentiment_lab.analysis.challenge import run_challenge  # noqa: E402
from sentiment_lab.data.datasets import load_dataset  # noqa: E402


def mean_std(xs: list[float]) -> dict:
    return {"mean": statistics.fmean(xs), "std": statistics.stdev(xs) if len(xs) > 1 else 0.0, "values": xs}


def bundle_of(run: Path) -> Path:
    return run / "bundle" if (run / "bundle").is_dir() else run


def size_mb(bundle: Path) -> float:
    return sum(f.stat().st_size for f in bundle.iterdir() if f.is_file()) / 1e6


def per_seed(run: Path) -> dict:
    m = json.loads((run / "metrics.json").read_text())
    by = {k: v["accuracy"] for k, v in (m.get("test_by_source") or {}).items()}
    ch = run_challenge(SentimentClassifier.from_pretrained(bundle_of(run)))
    return {"run": str(run), "test_by_source": by, "test_overall": m["test"]["accuracy"],
            "challenge": ch["accuracy"], "challenge_groups": {g: v["accuracy"] for g, v in ch["groups"].items()},
            "best_epoch": m.get("best_epoch"), "train_s": m.get("timings", {}).get("train_s")}


def throughput(clfs: dict[str, SentimentClassifier], texts: list[str], rounds: int) -> dict:
    for clf in clfs.values():
        clf.predict_proba(texts[:200])  # warm-up
    times: dict[str, list[float]] = {k: [] for k in clfs}
    for _ in range(rounds):
        for k, clf in clfs.items():
            t0 = time.perf_counter()
            clf.predict_proba(texts)
            times[k].append(time.perf_counter() - t0)
    return {k: {"reviews_per_s": len(texts) / statistics.median(v), "seconds": v} for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--reference", default=None, help="bundle to compare throughput with (default: the shipped IMDB model)")
    ap.add_argument("--n", type=int, default=5000, help="IMDB test reviews timed")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    seeds = [per_seed(r) for r in args.runs]
    sources = sorted({s for x in seeds for s in x["test_by_source"]})
    summary = {s: mean_std([x["test_by_source"][s] for x in seeds]) for s in sources}
    summary["challenge"] = mean_std([x["challenge"] for x in seeds])
    for g in ("negated_negative", "negated_positive"):
        summary[g] = mean_std([x["challenge_groups"][g] for x in seeds])
    imdb_test = [r.text for r in load_dataset("imdb", progress=False) if r.split == "test"][: args.n]
    ref = Path(args.reference) if args.reference else None
    if ref is None:
        from sentiment_lab.inference.bundle import default_bundle
        ref = default_bundle()
    shipped_ref = SentimentClassifier.from_pretrained(ref)
    ch_ref = run_challenge(shipped_ref)
    tp = throughput({"candidate": SentimentClassifier.from_pretrained(bundle_of(args.runs[0])), "reference": shipped_ref},
                    imdb_test, args.rounds)
    result = {"benchmark": "general model: per-source test accuracy, challenge, size, throughput",
              "machine": machine_info(), "per_seed": seeds, "summary": summary,
              "size_mb": size_mb(bundle_of(args.runs[0])), "reference": str(ref),
              "reference_challenge": ch_ref["accuracy"],
              "throughput_imdb_test": {**tp, "n": len(imdb_test),
                                       "ratio": tp["candidate"]["reviews_per_s"] / tp["reference"]["reviews_per_s"]},
              "command": " ".join(sys.argv)}
    print(write_result(result, args.out))


if __name__ == "__main__":
    main()
