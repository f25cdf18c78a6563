"""`sentiment-lab embeddings`: a 2-D map of chosen words, their nearest neighbours, and an
export for the TensorBoard Embedding Projector."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from sentiment_lab.cli._options import model_option, old_name, output_option, pick_model
from sentiment_lab.cli.app import app, panel
from sentiment_lab.cli.common import console, user_errors
from sentiment_lab.exceptions import ConfigError


@app.command(rich_help_panel=panel("embeddings"))
@user_errors
def embeddings(
    bundle: Optional[str] = typer.Argument(None, metavar="[MODEL]", help="A shipped model (imdb, general) or a bundle folder (default: the default shipped model; or -m MODEL)."),
    model: Optional[str] = model_option(),
    old_bundle: Optional[str] = old_name("--bundle"),
    words: Optional[str] = typer.Option(None, "--words", "-w", help="Words to show: good,great,bad or groups as "
                                        "'positive:good,great;negative:bad,awful' (default: the notebook's four "
                                        "groups of 10 words)."),
    method: str = typer.Option("tsne", "--method", help="2-D projection: tsne | pca | umap."),
    neighbours: int = typer.Option(8, "--neighbours", "-k", help="Nearest neighbours (cosine) to list per word."),
    top_n: int = typer.Option(5000, "--top-n", help="Most frequent words to export for the Embedding Projector."),
    seed: int = typer.Option(42, help="Seed of the projection."),
    output: Path = output_option(Path("runs/embeddings"), help="Output directory."),
) -> None:
    """Word-embedding map, nearest neighbours and a TensorBoard Projector export.

    Map of word embeddings coloured by group (PNG + SVG), nearest neighbours over the whole
    vocabulary (table + neighbours.json), missing words, and vectors.tsv + metadata.tsv for
    https://projector.tensorflow.org."""
    from sentiment_lab.analysis.embeddings import METHODS, embedding_report, parse_words

    if method not in METHODS:
        raise ConfigError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    if neighbours < 1 or top_n < 0:
        raise ConfigError("--neighbours must be >= 1 and --top-n >= 0")
    bundle = pick_model(bundle, model, old_bundle)
    rep = embedding_report(bundle, parse_words(words), method, neighbours, output, top_n, seed)
    t = Table(title=f"Nearest neighbours by cosine similarity ({len(rep.words)} words)")
    t.add_column("word")
    t.add_column("group")
    t.add_column(f"{neighbours} nearest words (cosine)")
    for w, g in zip(rep.words, rep.groups):
        t.add_row(escape(w), escape(g), escape(", ".join(f"{n} {s:.2f}" for n, s in rep.neighbours[w])))
    console.print(t)
    if rep.missing:
        console.print("[yellow]not in the vocabulary (or split into several tokens):[/yellow] "
                      + escape("; ".join(f"{g}: {', '.join(ws)}" for g, ws in rep.missing.items())), highlight=False)
    for name, path in rep.paths.items():
        console.print(f"{name}: {path}", markup=False)
