"""`sentiment-lab data-plots`: review lengths vs MAX_LEN, labels per split, vocabulary coverage."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from sentiment_lab.cli._options import (label_column_option, model_option, old_name, output_option, pick_model,
                                        text_column_option)
from sentiment_lab.cli.app import app, panel
from sentiment_lab.cli.common import console, user_errors
from sentiment_lab.cli.train import TABLES
from sentiment_lab.exceptions import ConfigError


def _load(data: Optional[str], test_data: Optional[str], text_column: str, label_column: str,
          rating_threshold: Optional[float]) -> tuple[list, list]:
    """(train, test) records: the IMDB archive/folder (cached download by default) or the user's tables."""
    from sentiment_lab.data import load_imdb, load_table

    if data is not None and data.lower().endswith(TABLES):
        train = load_table(data, text_column, label_column, rating_threshold, split="train")
        test = load_table(test_data, text_column, label_column, rating_threshold, split="test") if test_data else []
        return train, test
    records = load_imdb(data)
    return [r for r in records if r.split == "train"], [r for r in records if r.split == "test"]


@app.command("data-plots", rich_help_panel=panel("data-plots"))
@user_errors
def data_plots(
    data: Optional[str] = typer.Option(None, "--data", help="aclImdb archive or folder, or a CSV/TSV/JSONL/Parquet "
                                       "table (default: the cached IMDB archive, downloaded if absent)."),
    test_data: Optional[str] = typer.Option(None, "--test-data", help="A separate test table (for your own data)."),
    text_column: str = text_column_option(),
    label_column: str = label_column_option(),
    rating_threshold: Optional[float] = typer.Option(None, help="Star ratings >= this are positive."),
    model: Optional[str] = model_option("Bundle whose tokenizer counts the tokens and whose MAX_LEN and "
                                         "vocabulary are marked (default: the shipped model)."),
    old_bundle: Optional[str] = old_name("--bundle"),
    max_len: Optional[int] = typer.Option(None, "--max-len", help="MAX_LEN to mark (default: the bundle's)."),
    unit: str = typer.Option("tokens", help="Length unit: tokens (the bundle's tokenizer) | words (whitespace)."),
    limit: Optional[int] = typer.Option(None, help="Use a seeded, stratified subset of N train and N test reviews."),
    output: Path = output_option(Path("runs/data-plots"), help="Output directory."),
) -> None:
    """Plots of the data: review lengths vs MAX_LEN, labels per split, vocabulary coverage.

    Review length histogram (with MAX_LEN and the share truncated), labels per split and the
    vocabulary coverage curve (notebook's 5,000 words and the model's size marked), as PNG and
    SVG, plus data_summary.json."""
    from sentiment_lab.fileio import write_json
    from sentiment_lab.inference.bundle import load_parts, resolve_model
    from sentiment_lab.data import split_train_val, subsample
    from sentiment_lab.analysis.data_plots import data_plots as make_plots

    if unit not in ("tokens", "words"):
        raise ConfigError(f"--unit must be tokens or words, got {unit!r}")
    if max_len is not None and max_len < 1:
        raise ConfigError(f"--max-len must be a positive number of tokens, got {max_len}")
    bundle = pick_model(None, model, old_bundle)
    cfg, encoder, meta = load_parts(resolve_model(bundle))
    train, test = _load(data, test_data, text_column, label_column, rating_threshold)
    train, test = subsample(train, limit, cfg.train.seed), subsample(test, limit, cfg.train.seed)
    train, val = split_train_val(train, cfg.data.val_fraction, cfg.train.seed)  # the split `train` would make
    model_vocab = encoder.vocab_size - 2 if cfg.text.level == "word" else None  # words, without [PAD] and [UNK]
    summary = make_plots(train, output, test=test, val=val, encoder=encoder if unit == "tokens" else None,
                         max_len=max_len or cfg.text.max_len, model_vocab=model_vocab)
    summary["bundle"] = str(bundle) if bundle else "the shipped default model"
    write_json(output / "data_summary.json", summary)

    t = Table(title=f"Data: {summary['n_reviews']:,} training reviews"
                    + (" (train + validation)" if "validation" in summary["labels"] else ""))
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row(f"median length ({summary['length_unit']})", f"{summary['length']['median']:,.0f}")
    t.add_row(f"90th percentile ({summary['length_unit']})", f"{summary['length']['p90']:,.0f}")
    t.add_row(f"longer than MAX_LEN {summary['max_len']}", f"{summary['share_truncated']:.1%}")
    t.add_row("longer than the notebook's maxlen 200", f"{summary['share_truncated_at_notebook_max_len_200']:.1%}")
    t.add_row("distinct words", f"{summary['distinct_words']:,}")
    for name, cov in summary["coverage"].items():
        t.add_row(f"words covered by vocabulary: {name}", f"{cov:.1%}")
    if summary.get("model_unk_share") is not None:
        t.add_row("the model's tokens read as [UNK] (its own tokenizer)", f"{summary['model_unk_share']:.1%}")
    for split, c in summary["labels"].items():
        t.add_row(f"{split}: negative / positive", f"{c['negative']:,} / {c['positive']:,}")
    console.print(t)
    for name, path in summary["figures"].items():
        console.print(f"{name}: {path}", markup=False)
