"""French, measured: the `french` preset against TF-IDF + LR on the same splits, on MARC (French
Amazon reviews) and Webis-CLS-10 French books; and the language guess behind the note for a French
text given to an English model.

    SENTIMENT_LAB_DATA=../shared/data nice -n 15 .venv/bin/python benchmarks/bench_french.py \\
        --out benchmarks/results/french_cpu --runs /tmp/french_runs

Protocol, per dataset and seed (42, 43, 44):
  - splits: load_splits(cfg.data, seed) as `train` makes them: MARC's validation is a stratified
    random 20% of its train sample (seeded, so each seed has its own), CLS books has its own 400;
    test is never used to choose anything;
  - RNN: `train(load_config("french", [data.source, train.seed]))`, the epoch kept on validation
    loss; its test accuracy;
  - TF-IDF + LR (compare/baselines/tfidf.py): C and min_df chosen on the same validation split,
    fitted on the same training rows, scored on the same test.
The data is research-only: run folders and bundles go to --runs (outside the repository) and
are never committed; only numbers are written to --out.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_seed import machine_info  # noqa: E402

from sentiment_lab.config import load_config  # noqa: E402
from sentiment_lab.data import load_splits  # noqa: E402
from sentiment_lab.fileio import write_json  # noqa: E402

DATASETS = ("marc-fr", "cls-books-fr")
TARGETS = {"marc-fr": 0.910, "cls-books-fr": 0.870}  # issue 30
GRID = [{"C": c, "min_df": m} for m in (1, 2) for c in (1.0, 4.0, 16.0)]
# For the language guess: English sets (none may read as French) and the French test splits.
GUESS_SETS = {"marc-fr": "french/marc_fr/test.csv.gz", "cls-books-fr": "french/cls_books_fr/test.csv.gz",
              "sst2-test": "sst2/test.csv.gz", "sst2-dev": "sst2/dev.csv.gz",
              "amazon-blitzer": "amazon_blitzer/reviews.csv.gz"}


def config(dataset: str, seed: int, args: argparse.Namespace):
    overrides = [f"data.source={dataset}", f"train.seed={seed}", *args.set]
    if args.limit:
        overrides.append(f"data.limit={args.limit}")
    return load_config(args.preset, overrides)


def run_rnn(dataset: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    from sentiment_lab.training.loop import train

    t0 = time.perf_counter()
    result = train(config(dataset, seed, args), Path(args.runs) / f"{dataset}_seed{seed}", progress=False)
    m = result.metrics
    return {"seed": seed, "test_accuracy": m["test"]["accuracy"], "val_accuracy": m["val"]["accuracy"],
            "best_epoch": result.best_epoch, "train_s": time.perf_counter() - t0}


def run_tfidf(dataset: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    from sentiment_lab.compare.baselines import get_baseline

    splits = load_splits(config(dataset, seed, args).data, seed=seed, progress=False)
    (x, y), (xv, yv), (xt, yt) = ([[r.text for r in s], [r.label for r in s]]
                                  for s in (splits.train, splits.val, splits.test))
    scored = [(get_baseline("tfidf", **p).fit(x, y).score(xv, yv), i) for i, p in enumerate(GRID)]
    val, best = max(scored)
    clf = get_baseline("tfidf", **GRID[best]).fit(x, y)
    return {"seed": seed, "params": GRID[best], "val_accuracy": val, "test_accuracy": clf.score(xt, yt),
            "sizes": {"train": len(x), "val": len(xv), "test": len(xt)}}


def summary(rows: list[dict[str, Any]]) -> dict[str, float]:
    accs = [r["test_accuracy"] for r in rows]
    return {"test_accuracy_mean": statistics.mean(accs),
            "test_accuracy_std": statistics.stdev(accs) if len(accs) > 1 else 0.0, "n_seeds": len(accs)}


def language_guess(data: Path) -> dict[str, dict[str, int]]:
    """How the note's guess reads each set: counts of en / fr / none (no guess)."""
    import pandas as pd

    from sentiment_lab.text.language import guess_language

    out = {}
    for name, rel in GUESS_SETS.items():
        if (data / rel).is_file():
            texts = pd.read_csv(data / rel)["text"].astype(str)
            out[name] = dict(collections.Counter(str(guess_language(t)).lower() for t in texts))
    return out


def merge(files: list[Path], out: Path) -> dict[str, Any]:
    """The union of several results.json (each dataset/method's runs, by seed), summaries recomputed."""
    parts = [json.loads(f.read_text()) for f in files]
    merged = {**parts[0], "merged_from": [f.name if f.parent == out else str(f) for f in files], "datasets": {}}
    for part in parts:
        for dataset, methods in part["datasets"].items():
            slot = merged["datasets"].setdefault(dataset, {"target": methods["target"]})
            for method in ("rnn", "tfidf"):
                runs = {r["seed"]: r for r in slot.get(method, {}).get("runs", [])}
                runs.update({r["seed"]: r for r in methods[method]["runs"]})
                rows = [runs[k] for k in sorted(runs)]
                slot[method] = {**(summary(rows) if rows else {}), "runs": rows}
    merged["loadavg_after"] = max(p.get("loadavg_after", 0) for p in parts)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "results.json", merged)
    return merged


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "french_cpu"))
    ap.add_argument("--runs", default="/tmp/french_runs", help="run folders (outside the repository: never commit)")
    ap.add_argument("--preset", default="french")
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[42, 43, 44])
    ap.add_argument("--limit", type=int, default=None, help="data.limit (quick checks; not for results)")
    ap.add_argument("--set", nargs="*", default=[], help="extra section.key=value overrides")
    ap.add_argument("--methods", nargs="+", default=["tfidf", "rnn"], choices=["tfidf", "rnn"])
    ap.add_argument("--merge", nargs="+", type=Path, default=None,
                    help="results.json files of runs split across processes: write their union to --out and stop")
    args = ap.parse_args(argv)
    if args.merge:
        return merge(args.merge, Path(args.out))
    data = Path(os.environ.get("SENTIMENT_LAB_DATA", ROOT.parent / "shared" / "data"))
    results: dict[str, Any] = {"preset": args.preset, "overrides": args.set, "limit": args.limit,
                               "machine": machine_info(), "loadavg_before": os.getloadavg()[0],
                               "language_guess": language_guess(data),
                               "datasets": {d: {"target": TARGETS.get(d), "rnn": {"runs": []}, "tfidf": {"runs": []}}
                                            for d in args.datasets}}
    # The cheap baseline first, then the RNN seed by seed across the datasets; the JSON is
    # rewritten after each run, so a run cut short keeps what it measured.
    jobs = [("tfidf", d, s) for d in args.datasets for s in args.seeds if "tfidf" in args.methods]
    jobs += [("rnn", d, s) for s in args.seeds for d in args.datasets if "rnn" in args.methods]
    for method, dataset, seed in jobs:
        rows = results["datasets"][dataset][method]["runs"]
        rows.append((run_tfidf if method == "tfidf" else run_rnn)(dataset, seed, args))
        results["datasets"][dataset][method].update(summary(rows))
        results["loadavg_after"] = os.getloadavg()[0]
        Path(args.out).mkdir(parents=True, exist_ok=True)
        write_json(Path(args.out) / "results.json", results)
        print(method, dataset, seed, f"{rows[-1]['test_accuracy']:.4f}", summary(rows), flush=True)
    return results


if __name__ == "__main__":
    main()
