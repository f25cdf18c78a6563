"""`sentiment-lab baseline train|evaluate|predict`: the non-recurrent baselines
(VADER, TF-IDF + LR, NBSVM, sentence embeddings + LR, fastText), saved without pickle."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, List, Optional

import typer

from sentiment_lab.cli._options import label_column_option, model_option, output_option, pick_model, text_column_option
from sentiment_lab.cli.app import app, panel
from sentiment_lab.cli.common import console, user_errors
from sentiment_lab.exceptions import ConfigError, InputError

baseline_app = typer.Typer(no_args_is_help=True, help="Train, evaluate and use the non-recurrent baselines.")
app.add_typer(baseline_app, name="baseline", rich_help_panel=panel("baseline"))


def parse_params(specs: list[str]) -> dict[str, Any]:
    """`C=4`, `ngram_range=1,3`, `tune_threshold=false`, `model=all-MiniLM-L6-v2` -> typed values."""

    out: dict[str, Any] = {}
    for spec in specs:
        key, sep, raw = spec.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--param expects KEY=VALUE, got {spec!r}")
        raw = raw.strip()
        if "," in raw:
            try:
                out[key.strip()] = tuple(int(x) for x in raw.split(","))
                continue
            except ValueError:
                raise ConfigError(f"--param {key}: a list must be integers, e.g. 1,3; got {raw!r}") from None
        try:
            out[key.strip()] = json.loads(raw.lower() if raw.lower() in ("true", "false", "null") else raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw  # a plain string (a model name)
    return out


def _records(data: Optional[str], split: str, text_column: str, label_column: str, limit: Optional[int], seed: int) -> list:
    from sentiment_lab.cli.evaluate import load_records

    return load_records(data, split, text_column, label_column, None, limit, seed)


def _baseline_dir(positional: Optional[Path], option: Optional[Path]) -> Path:
    directory = pick_model(positional, option)
    if directory is None:
        raise InputError("give the saved baseline: DIRECTORY or -m DIRECTORY")
    return directory


@baseline_app.command("train")
@user_errors
def train(
    name: str = typer.Argument(..., help="vader | tfidf | nbsvm | sentence-embeddings | fasttext."),
    data: Optional[str] = typer.Option(None, "--data", help="aclImdb archive/folder or a labelled table (default: cached IMDB)."),
    test_data: Optional[str] = typer.Option(None, "--test-data", help="Labelled table to evaluate on (IMDB: its test split)."),
    text_column: str = text_column_option(),
    label_column: str = label_column_option(),
    param: Optional[List[str]] = typer.Option(None, "--param", "-p", help="KEY=VALUE hyper-parameter (repeatable), e.g. C=4."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Seeded, stratified subset of N reviews per split."),
    seed: int = typer.Option(42, "--seed", help="Seed of --limit subsets."),
    output: Path = output_option(..., help="Directory to save the fitted baseline in."),
) -> None:
    """Fit a baseline on the training split, evaluate it on the test split, save it."""
    from sentiment_lab.fileio import check_dir_target
    from sentiment_lab.compare.baselines import get_baseline
    from sentiment_lab.compare.baselines.base import META
    from sentiment_lab.cli.evaluate import metrics_tables
    from sentiment_lab.analysis.metrics import compute_metrics

    check_dir_target(output, META)  # before the fit, not after it: never replaces other files
    clf = get_baseline(name, **parse_params(param or []))
    from sentiment_lab.cli.train import TABLES

    is_table = data is not None and data.lower().endswith(TABLES)  # a table has no test split of its own
    train_recs = _records(data, "train", text_column, label_column, limit, seed)
    if test_data is not None:
        test_recs = _records(test_data, "test", text_column, label_column, limit, seed)
    else:
        test_recs = [] if is_table else _records(data, "test", text_column, label_column, limit, seed)
    console.print(f"training {clf!r} on {len(train_recs):,} reviews", highlight=False)
    t0 = time.perf_counter()
    try:
        clf.fit([r.text for r in train_recs], [r.label for r in train_recs])
    except (ValueError, TypeError) as exc:  # scikit-learn validates hyper-parameters when it fits
        if not type(exc).__module__.startswith("sklearn"):
            raise
        raise ConfigError(f"baseline {name}: {str(exc).splitlines()[0]}") from None
    metrics: dict[str, Any] = {"train_n": len(train_recs), "train_s": time.perf_counter() - t0}
    if test_recs:
        t0 = time.perf_counter()
        p = clf.predict_proba([r.text for r in test_recs])[:, 1]
        metrics["predict_s"] = time.perf_counter() - t0
        metrics["test"] = compute_metrics([r.label for r in test_recs], p)
        for table in metrics_tables(metrics["test"]):
            console.print(table)
    clf.save_pretrained(output, metrics=metrics)
    console.print(f"trained in {metrics['train_s']:.1f} s; saved to {output}", highlight=False, markup=False)


@baseline_app.command("evaluate")
@user_errors
def evaluate(
    directory: Optional[Path] = typer.Argument(None, help="A saved baseline (or -m DIRECTORY)."),
    model: Optional[Path] = model_option("A saved baseline.", metavar="DIRECTORY"),
    data: Optional[str] = typer.Option(None, "--data", help="aclImdb archive/folder or a labelled table (default: cached IMDB)."),
    split: str = typer.Option("test", help="IMDB split: test | train."),
    text_column: str = text_column_option(),
    label_column: str = label_column_option(),
    limit: Optional[int] = typer.Option(None, "--limit", help="Seeded, stratified subset of N reviews."),
    output: Optional[Path] = output_option(help="Write metrics as JSON here."),
) -> None:
    """The same metrics as `sentiment-lab evaluate`, for a saved baseline."""
    from sentiment_lab.fileio import check_target, write_json
    from sentiment_lab.compare.baselines import load_baseline
    from sentiment_lab.cli.evaluate import metrics_tables
    from sentiment_lab.analysis.metrics import compute_metrics

    if output is not None:
        check_target(output, parent=False)  # a folder named like the output fails before the work
    if split not in ("test", "train"):
        raise ConfigError(f"--split must be test or train, got {split!r}")
    clf = load_baseline(_baseline_dir(directory, model))
    records = _records(data, split, text_column, label_column, limit, 42)
    m = compute_metrics([r.label for r in records], clf.predict_proba([r.text for r in records])[:, 1])
    for table in metrics_tables(m):
        console.print(table)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        write_json(output, m)
        console.print(f"metrics written to {output}", markup=False)


@baseline_app.command("predict")
@user_errors
def predict(
    args: List[str] = typer.Argument(..., metavar="[DIRECTORY] TEXT...",
                                     help="The saved baseline (unless -m gives it), then texts to classify."),
    model: Optional[Path] = model_option("A saved baseline.", metavar="DIRECTORY"),
) -> None:
    """Label, confidence (score) and P(positive) for each text, one JSON object per line."""
    from sentiment_lab.compare.baselines import load_baseline
    from sentiment_lab.text.tokenizer import check_texts

    if model is None or Path(args[0]).is_dir():  # DIRECTORY TEXT...: the first argument names the baseline
        if len(args) < 2:
            raise InputError("expected DIRECTORY TEXT... (or -m DIRECTORY TEXT...)")
        directory, texts = _baseline_dir(Path(args[0]), model), args[1:]
    else:
        directory, texts = model, args
    clf = load_baseline(directory)
    # the fields of `sentiment-lab predict --json` and the web API: score is the confidence in the label
    for text, p in zip(texts, clf.predict_proba(check_texts(texts))[:, 1]):
        p = float(p)
        print(json.dumps({"text": text, "label": clf.labels[int(p >= 0.5)], "score": max(p, 1 - p), "p_positive": p},
                         ensure_ascii=False))
