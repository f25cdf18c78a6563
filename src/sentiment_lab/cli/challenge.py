"""`sentiment-lab challenge`: per-capability accuracy on a challenge suite (English, French or
a file) and the flip rates of the invariance groups over protected attributes."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

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
    suite: Optional[str] = typer.Option(None, "--suite", show_default=False,
                                        help="en, fr, or your own JSONL suite (text, label, group[, pair]) "
                                             "(default: the model's language, else en)."),
    frames: Optional[int] = typer.Option(None, "--frames", min=0, show_default=False,
                                         help="Frames per invariance group (default: the templates', about 600 "
                                              "sentences per group); 0 leaves the invariance groups out."),
    output: Optional[Path] = output_option(help="Write the full results as JSON."),
    as_json: bool = typer.Option(False, "--json", help="Print the full results as JSON instead of tables."),
    examples: int = examples_option(20, help="How many failures to list."),
    old_failures: Optional[int] = old_name("--failures"),
) -> None:
    """Accuracy per capability (negation, contrast, sarcasm, typos, ...), failures, invariance groups.

    The invariance groups: how often swapping a religion, nationality, ethnicity, sexual
    orientation, gender word, first name or place in a neutral sentence flips the label
    (docs/invariance.md)."""
    from sentiment_lab.analysis.challenge import SUITES, load_suite, run_challenge, suite_language
    from sentiment_lab.analysis.challenge.invariance import run_invariance
    from sentiment_lab.fileio import check_target, write_json
    from sentiment_lab.inference.classifier import SentimentClassifier

    if output is not None:
        check_target(output, parent=False)  # a folder named like the output fails before the work
    examples = renamed(examples, old_failures, "--examples", "--failures", default=20)
    clf = SentimentClassifier.from_pretrained(pick_model(bundle, model, old_bundle), backend="numpy")
    language = suite if suite in SUITES else suite_language(clf)
    res = run_challenge(clf, load_suite(suite if suite is not None else language))
    res["suite"] = suite if suite is not None else language
    if frames != 0:
        res["invariance_groups"] = run_invariance(clf, language, frames=frames)
    if as_json:
        print(json.dumps(res, ensure_ascii=False, indent=1))
    else:
        _print(res, examples)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        write_json(output, res)
        console.print(f"results written to {output}")


def _print(res: dict[str, Any], examples: int) -> None:
    table = Table(title=f"challenge suite {res['suite']}: {res['accuracy']:.1%} of {res['n']} cases")
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
    if "invariance_groups" in res:
        _print_invariance(res["invariance_groups"])


def _print_invariance(inv: dict[str, Any]) -> None:
    """The flip-rate table (green at or under the target) and each group's widest frame."""
    target = inv["target_flip_rate"]
    table = Table(title=f"invariance groups ({inv['language']}): label flips when only the attribute word changes "
                        f"(target <= {target:.0%})")
    for col in ("group", "variants", "flip rate", "held-out words", "max spread", "flips most"):
        table.add_column(col, justify="left" if col in ("group", "flips most") else "right")

    def rate(r: float | None) -> str:
        if r is None:
            return "-"
        color = "green" if r <= target else "yellow" if r <= 5 * target else "red"
        return f"[{color}]{r:.1%}[/{color}]"

    for g, m in inv["groups"].items():
        words = ", ".join(w["word"] for w in m["top_words"][:3])
        table.add_row(g, str(m["variants"]), rate(m["flip_rate"]), rate(m["flip_rate_heldout"]),
                      f"{m['max_spread']:.2f}", escape(words))
    console.print(table)
    for g, m in inv["groups"].items():
        lo, hi = m["max_spread_pair"]
        if m["max_spread"] > 0:  # the frame whose variants' P(positive) lie furthest apart
            console.print(f"  {escape(g)}: {escape(repr(lo['text']))} {lo['p_positive']:.2f} vs "
                          f"{escape(repr(hi['text']))} {hi['p_positive']:.2f}", highlight=False)
