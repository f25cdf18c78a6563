"""`sentiment-lab datasets`: the named datasets, where each would load from, and their terms."""
from __future__ import annotations

import typer

from sentiment_lab.cli.app import app, panel
from sentiment_lab.cli.common import console, user_errors


@app.command(rich_help_panel=panel("datasets"))
@user_errors
def datasets(
    verify: bool = typer.Option(False, help="Also hash local copies against their known checksums."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per dataset instead of a table."),
) -> None:
    """The datasets `--data NAME` knows (A+B mixes them): language, size, terms, where each loads from.

    A local copy ($SENTIMENT_LAB_DATA, a folder laid out like ../shared/data), else the cache,
    else a download with a sha256 check."""
    import json

    from rich.markup import escape
    from rich.table import Table

    from sentiment_lab.data import DATA_ENV, list_datasets

    rows = list_datasets(verify=verify)
    if as_json:
        for row in rows:
            console.print(json.dumps(row, ensure_ascii=False), markup=False, highlight=False, soft_wrap=True)
        return
    table = Table(title=f"named datasets (local copies: ${DATA_ENV}; details: --json, docs/datasets.md)")
    for column in ("name", "language", "domain", "size", "terms", "from"):
        table.add_column(column, no_wrap=column in ("name", "from"))
    for row in rows:
        where = row["available"] + ("" if row.get("local_ok") in (None, True) else " (checksum mismatch)")
        terms = "research use only" if row["research_only"] else row["terms"].split(";")[0].split(" (")[0]
        short = (row["name"], row["language"], row["domain"].split(":")[0], row["size"].split(":")[0], terms, where)
        table.add_row(*(escape(str(v)) for v in short))
    console.print(table)
