"""`sentiment-lab predict`: sentences, files, or the notebook's interactive loop."""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from sentiment_lab.cli.app import app
from sentiment_lab.cli.common import console, user_errors
from sentiment_lab.errors import InputError


def _row(clf, text: str) -> dict:
    out = clf(text)
    out["unknown_words"] = clf.unknown_words(text)
    return out


def _write_atomic(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def predict_file(clf, input: Path, output: Optional[Path], text_column: str) -> None:
    from sentiment_lab.data.tabular import file_format, read_table

    df = read_table(input)
    if text_column not in df.columns:
        if file_format(input) == "txt":
            text_column = "text"
        else:
            raise InputError(f"{input}: no column {text_column!r}; columns are {', '.join(map(str, df.columns))} "
                             "(choose one with --text-column)")
    texts = [str(t) for t in df[text_column]]
    for row, t in enumerate(texts, start=1):
        if not t.strip():
            raise InputError(f"{input}: row {row}: empty text")
    proba = clf.predict_proba(texts)[:, 1]
    df["label"] = ["positive" if q >= 0.5 else "negative" for q in proba]
    df["score"] = [float(max(q, 1 - q)) for q in proba]
    df["p_positive"] = proba
    if output is None:
        sys.stdout.write(df[[text_column, "label", "score"]].to_csv(index=False))
        return
    fmt = output.suffix.lower()
    writers = {".csv": lambda p: df.to_csv(p, index=False), ".tsv": lambda p: df.to_csv(p, sep="\t", index=False),
               ".jsonl": lambda p: df.to_json(p, orient="records", lines=True, force_ascii=False),
               ".parquet": lambda p: df.to_parquet(p, index=False)}
    if fmt not in writers:
        raise InputError(f"--output must end in {', '.join(writers)}, got {output.name!r}")
    _write_atomic(output, writers[fmt])
    console.print(f"{len(df):,} predictions written to {output}")


def interactive(clf) -> None:
    """The notebook's loop: type a sentence, get label, confidence, raw score, unknown words."""
    console.print("Type a review and press Enter ('quit' to stop).")
    while True:
        try:
            text = input("> ")
        except EOFError:
            break
        if text.strip().lower() in ("quit", "exit", "q"):
            break
        if not text.strip():
            continue
        try:
            r = _row(clf, text)
        except InputError as exc:
            console.print(f"[red]error:[/red] {exc}")
            continue
        p = clf.predict_proba([text])[0, 1]
        color = "green" if r["label"] == "positive" else "red"
        console.print(f"[{color}]{r['label']}[/{color}]  confidence {r['score']:.1%}  raw score {p:.4f}")
        if r["unknown_words"]:
            console.print(f"  unknown words: {', '.join(r['unknown_words'])}", highlight=False)


@app.command()
@user_errors
def predict(
    texts: Optional[list[str]] = typer.Argument(None, help="One or more texts to classify."),
    bundle: Optional[Path] = typer.Option(None, "--bundle", "-m", help="Model bundle [default: the shipped model]."),
    input: Optional[Path] = typer.Option(None, "--input", "-i", help="File of texts: .txt (one per line), CSV, TSV, JSONL or Parquet."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write predictions (.csv, .tsv, .jsonl, .parquet)."),
    text_column: str = typer.Option("text", help="Text column of --input."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines instead of a table."),
    interactive_: bool = typer.Option(False, "--interactive", help="Type sentences one by one ('quit' ends)."),
) -> None:
    """Classify texts with a bundle: label, confidence and the words the model does not know."""
    from sentiment_lab.classifier import SentimentClassifier

    if not texts and input is None and not interactive_:
        raise InputError("give texts, --input FILE or --interactive")
    # A few sentences: the NumPy runtime (no torch import, fast cold start). Files: PyTorch.
    clf = SentimentClassifier.from_pretrained(bundle, backend="torch" if input is not None else "numpy")
    if interactive_:
        interactive(clf)
        return
    if input is not None:
        predict_file(clf, input, output, text_column)
        return
    rows = [_row(clf, t) for t in texts]
    if as_json:
        for t, r in zip(texts, rows):
            print(json.dumps({"text": t, **r}, ensure_ascii=False))
        return
    table = Table()
    for col in ("text", "label", "confidence", "unknown words"):
        table.add_column(col)
    for t, r in zip(texts, rows):
        color = "green" if r["label"] == "positive" else "red"
        table.add_row(t if len(t) <= 80 else t[:77] + "...", f"[{color}]{r['label']}[/{color}]", f"{r['score']:.1%}",
                      ", ".join(r["unknown_words"]))
    console.print(table)
