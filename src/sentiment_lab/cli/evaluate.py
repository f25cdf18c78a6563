"""`sentiment-lab evaluate`: metrics of a bundle on IMDB test or a labelled table."""
from __future__ import annotations

import random
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from sentiment_lab.cli._options import (examples_option, label_column_option, model_option, old_name, output_option,
                                        pick_model, text_column_option)
from sentiment_lab.cli.app import app, panel
from sentiment_lab.cli.common import console, user_errors
from sentiment_lab.cli.train import TABLES


def named(data: Optional[str]) -> bool:
    """--data names datasets (sst2, imdb+sst2+amazon-blitzer) rather than a file or folder."""
    from sentiment_lab.data import is_dataset_spec

    return data is not None and not data.lower().endswith(TABLES) and is_dataset_spec(data)


def load_records(data: Optional[str], split: str, text_column: str, label_column: str,
                 rating_threshold: Optional[float], limit: Optional[int], seed: int = 42) -> list:
    """The labelled records of --data: a table, named datasets (`limit` rows per source) or IMDB."""
    from sentiment_lab.data import load_imdb, load_split_by_source, load_table, subsample

    if named(data):
        return load_split_by_source(data, split, limit, seed, progress=False)
    if data is not None and data.lower().endswith(TABLES):
        records = load_table(data, text_column, label_column, rating_threshold, split=split)
    else:
        records = load_imdb(data, splits=(split,))
    return subsample(records, limit, seed)


def by_source_table(m: dict) -> Table:
    """Accuracy per dataset, then over all of them: pooled (every text counted once, so the
    largest source weighs most) and the plain mean of the datasets' accuracies."""
    t = Table(title="Per dataset")
    for col in ("dataset", "n", "accuracy", "macro F1", "ROC-AUC"):
        t.add_column(col, justify="right")
    for name, r in m["by_source"].items():
        t.add_row(name, f"{r['n']:,}", f"{r['accuracy']:.4f}", f"{r['f1_macro']:.4f}",
                  f"{r['roc_auc']:.4f}" if r["roc_auc"] is not None else "-")
    t.add_row("all (pooled)", f"{m['n']:,}", f"{m['accuracy']:.4f}", f"{m['f1_macro']:.4f}",
              f"{m['roc_auc']:.4f}" if m["roc_auc"] is not None else "-")
    t.add_row("mean of datasets", "", f"{m['mean_accuracy_over_sources']:.4f}", "", "")
    return t


def add_by_source(m: dict, records: list, p) -> dict:
    """Each source's metrics under `by_source`; the top-level figures stay pooled over every
    text (`overall` says so) and `mean_accuracy_over_sources` weighs the datasets alike."""
    from sentiment_lab.analysis.metrics import metrics_by_source

    by = metrics_by_source([r.source for r in records], [r.label for r in records], p)
    return {**m, "overall": f"pooled over all {m['n']:,} texts of {', '.join(by)}", "by_source": by,
            "mean_accuracy_over_sources": sum(r["accuracy"] for r in by.values()) / len(by)}


def metrics_tables(m: dict) -> list[Table]:
    t = Table(title=f"Metrics ({m['n']:,} reviews)")
    for col in ("accuracy", "loss", "precision (macro)", "recall (macro)", "F1 (macro)", "ROC-AUC"):
        t.add_column(col, justify="right")
    t.add_row(*(f"{v:.4f}" if v is not None else "-" for v in (m["accuracy"], m["loss"], m["precision_macro"],
                                                                 m["recall_macro"], m["f1_macro"], m["roc_auc"])))
    per = Table(title="Per class")
    for col in ("class", "precision", "recall", "F1", "support"):
        per.add_column(col, justify="right")
    for name, v in m["per_class"].items():
        per.add_row(name, f"{v['precision']:.4f}", f"{v['recall']:.4f}", f"{v['f1']:.4f}", f"{v['support']:,}")
    cm = Table(title="Confusion matrix (rows: true, columns: predicted)")
    cm.add_column("")
    cm.add_column("negative", justify="right")
    cm.add_column("positive", justify="right")
    for name, row in zip(("negative", "positive"), m["confusion_matrix"]):
        cm.add_row(name, f"{row[0]:,}", f"{row[1]:,}")
    return [t, per, cm]


@app.command(rich_help_panel=panel("evaluate"))
@user_errors
def evaluate(
    bundle: Optional[str] = typer.Argument(None, metavar="[MODEL]", help="A shipped model (imdb, general) or a bundle folder (default: the default shipped model; or -m MODEL)."),
    model: Optional[str] = model_option(),
    old_bundle: Optional[str] = old_name("--bundle"),
    data: Optional[str] = typer.Option(None, "--data", help="aclImdb archive/folder, a labelled table, or named datasets "
                                       "(sst2, imdb+sst2+amazon-blitzer: figures per dataset and pooled). Default: cached IMDB."),
    split: str = typer.Option("test", help="Split to evaluate on: test | train."),
    text_column: Optional[str] = text_column_option("the one the bundle was trained on, else text"),
    label_column: Optional[str] = label_column_option("the one the bundle was trained on, else label"),
    rating_threshold: Optional[float] = typer.Option(None, help="Star ratings >= this are positive (default: the "
                                                     "bundle's)."),
    limit: Optional[int] = typer.Option(None, help="Evaluate on a seeded, stratified subset of N reviews (named "
                                        "datasets: N per dataset)."),
    examples: int = examples_option(8, help="Random example predictions to show (the notebook shows 8)."),
    output: Optional[Path] = output_option(help="Write metrics as JSON here."),
) -> None:
    """Accuracy, loss, precision/recall/F1, ROC-AUC, confusion matrix, classification report."""
    from sentiment_lab.fileio import check_target, write_json
    from sentiment_lab.inference.bundle import read_meta, resolve_model
    from sentiment_lab.exceptions import ConfigError
    from sentiment_lab.analysis.metrics import evaluate_bundle

    bundle = pick_model(bundle, model, old_bundle)
    if output is not None:
        check_target(output, parent=False)  # a folder named like the output fails before the work
    if split not in ("test", "train"):
        raise ConfigError(f"--split must be test or train, got {split!r}")
    trained = read_meta(resolve_model(bundle))["config"]["data"]  # a wrong path fails now, before any download
    if data is not None and data.lower().endswith(TABLES):  # a test file like the training one: its columns
        text_column = text_column or trained.get("text_column", "text")
        label_column = label_column or trained.get("label_column", "label")
        if rating_threshold is None and label_column == trained.get("label_column"):
            rating_threshold = trained.get("rating_threshold")
    records = load_records(data, split, text_column or "text", label_column or "label", rating_threshold, limit)
    m, p = evaluate_bundle(bundle, records)
    if named(data):
        m = add_by_source(m, records, p)
    for table in metrics_tables(m) + ([by_source_table(m)] if "by_source" in m else []):
        console.print(table)
    console.print(m["classification_report"], highlight=False)
    if examples > 0:
        ex = Table(title=f"{examples} random predictions")
        for col in ("review", "true", "predicted", "confidence", ""):
            ex.add_column(col)
        for i in random.Random(0).sample(range(len(records)), min(examples, len(records))):
            r, q = records[i], float(p[i])
            pred = int(q >= 0.5)
            ex.add_row(escape(r.text[:90].replace("<br />", " ") + ("..." if len(r.text) > 90 else "")),
                       ("negative", "positive")[r.label], ("negative", "positive")[pred],
                       f"{max(q, 1 - q):.1%}", "[green]ok[/green]" if pred == r.label else "[red]wrong[/red]")
        console.print(ex)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        write_json(output, m)
        console.print(f"metrics written to {output}", markup=False)
