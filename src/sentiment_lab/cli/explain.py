"""`sentiment-lab explain [MODEL] TEXT`: why the model said what it said about one text."""
from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import List, Optional

import typer

from sentiment_lab.cli._options import model_option, old_name, output_option, pick_model, renamed
from sentiment_lab.cli.app import app, panel
from sentiment_lab.cli.common import console, err_console, user_errors
from sentiment_lab.exceptions import InputError
from sentiment_lab.inference.shipped import is_shipped_name


def _split_args(args: list[str], model: Optional[Path] = None) -> tuple[Path | None, str]:
    """[MODEL] TEXT: one argument is the text (the -m model, else the default shipped one), two
    are model (a shipped name or a bundle folder) and text."""
    if len(args) == 1:
        return model, args[0]
    if len(args) == 2:
        if not (is_shipped_name(args[0]) or Path(args[0]).is_dir()):
            raise InputError(f"model not found: {args[0]} (a shipped name or a bundle folder; "
                             "to explain a text of several words, quote it)")
        return pick_model(args[0], model), args[1]
    raise InputError(f"expected [MODEL] TEXT, got {len(args)} arguments (quote the text)")


def default_out_dir(text: str) -> Path:
    """runs/explain/ and the text's first words: "The first half was dull, but..." ->
    runs/explain/the_first_half_was_dull_but (ASCII letters and digits, at most 60 characters)."""
    words = re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower())
    slug = "_".join(words[:6])[:60].strip("_")
    return Path("runs") / "explain" / (slug or "text")


@app.command(rich_help_panel=panel("explain"))
@user_errors
def explain(
    args: List[str] = typer.Argument(..., metavar="[MODEL] TEXT",
                                     help="Optional model: a shipped name (imdb, general) or a bundle folder (default: the default shipped model; or -m MODEL), then the "
                                          "text (quoted)."),
    model: Optional[str] = model_option(),
    old_bundle: Optional[str] = old_name("--bundle"),
    output: Optional[Path] = output_option(help="Where explain.html and explain.png go (default: runs/explain/ and "
                                                 "the text's first words, e.g. runs/explain/the_acting_was_not_good)."),
    old_out_dir: Optional[Path] = old_name("--out-dir"),
    ig_steps: int = typer.Option(32, "--ig-steps", min=1, max=1024, help="Integrated Gradients integration steps."),
    as_json: bool = typer.Option(False, "--json", help="Print the explanation as JSON instead of coloured tokens."),
) -> None:
    """Why the model says what it says about one text: attributions, gates, hidden states.

    Token attributions (Integrated Gradients, occlusion), the running prediction, and the
    RNN's gates and hidden states; writes explain.html and explain.png."""
    from sentiment_lab.inference.classifier import SentimentClassifier
    from sentiment_lab.analysis.explain import explain as explain_text
    from sentiment_lab.analysis.explain.figures import save_png
    from sentiment_lab.analysis.explain.render import render_terminal, save_html

    bundle, text = _split_args(args, pick_model(None, model, old_bundle))
    if not text.strip():
        raise InputError("text is empty")
    clf = SentimentClassifier.from_pretrained(bundle)
    e = explain_text(clf, text, ig_steps=ig_steps)
    out_dir = renamed(output, old_out_dir, "--output", "--out-dir") or default_out_dir(text)
    html = save_html(e, out_dir / "explain.html")
    png = save_png(e, out_dir / "explain.png")
    if as_json:
        typer.echo(json.dumps(e.to_dict(), ensure_ascii=False))
        err_console.print(f"wrote {html} and {png}", highlight=False)
    else:
        console.print(render_terminal(e))
        console.print(f"wrote {html} and {png}", highlight=False)
