"""`sentiment-lab` command line: thin Typer wrappers over the Python API.

User errors (SentimentLabError) print one line and exit 1; a Ctrl-C exits 130.
"""
from __future__ import annotations

import sys

from sentiment_lab.cli import baseline, challenge, chat, compare, data, datasets, download, embeddings, errors, evaluate, experiment, explain, export, generate, plot, predict, report, serve, train  # noqa: F401  (registers the commands)
from sentiment_lab.cli.app import app
from sentiment_lab.exceptions import SentimentLabError


def main() -> None:
    try:
        app(standalone_mode=True)
    except SentimentLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


__all__ = ["app", "main"]
