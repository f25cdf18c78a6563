"""`sentiment-lab download`: fetch the IMDB archive into the cache (or a path)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sentiment_lab.cli._options import old_name, output_option, renamed
from sentiment_lab.cli.app import app, panel
from sentiment_lab.cli.common import console, user_errors


@app.command(rich_help_panel=panel("download"))
@user_errors
def download(
    output: Optional[Path] = output_option(help="Where to write the archive (default: "
                                                "$SENTIMENT_LAB_HOME/aclImdb_v1.tar.gz)."),
    old_dest: Optional[Path] = old_name("--dest"),
    url: str = typer.Option(None, help="Archive URL (default: the official Stanford URL)"),
    sha256: Optional[str] = typer.Option(None, help="Expected sha256 (default: the official archive's; '' = skip)"),
) -> None:
    """Download the IMDB archive (streamed, sha256-verified, written atomically)."""
    from sentiment_lab.data import imdb

    target = renamed(output, old_dest, "--output", "--dest") or imdb.home() / imdb.ARCHIVE_NAME
    path = imdb.download(target, url=url or imdb.URL, sha256=imdb.SHA256 if sha256 is None else (sha256 or None))
    console.print(f"saved {path} ({path.stat().st_size:,} bytes)", markup=False)
