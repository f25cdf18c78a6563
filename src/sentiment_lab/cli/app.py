"""The Typer application object; each command lives in its own module.

`sentiment-lab --help` lists the commands in panels, in the order of PANELS: what most people
run first, then the commands that look inside a model and its data, comparisons, serving, data.
"""
from __future__ import annotations

import click
import typer
from typer.core import TyperGroup

PANELS: dict[str, tuple[str, ...]] = {
    "Train and use": ("train", "evaluate", "predict", "experiment"),
    "Look inside": ("plot", "report", "data-plots", "embeddings", "explain", "errors", "challenge"),
    "Compare": ("compare", "baseline"),
    "Talk to an LLM": ("chat",),
    "Serve and deploy": ("serve", "export"),
    "Data": ("datasets", "download", "generate"),
}
_ORDER = [name for names in PANELS.values() for name in names]


def panel(command: str) -> str:
    """The help panel a command is listed in (its `rich_help_panel`)."""
    return next(title for title, names in PANELS.items() if command in names)


class CommandsInPanelOrder(TyperGroup):
    """Lists the commands in PANELS order (Typer lists them in the order the modules registered
    them, which imports between the modules decide)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(super().list_commands(ctx), key=lambda n: _ORDER.index(n) if n in _ORDER else len(_ORDER))


app = typer.Typer(name="sentiment-lab", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  cls=CommandsInPanelOrder,
                  help="Train, evaluate and use recurrent-network sentiment classifiers (LSTM, GRU, ...).")
