"""`sentiment-lab predict`: sentences, files, or the notebook's interactive loop."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from sentiment_lab.cli._options import model_option, old_name, output_option, pick_model, text_column_option
from sentiment_lab.cli.app import app, panel
from sentiment_lab.cli.common import console, err_console, user_errors
from sentiment_lab.exceptions import InputError


def _row(clf, text: str) -> dict:
    """What the web API's /v1/predict answers: label, score (the confidence in that label),
    p_positive (P(positive)), the unknown words and the language note (or None)."""
    from sentiment_lab.text.tokenizer import check_text

    p = float(clf.predict_proba([check_text(text)])[0, 1])
    return {"label": clf.labels[int(p >= 0.5)], "score": max(p, 1 - p), "p_positive": p,
            "unknown_words": clf.unknown_words(text), "note": clf.language_note(text)}


def _print_notes(rows: list[dict]) -> None:
    """Each row's language note, one line on stderr (stdout keeps the predictions alone)."""
    for r in rows:
        if r["note"]:
            err_console.print(f"note: {r['note']}", highlight=False, markup=False)


def predict_file(clf, input: Path, output: Optional[Path], text_column: str, chunk_rows: int = 10_000,
                 resume: bool = False, progress: bool = True) -> None:
    """Stream the file through the model chunk by chunk (streaming.py): constant memory,
    resumable, the output appearing only when complete."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from sentiment_lab.inference.streaming import predict_stream

    bar = Progress(TextColumn("[bold]predict"), BarColumn(), TextColumn("{task.fields[rows]:,} rows"),
                   TimeElapsedColumn(), TimeRemainingColumn(), console=err_console, transient=True,
                   disable=not (progress and err_console.is_terminal))
    with bar:
        task = bar.add_task("predict", total=None, rows=0)
        n = predict_stream(clf, input, output, text_column, chunk_rows, resume,
                           on_progress=lambda done, total, rows: bar.update(task, completed=done, total=total,
                                                                            rows=rows))
    if output is not None:
        console.print(f"{n:,} predictions written to {output}", markup=False)


def interactive(clf) -> None:
    """The notebook's loop: type a sentence, get label, confidence (score), P(positive), unknown words."""
    console.print("Type a review and press Enter ('quit' to stop).")
    while True:
        try:
            text = input("> ")
        except EOFError:  # Ctrl-D: end the "> " line so that the shell's prompt starts on a fresh one
            console.print()
            break
        except KeyboardInterrupt:  # Ctrl-C: the same, then "interrupted" and exit code 130 as elsewhere
            console.print()
            raise
        if text.strip().lower() in ("quit", "exit", "q"):
            break
        if not text.strip():
            continue
        try:
            r = _row(clf, text)
        except InputError as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}")
            continue
        color = "green" if r["label"] == "positive" else "red"
        console.print(f"[{color}]{r['label']}[/{color}]  confidence {r['score']:.1%}  P(positive) {r['p_positive']:.4f}")
        if r["unknown_words"]:
            console.print(f"  unknown words: {', '.join(r['unknown_words'])}", highlight=False, markup=False)
        _print_notes([r])


@app.command(rich_help_panel=panel("predict"))
@user_errors
def predict(
    texts: Optional[list[str]] = typer.Argument(None, help="One or more texts to classify."),
    model: Optional[str] = model_option(),
    old_bundle: Optional[str] = old_name("--bundle"),
    input: Optional[Path] = typer.Option(None, "--input", "-i", help="File of texts: .txt (one per line), CSV, TSV, JSONL or Parquet."),
    output: Optional[Path] = output_option(help="Write predictions (.csv, .tsv, .jsonl, .parquet)."),
    text_column: str = text_column_option(),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted --input/--output run where it stopped."),
    chunk_size: int = typer.Option(10_000, "--chunk-size", help="Rows read and scored at a time (memory ~ one chunk)."),
    backend: Optional[str] = typer.Option(
        None, help="torch, numpy, onnx, onnx-int8 or auto (default: numpy for texts; auto for --input: onnx "
                   "if the bundle has an export, else torch)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar for --input (on a terminal)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines instead of a table."),
    interactive_: bool = typer.Option(False, "--interactive", help="Type sentences one by one ('quit' ends)."),
) -> None:
    """Classify texts with a bundle: label, confidence, P(positive) and the words the model does not know.

    --json prints what the web API answers: label, score (the confidence in the label),
    p_positive (P(positive)), unknown_words and note (null, or "this text looks French; the model
    `imdb` reads English", also printed on stderr: the text is classified all the same)."""
    from sentiment_lab.inference.classifier import BACKENDS, SentimentClassifier

    bundle = pick_model(None, model, old_bundle)
    if not texts and input is None and not interactive_:
        raise InputError("give texts, --input FILE or --interactive")
    if sum((bool(texts), input is not None, interactive_)) > 1:  # one would be silently ignored
        raise InputError("give texts, --input FILE or --interactive, one of them")
    if output is not None and input is None:
        raise InputError("--output needs --input FILE")
    # A few sentences: the NumPy runtime (no torch import, fast cold start). Files: onnxruntime
    # if the bundle has an export (the fastest, benchmarks/results/onnx_cpu.json), else PyTorch.
    if backend is not None and backend not in BACKENDS:
        raise InputError(f"--backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    clf = SentimentClassifier.from_pretrained(bundle, backend=backend or ("auto" if input is not None else "numpy"))
    if interactive_:
        interactive(clf)
        return
    if input is not None:
        predict_file(clf, input, output, text_column, chunk_size, resume, progress)
        return
    rows = [_row(clf, t) for t in texts]
    _print_notes(rows)
    if as_json:
        for t, r in zip(texts, rows):
            print(json.dumps({"text": t, **r}, ensure_ascii=False))
        return
    table = Table()
    for col in ("text", "label", "confidence", "P(positive)", "unknown words"):
        table.add_column(col, justify="right" if col in ("confidence", "P(positive)") else "left")
    for t, r in zip(texts, rows):
        color = "green" if r["label"] == "positive" else "red"
        table.add_row(escape(t if len(t) <= 80 else t[:77] + "..."), f"[{color}]{r['label']}[/{color}]", f"{r['score']:.1%}",
                      f"{r['p_positive']:.4f}", escape(", ".join(r["unknown_words"])))
    console.print(table)
