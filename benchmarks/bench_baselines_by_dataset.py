"""Every baseline per dataset: IMDB, SST-2 and Amazon (Blitzer) test splits, each method
trained on the dataset's own training split and on the mixture of the three.

    SENTIMENT_LAB_DATA=../shared/data .venv/bin/python benchmarks/bench_baselines_by_dataset.py \
        --out benchmarks/results/baselines_by_dataset_cpu/results.json

Protocol:
  1. data: `load_mixture("imdb+sst2+amazon-blitzer")` (data/mixture.py): per source its train
     split less a validation part (SST-2: its own dev; IMDB, Amazon: 20%, seed 42), its own
     test split whole; a training text of one source that is another's val/test text is dropped.
     Training data per row: "<source>" = that source's train part, "mixture" = all three.
  2. hyper-parameters chosen on validation (a source's own val; for the mixture, the mean of
     the three sources' val accuracies, so that IMDB's 5,000 do not outvote SST-2's 872), never test;
  3. the chosen configuration refitted on the training part (timed: train_s, one run);
  4. accuracy on the test split(s): a source's model on its own test split, the mixture's model
     on all three, Amazon also per domain; VADER (no training, compound >= 0.05) and each RNN
     bundle (--bundle NAME=PATH; the shipped model by default) on all three;
  5. raw-text throughput: per test split, the same seeded --throughput-n texts, every model
     timed back to back, --repeats rounds interleaved, median reviews/s (load averages recorded).
--limit N caps every split at N rows (seeded, stratified): a quick check, not for results.
--datasets names other test sets (their mixture is then the one trained on), e.g. sst2+amazon-blitzer.
The Markdown table (README.md beside --out) is written from the JSON (--markdown-only redoes it).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_seed import machine_info  # noqa: E402

from sentiment_lab.compare.by_dataset import metrics_of  # noqa: E402

SPEC = "imdb+sst2+amazon-blitzer"
TRAINED = ("fasttext", "tfidf", "nbsvm", "sentence-embeddings")  # trained in this order
GRIDS: dict[str, list[dict[str, Any]]] = {
    # small grids: the whole run has to fit in well under an hour on 2 shared cores
    "tfidf": [{"C": c} for c in (4.0, 16.0)],
    "nbsvm": [{"C": c, "beta": 0.25, "calibration_folds": 0} for c in (0.1, 1.0)],
    "fasttext": [{"lr": lr, "epoch": e} for lr in (0.1, 0.5) for e in (5, 10)],
    "sentence-embeddings": [{"C": c} for c in (0.1, 1.0, 10.0)],
}


def xy(records: list) -> tuple[list[str], np.ndarray]:
    return [r.text for r in records], np.array([r.label for r in records])


def select(method: str, train: list, vals: dict[str, list]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The grid point with the best mean validation accuracy over the sources in `vals`."""
    from sentiment_lab.compare.baselines import get_baseline
    from sentiment_lab.inference.postprocess import is_positive

    x, y = xy(train)
    results = []
    embedded = None
    encoder = get_baseline(method)
    if hasattr(encoder, "fit_embeddings"):  # sentence embeddings: encode once, not per grid point
        val_xy = {name: xy(v) for name, v in vals.items()}
        embedded = encoder.embed(x), {name: (encoder.embed(t), yv) for name, (t, yv) in val_xy.items()}
    for params in GRIDS[method]:
        if embedded is None:
            clf = get_baseline(method, **params).fit(x, y)
            acc = {name: clf.score(*xy(v)) for name, v in vals.items()}
        else:
            clf = get_baseline(method, **params).fit_embeddings(embedded[0], y)
            acc = {name: float(np.mean(is_positive(clf.proba_from_embeddings(e)) == yv))
                   for name, (e, yv) in embedded[1].items()}
        results.append({"params": params, "val_accuracy": acc, "mean": float(np.mean(list(acc.values())))})
        print(f"    {method} {params}: val {results[-1]['mean']:.4f}", flush=True)
    best = max(results, key=lambda r: r["mean"])["params"]
    return {k: v for k, v in best.items() if k != "calibration_folds"}, results


def fit_final(method: str, params: dict[str, Any], train: list) -> tuple[Any, float]:
    from sentiment_lab.compare.baselines import get_baseline

    clf = get_baseline(method, **params)
    t0 = time.perf_counter()
    clf.fit(*xy(train))
    return clf, time.perf_counter() - t0


def train_models(mix: Any, methods: list[str], res: dict[str, Any], out: Path,
                 test_sets: dict[str, list]) -> dict[str, tuple[Any, list[str]]]:
    """name -> (fitted model, test sets it is scored on), each scored as soon as it is fitted
    (results survive a run cut short)."""
    training = {name: (s.train, {name: s.val}, [name]) for name, s in mix.sources.items()}
    training["mixture"] = (mix.train, {name: s.val for name, s in mix.sources.items()}, list(mix.sources))
    models = {}
    for method in [m for m in TRAINED if m in methods]:
        for data, (train, vals, tests) in training.items():
            print(f"  {method} on {data} ({len(train):,} texts)", flush=True)
            t0 = time.perf_counter()
            params, grid = select(method, train, vals)
            select_s = time.perf_counter() - t0
            clf, train_s = fit_final(method, params, train)
            key = f"{method}@{data}"
            models[key] = (clf, tests)
            res["models"][key] = {"method": method, "train_data": data, "train_n": len(train), "params": params,
                                  "grid": grid, "select_s": select_s, "train_s": train_s,
                                  "loadavg": os.getloadavg()[0]}
            evaluate({key: models[key]}, test_sets, res, out)
    return models


def bundle_training(path: Path) -> dict[str, Any]:
    """What an RNN bundle was trained on and for how long, from its own config.json and
    metrics.json (the run that made it, on whatever machine that was: see its card)."""
    cfg = json.loads((Path(path) / "config.json").read_text())["config"]["data"]
    metrics = json.loads((Path(path) / "metrics.json").read_text())
    weights = cfg.get("weights")
    data = cfg["source"] + (f" (weights {', '.join(f'{k}={v:g}' for k, v in weights.items())})" if weights else "")
    return {"train_data": data, "train_n": None, "train_s": metrics.get("timings", {}).get("train_s"),
            "train_s_note": "from the bundle's metrics.json (its own training run)"}


def untrained_models(methods: list[str], bundles: dict[str, str], tests: list[str],
                     res: dict[str, Any]) -> dict[str, tuple[Any, list[str]]]:
    from sentiment_lab.compare.baselines import get_baseline
    from sentiment_lab.inference.classifier import SentimentClassifier

    models = {}
    if "vader" in methods:
        models["vader@none"] = (get_baseline("vader"), tests)
        res["models"]["vader@none"] = {"method": "vader", "train_data": "none (lexicon, compound >= 0.05)",
                                       "train_n": 0, "train_s": 0.0}
    for name, path in bundles.items():
        clf = SentimentClassifier.from_pretrained(path)
        models[f"{name}@bundle"] = (clf, tests)
        res["models"][f"{name}@bundle"] = {"method": name, **bundle_training(clf.path), "bundle": str(path)}
    return models


def evaluate(models: dict[str, tuple[Any, list[str]]], test_sets: dict[str, list], res: dict[str, Any],
             out: Path) -> None:
    for key, (clf, names) in models.items():
        for name in names:
            t0 = time.perf_counter()
            p = clf.predict_proba([r.text for r in test_sets[name]])[:, 1]
            seconds = time.perf_counter() - t0
            res["rows"].append({"model": key, "dataset": name, **metrics_of(test_sets[name], p),
                                "one_pass_reviews_per_s": len(p) / seconds})
            print(f"  {key} on {name}: {res['rows'][-1]['accuracy']:.4f}", flush=True)
            write(out, res)


def throughput(models: dict[str, tuple[Any, list[str]]], test_sets: dict[str, list], args: argparse.Namespace,
               res: dict[str, Any]) -> None:
    """Median reviews/s per (model, test set), models interleaved within each round."""
    from sentiment_lab.data import subsample

    for name, records in test_sets.items():
        texts = [r.text for r in subsample(records, args.throughput_n, args.seed + 1)]
        on = {k: clf for k, (clf, names) in models.items() if name in names}
        rates: dict[str, list[float]] = {k: [] for k in on}
        loads = []
        for _ in range(args.repeats):
            for key, clf in on.items():
                clf.predict_proba(texts[:2])  # warm: lazy loading is not throughput
                t0 = time.perf_counter()
                clf.predict_proba(texts)
                rates[key].append(len(texts) / (time.perf_counter() - t0))
                loads.append(os.getloadavg()[0])
        res["throughput"][name] = {"n": len(texts), "repeats": args.repeats, "loadavg_min_max": [min(loads), max(loads)],
                                   "reviews_per_s": {k: statistics.median(v) for k, v in rates.items()},
                                   "all_rounds": rates}


def parse_bundles(specs: list[str], default: bool) -> dict[str, str]:
    from sentiment_lab.inference.bundle import default_bundle

    out = {"rnn-default": str(default_bundle())} if default else {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep:
            raise SystemExit(f"--bundle expects NAME=PATH, got {spec!r}")
        out[name] = path
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", nargs="*", default=["vader", "tfidf", "nbsvm", "fasttext"],
                    choices=["vader", *TRAINED], help="baselines to run (--methods alone: none, only the --bundle models)")
    ap.add_argument("--bundle", action="append", default=[], help="NAME=PATH: an RNN bundle scored on every test split")
    ap.add_argument("--no-default-bundle", action="store_true", help="leave the shipped model out")
    ap.add_argument("--datasets", default=SPEC, help="the test sets and the mixture trained on (default: %(default)s)")
    ap.add_argument("--limit", type=int, help="cap every split at N rows (quick check, not for results)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--throughput-n", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "baselines_by_dataset_cpu" / "results.json")
    ap.add_argument("--markdown-only", action="store_true", help="rewrite README.md from the JSON and stop")
    args = ap.parse_args()
    if args.markdown_only:
        write(args.out, json.loads(args.out.read_text()))
        return
    from sentiment_lab.data import load_mixture, subsample

    t0 = time.perf_counter()
    mix = load_mixture(args.datasets, caps=args.limit, seed=args.seed, require_test=True, progress=False)
    for s in mix.sources.values():
        s.val, s.test = subsample(s.val, args.limit, args.seed), subsample(s.test, args.limit, args.seed)
    test_sets = {name: s.test for name, s in mix.sources.items()}
    res: dict[str, Any] = {"benchmark": "baselines per dataset", "machine": machine_info(),
                           "command": "python " + " ".join(sys.argv), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                           "mixture": args.datasets, "load_s": time.perf_counter() - t0, "mixture_report": mix.report(),
                           "data": {n: {"train": len(s.train), "val": len(s.val), "test": len(s.test)}
                                    for n, s in mix.sources.items()} | {"mixture": {"train": len(mix.train)}},
                           "limit": args.limit, "grids": {m: GRIDS[m] for m in args.methods if m in GRIDS},
                           "models": {}, "rows": [], "throughput": {}}
    models = train_models(mix, args.methods, res, args.out, test_sets)
    untrained = untrained_models(args.methods, parse_bundles(args.bundle, not args.no_default_bundle),
                                 list(test_sets), res)
    evaluate(untrained, test_sets, res, args.out)
    models |= untrained
    throughput(models, test_sets, args, res)
    write(args.out, res)


def write(path: Path, res: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, text in ((path, json.dumps(res, indent=1) + "\n"), (path.parent / "README.md", markdown(res))):
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, target)


def markdown(res: dict[str, Any]) -> str:
    m, models, tp = res["machine"], res["models"], res["throughput"]
    sizes = ", ".join(f"{n} {d['train']:,} train / {d.get('val', 0):,} val / {d.get('test', 0):,} test"
                      for n, d in res["data"].items() if n != "mixture")
    lines = ["# Baselines per dataset", "",
             f"Machine: {m['cpu']}, {m['cores']} cores shared with other jobs (load averages in results.json), "
             f"Python {m['python']}. Data ({res['mixture']}): {sizes}; mixture {res['data']['mixture']['train']:,} "
             f"training texts." + (f" **--limit {res['limit']}: a quick check, not results.**" if res["limit"] else ""),
             "", f"Command: `SENTIMENT_LAB_DATA=../shared/data {res['command']}`", "",
             "| test set | method | trained on | training texts | accuracy | macro F1 | ROC-AUC | training time | "
             "reviews/s, whole test pass | reviews/s (median, interleaved) | chosen on validation |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    if not tp:
        lines[2:2] = ["**Partial run**: stopped before the interleaved timing phase; the rows below are the models "
                      "it had finished (each scored as soon as it was fitted).", ""]
    for r in sorted(res["rows"], key=lambda r: (list(res["data"]).index(r["dataset"]), r["model"])):
        info = models[r["model"]]
        rate = tp.get(r["dataset"], {}).get("reviews_per_s", {}).get(r["model"])
        chosen = ", ".join(f"{k}={v}" for k, v in info.get("params", {}).items())
        lines.append(f"| {r['dataset']} | {info['method']} | {info['train_data']} | "
                     f"{'-' if not info['train_n'] else format(info['train_n'], ',')} | {r['accuracy']:.2%} | "
                     f"{r['f1_macro']:.2%} | {r['roc_auc']:.3f} | "
                     f"{'-' if info['train_s'] is None else format(info['train_s'], ',.1f') + ' s' + ('*' if 'bundle' in info else '')} | "
                     f"{r['one_pass_reviews_per_s']:,.0f} | {'-' if rate is None else format(rate, ',.0f')} | {chosen} |")
    amazon = [r for r in res["rows"] if r.get("per_domain")]
    if amazon:
        domains = sorted({d for r in amazon for d in r["per_domain"]})
        lines += ["", "Amazon (Blitzer) test accuracy per domain:", "",
                  "| method | trained on | " + " | ".join(domains) + " |", "|---|---|" + "---|" * len(domains)]
        for r in sorted(amazon, key=lambda r: r["model"]):
            info = models[r["model"]]
            lines.append(f"| {info['method']} | {info['train_data']} | "
                         + " | ".join(f"{r['per_domain'].get(d, float('nan')):.1%}" for d in domains) + " |")
    if tp:
        lines += ["", "Throughput: raw text to probabilities (tokenization included), per test set the same "
                      + ", ".join(f"{n} {t['n']:,}" for n, t in tp.items())
                      + f" seeded texts, every model timed back to back, median of {next(iter(tp.values()))['repeats']} "
                        "interleaved rounds; load average "
                      + ", ".join(f"{n} {t['loadavg_min_max'][0]:.1f}-{t['loadavg_min_max'][1]:.1f}" for n, t in tp.items())
                      + ". Training time is one timed fit of the chosen configuration, on the same shared machine."]
    if any("bundle" in info for info in models.values()):
        lines += ["", "\\* RNN bundles (" + ", ".join(f"{info['method']}: {info['bundle']}" for info in models.values()
                                                if "bundle" in info)
                  + "): trained beforehand, not in this run; training time from the bundle's metrics.json (that "
                    "run's machine and load, see its card), training data from its config.json."]
    return "\n".join(lines + [""])


if __name__ == "__main__":
    main()
