"""`sentiment-lab challenge`: per-capability accuracy on the built-in challenge suite."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from sentiment_lab.cli._options import examples_option, model_option, old_name, output_option, pick_model, renamed
from sentiment_lab.cli.app import app, panel
from sentiment_lab.cli.common import console, user_errors


@app.command(rich_help_panel=panel("challenge"))
@user_errors
def challenge(
    bundle: Optional[str] = typer.Argument(None, metavar="[MODEL]", help="A shipped model (imdb, general) or a bundle folder (default: the default shipped model; or -m MODEL)."),
    model: Optional[str] = model_option(),
    old_bundle: Optional[str] = old_name("--bundle"),
    suite: Optional[Path] = typer.Option(None, "--suite", help="Your own JSONL suite (text, label, group[, pair])."),
    output: Optional[Path] = output_option(help="Write the full results as JSON."),
    examples: int = examples_option(20, help="How many failures to list."),
    old_failures: Optional[int] = old_name("--failures"),
) -> None:
    """Accuracy per capability (negation, contrast, sarcasm, typos, ...) and the failures."""
    from sentiment_lab.fileio import check_target, write_json
    from sentiment_lab.analysis.challenge import load_suite, run_challenge
    from sentiment_lab.inference.classifier import SentimentClassifier

    if output is not None:
        check_target(output, parent=False)  # a folder named like the output fails before the work
    examples = renamed(examples, old_failures, "--examples", "--failures", default=20)
    clf = SentimentClassifier.from_pretrained(pick_model(bundle, model, old_bundle), backend="numpy")
    res = run_challenge(clf, load_suite(suite))
    table = Table(title=f"challenge suite: {res['accuracy']:.1%} of {res['n']} cases")
    for col in ("group", "cases", "accuracy"):
        table.add_column(col, justify="left" if col == "group" else "right")
    for g, m in sorted(res["groups"].items(), key=lambda kv: kv[1]["accuracy"]):
        color = "green" if m["accuracy"] >= 0.8 else "yellow" if m["accuracy"] >= 0.5 else "red"
        table.add_row(g, str(m["n"]), f"[{color}]{m['accuracy']:.0%}[/{color}]")
    console.print(table)
    inv = res["invariance"]
    if inv["pairs"]:
        console.print(f"invariance: {inv['consistent']}/{inv['pairs']} pairs get the same label")
    for f in res["failures"][:examples]:
        console.print(f"  [red]✗[/red] {escape('[' + f['group'] + ']')} {escape(repr(f['text']))}: expected {f['label']}, got {f['predicted']} "
                      f"({f['score']:.0%})", highlight=False)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        write_json(output, res)
        console.print(f"results written to {output}")
