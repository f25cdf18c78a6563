"""`sentiment-lab experiment`: a resumable grid over presets, overrides and seeds."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sentiment_lab.cli._options import old_name, output_option, renamed
from sentiment_lab.cli.app import app, panel
from sentiment_lab.cli.common import console, err_console, user_errors
from sentiment_lab.cli.train import TABLES


@app.command(rich_help_panel=panel("experiment"))
@user_errors
def experiment(
    presets: list[str] = typer.Option(["seed"], "--preset", "-p", help="Preset name or TOML file (repeatable)."),
    grid: list[str] = typer.Option([], "--grid", "-g", help="Axis to sweep: section.key=v1,v2,... (repeatable; "
                                   "all combinations are run)."),
    seeds: list[int] = typer.Option([42], "--seed", "-s", help="Seeds (repeatable): mean and std are reported."),
    data: Optional[str] = typer.Option(None, "--data", help="aclImdb archive/folder or a table (as for train)."),
    sets: list[str] = typer.Option([], "--set", help="Setting applied to every cell: section.key=value."),
    limit: Optional[int] = typer.Option(None, "--limit", help="At most N train and N test rows per run (quick "
                                        "trials; same as --set data.limit=N)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Epochs of every run (same as --set train.epochs=N)."),
    output: Path = output_option(Path("runs/experiments/default"), help="Experiment directory (rerun to resume)."),
    old_out: Optional[Path] = old_name("--out"),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the cells and exit."),
) -> None:
    """Train every cell of presets x grid x seeds; write results.csv/.md and plots. Rerun to resume.

    The tables cover every finished run in --output, so several commands (other presets, other
    grids) can fill one experiment directory."""
    from sentiment_lab.training.experiment import plan, run_experiment

    out = renamed(output, old_out, "--output", "--out", default=Path("runs/experiments/default"))
    common = list(sets)
    if data is not None:
        common.append(f"data.source={data}" if data.lower().endswith(TABLES) else f"data.path={data}")
    if limit is not None:
        common.append(f"data.limit={limit}")
    if epochs is not None:
        common.append(f"train.epochs={epochs}")
    cells = plan(presets, grid, seeds, common)
    if dry_run:
        for cell, _ in cells:
            console.print(cell.key, markup=False)
        console.print(f"{len(cells)} runs")
        return
    agg = run_experiment(presets, grid, seeds, out, common, on_event=lambda m: err_console.log(m))
    console.print((out / "results.md").read_text(), markup=False)
    console.print(f"{len(agg)} configurations ({len(cells)} runs from this command); tables and plots in {out}",
                  markup=False)
