"""`sentiment-lab plot RUN_DIR`: learning curves and evaluation figures of a run."""
from __future__ import annotations

from pathlib import Path

import typer

from sentiment_lab.cli.app import app, panel
from sentiment_lab.cli.common import console, user_errors
from sentiment_lab.exceptions import InputError


@app.command(rich_help_panel=panel("plot"))
@user_errors
def plot(run_dir: Path = typer.Argument(..., help="A run directory written by `sentiment-lab train`.")) -> None:
    """Learning curves and evaluation figures of a run, as PNG and SVG in RUN_DIR/plots/.

    Learning curves and, when the run was tested, confusion matrix, ROC, PR, reliability
    diagram, accuracy by length and by rating."""
    from sentiment_lab.analysis.plots import plot_run

    if not (run_dir / "history.json").is_file():
        raise InputError(f"{run_dir} is not a run directory: history.json is missing")
    paths = plot_run(run_dir)
    for name, path in paths.items():
        console.print(f"{name}: {path:.4f}" if isinstance(path, float) else f"{name}: {path}", markup=False)
