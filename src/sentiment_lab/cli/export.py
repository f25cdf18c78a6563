"""`sentiment-lab export`: a bundle's network as ONNX, for onnxruntime serving on CPU."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from sentiment_lab.cli._options import model_option, old_name, output_option, pick_model
from sentiment_lab.cli.app import app, panel
from sentiment_lab.cli.common import console, user_errors
from sentiment_lab.exceptions import InputError


@app.command(rich_help_panel=panel("export"))
@user_errors
def export(
    bundle: Optional[str] = typer.Argument(None, metavar="[MODEL]", help="A shipped model (imdb, general) or a bundle folder (default: the default shipped model, needs -o; or -m MODEL)."),
    model: Optional[str] = model_option("A shipped model (imdb, general) or a bundle folder (default: the default shipped model, needs -o)."),
    old_bundle: Optional[str] = old_name("--bundle"),
    format: str = typer.Option("onnx", "--format", "-f", help="Export format (onnx)."),
    output: Optional[Path] = output_option(
        help="FILE.onnx: standalone file(s), bundle untouched. DIR: a new bundle (copy + ONNX). "
             "(default: into BUNDLE, listed in its sha256 manifest)"),
    quantize: Optional[str] = typer.Option(None, "--quantize", "-q",
                                           help="Also write a dynamic-int8 model (int8): ~4x smaller."),
) -> None:
    """Export to ONNX, checked equal to PyTorch before it is installed.

    Then load it with SentimentClassifier.from_pretrained(BUNDLE, backend="onnx") or
    backend="auto"."""
    if format != "onnx":
        raise InputError(f"--format must be onnx, not {format!r}")
    from sentiment_lab.inference.onnx_export import export_onnx

    result = export_onnx(pick_model(bundle, model, old_bundle), output, quantize)
    table = Table()
    for col in ("model", "file", "size", "max |logit diff| vs PyTorch"):
        table.add_column(col)
    for variant, info in result.items():
        table.add_row(variant, escape(str(info["path"])), f"{info['bytes'] / 2**20:.1f} MiB", f"{info['max_abs_diff']:.2e}")
    console.print(table)
