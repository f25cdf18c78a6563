"""`sentiment-lab report RUN_DIR`: one self-contained HTML file about a run."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sentiment_lab.cli._options import label_column_option, output_option, text_column_option
from sentiment_lab.cli.app import app, panel
from sentiment_lab.cli.common import console, user_errors


@app.command(rich_help_panel=panel("report"))
@user_errors
def report(
    run_dir: Path = typer.Argument(..., help="A run directory written by `sentiment-lab train`."),
    output: Optional[Path] = output_option(help="HTML file to write (default: RUN_DIR/report.html)."),
    data: Optional[str] = typer.Option(None, "--data", help="The test data the run was tested on (aclImdb archive/"
                                       "folder or a labelled table), for the error section (default: from the run's config)."),
    text_column: str = text_column_option(),
    label_column: str = label_column_option(),
    challenge: bool = typer.Option(True, help="Run the challenge suite on the run's bundle."),
    embeddings: bool = typer.Option(True, help="Include the word-embedding map (PCA) and nearest neighbours."),
    errors: bool = typer.Option(True, help="Include error rates and the most confident errors."),
) -> None:
    """Everything about a run in one self-contained HTML file.

    Data statistics, learning curves, metrics, confusion matrix, calibration, embedding map,
    errors, challenge results and the model card, with every figure embedded."""
    from sentiment_lab.fileio import check_target
    from sentiment_lab.cli.evaluate import load_records
    from sentiment_lab.analysis.report import report as build

    if output is not None:
        check_target(output, parent=False)  # a folder named like the output fails before the work
    records = load_records(data, "test", text_column, label_column, None, None) if data and errors else None
    path = build(run_dir, output, records, challenge=challenge, embeddings=embeddings, errors=errors)
    console.print(f"report: {path}", markup=False)
