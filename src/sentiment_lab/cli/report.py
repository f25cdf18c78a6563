"""`sentiment-lab report RUN_DIR`: one self-contained HTML file about a run."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sentiment_lab.cli.app import app
from sentiment_lab.cli.common import console, user_errors


@app.command()
@user_errors
def report(
    run_dir: Path = typer.Argument(..., help="A run directory written by `sentiment-lab train`."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="HTML file to write (default RUN_DIR/report.html)."),
    challenge: bool = typer.Option(True, help="Run the challenge suite on the run's bundle."),
    embeddings: bool = typer.Option(True, help="Include the word-embedding map (t-SNE)."),
    errors: bool = typer.Option(True, help="Include the most confident errors."),
) -> None:
    """Data statistics, learning curves, metrics, confusion matrix, calibration, embedding map,
    errors, challenge results and the model card in one HTML file with every figure embedded."""
    from sentiment_lab.report import report as build

    path = build(run_dir, output, challenge=challenge, embeddings=embeddings, errors=errors)
    console.print(f"report: {path}")
