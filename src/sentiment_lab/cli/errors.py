"""`sentiment-lab errors`: the most confident mistakes and error rates by length and rating."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from sentiment_lab.cli._options import (examples_option, label_column_option, model_option, old_name, output_option,
                                        pick_model, text_column_option)
from sentiment_lab.cli.app import app, panel
from sentiment_lab.cli.common import console, user_errors
from sentiment_lab.exceptions import ConfigError


def _run_records(run_dir: Path, data: Optional[str], text_column: str, label_column: str,
                 rating_threshold: Optional[float]) -> list:
    """The test reviews a run was evaluated on (matched to its predictions by id later)."""
    import json

    from sentiment_lab.cli.evaluate import load_records
    from sentiment_lab.config import Config
    from sentiment_lab.data import load_imdb, load_splits

    if data is not None:
        return load_records(data, "test", text_column, label_column, rating_threshold, None)
    cfg = Config.from_dict(json.loads((run_dir / "config.json").read_text()))
    if cfg.data.source == "imdb":
        return load_imdb(cfg.data.path, splits=("test",))
    return load_splits(cfg.data, cfg.train.seed, progress=False).test


@app.command(rich_help_panel=panel("errors"))
@user_errors
def errors(
    path: Optional[str] = typer.Argument(None, help="A shipped model, a model bundle, or a run directory from `train` (its "
                                          "test_predictions.csv is reused) (default: the shipped model; or -m)."),
    model: Optional[str] = model_option("A shipped model, a model bundle, or a run directory from `train` (its test_predictions.csv "
                                         "is reused) (default: the shipped model)."),
    old_bundle: Optional[str] = old_name("--bundle"),
    data: Optional[str] = typer.Option(None, "--data", help="aclImdb archive/folder or a labelled table "
                                       "(default: cached IMDB; for a run directory, the data it was tested on)."),
    text_column: str = text_column_option(),
    label_column: str = label_column_option(),
    rating_threshold: Optional[float] = typer.Option(None, help="Star ratings >= this are positive."),
    limit: Optional[int] = typer.Option(None, help="Analyse a seeded, stratified subset of N test reviews."),
    seed: int = typer.Option(42, help="Seed of the --limit subset."),
    examples: int = examples_option(10, help="Most confident false positives and negatives to show."),
    ig_steps: int = typer.Option(32, help="Integrated Gradients steps for the token attributions."),
    attributions: bool = typer.Option(True, help="Compute token attributions of the shown errors."),
    output: Path = output_option(Path("runs/errors"), help="Output directory."),
) -> None:
    """Error analysis: the most confident mistakes, error rates by length and star rating.

    Most confident false positives and false negatives (shortened text, top tokens by
    Integrated Gradients), error rates by review length and by star rating (tables, bar chart),
    errors.csv, errors.json and errors.html with coloured tokens."""
    from sentiment_lab.inference.classifier import SentimentClassifier
    from sentiment_lab.cli.evaluate import load_records
    from sentiment_lab.data import subsample
    from sentiment_lab.analysis.error_analysis import analyze_errors, predictions_from_run, shorten, write_report

    path = pick_model(path, model, old_bundle)
    if examples < 0 or (limit is not None and limit < 1):
        raise ConfigError("--examples must be >= 0 and --limit >= 1")
    p = None
    if path is not None and (path / "test_predictions.csv").is_file():  # a run directory
        records, p = predictions_from_run(path, _run_records(path, data, text_column, label_column, rating_threshold))
        if limit is not None and limit < len(records):
            keep = {r.id for r in subsample(records, limit, seed)}
            pick = [i for i, r in enumerate(records) if r.id in keep]
            records, p = [records[i] for i in pick], p[pick]
        clf = SentimentClassifier.from_pretrained(path / "bundle")
    else:
        clf = SentimentClassifier.from_pretrained(path)  # a wrong path fails now, before any download
        records = load_records(data, "test", text_column, label_column, rating_threshold, limit, seed)
    res = analyze_errors(clf, records, p, n_examples=examples, ig_steps=ig_steps, with_attributions=attributions)
    paths = write_report(res, output, clf.encoder.max_len)

    for title, df in (("Most confident false positives (true: negative)", res.false_positives),
                      ("Most confident false negatives (true: positive)", res.false_negatives)):
        t = Table(title=title, show_lines=True)
        for col in ("id", "stars", "P(pos)", "review (shortened)", "tokens pushing + / -"):
            t.add_column(col, overflow="fold")
        for _, r in df.iterrows():
            a = res.attributions.get(r["id"])
            top = "" if not a else ("+ " + ", ".join(w for w, _ in a["top_positive"]) + "\n- "
                                    + ", ".join(w for w, _ in a["top_negative"]))
            t.add_row(escape(str(r["id"])), "" if r["rating"] is None or str(r["rating"]) == "<NA>" else str(r["rating"]),
                      f"{r['p_positive']:.3f}", escape(shorten(r["text"], 160)), escape(top))
        console.print(t)
    for title, df in (("Error rate by review length (tokens)", res.by_length), ("Error rate by star rating", res.by_rating)):
        if df is None:
            continue
        t = Table(title=title)
        for col in ("bin", "reviews", "errors", "error rate", "false pos.", "false neg."):
            t.add_column(col, justify="right")
        for r in df.itertuples(index=False):  # keeps each column's dtype (iterrows would make ints floats)
            t.add_row(str(r.bin), f"{r.n:,}", f"{r.errors:,}", f"{r.error_rate:.1%}", f"{r.false_positives:,}",
                      f"{r.false_negatives:,}")
        console.print(t)
    console.print(f"accuracy {res.accuracy:.2%} on {len(res.table):,} reviews"
                  + (f"; {res.attribution_note}" if res.attribution_note else ""))
    for name, p_ in paths.items():
        console.print(f"{name}: {p_}", markup=False)
