"""The user's own reviews: CSV, TSV, JSONL or Parquet with a text and a label column."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from sentiment_lab.data.records import Record, json_object, shown
from sentiment_lab.exceptions import DataError, require_file

POSITIVE = {"1", "pos", "positive", "true", "yes"}
NEGATIVE = {"0", "neg", "negative", "false", "no"}
FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet",
           ".pq": "parquet", ".txt": "txt"}


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DataError(f"{path}: unknown file type {path.suffix!r}; use one of {', '.join(sorted(FORMATS))}")
    return fmt


def read_jsonl(path: Path) -> pd.DataFrame:
    """One JSON object a line (blank lines skipped); a line that is not an object (`[1, 2]`,
    `"text"`, `3`) is a one-line DataError naming it, as `predict -i` says it, not pandas'
    TypeError."""
    rows = []
    with open(path, encoding="utf-8-sig", newline="\n") as f:  # lines end at \n only; a leading BOM is no error
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            rows.append(json_object(line, f"{path}: line {number}", '{"text": ..., "label": ...}'))
    return pd.DataFrame.from_records(rows) if rows else pd.DataFrame()


def read_table(path: str | Path) -> pd.DataFrame:
    """Any supported table as a DataFrame of strings; one clear error if unreadable."""
    path = require_file(path)
    fmt = file_format(path)
    try:
        if fmt == "csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        if fmt == "tsv":
            return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, encoding="utf-8", quoting=3)
        if fmt == "jsonl":
            return read_jsonl(path)
        if fmt == "parquet":
            return pd.read_parquet(path)
        lines = path.read_text(encoding="utf-8").splitlines()
        return pd.DataFrame({"text": [ln for ln in lines if ln.strip()]})
    except UnicodeDecodeError:
        raise DataError(f"{path}: not valid UTF-8") from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: cannot parse as {fmt}: {str(exc).splitlines()[0]}") from None


def parse_label(value: object, threshold: float | None) -> int | None:
    """0/1, pos/neg, positive/negative, true/false; or a star rating with a threshold."""
    if isinstance(value, bool):
        return int(value)
    s = str(value).strip().lower()
    if threshold is not None:
        try:
            x = float(s)
        except ValueError:
            return None
        return int(x >= threshold) if math.isfinite(x) else None  # NaN (a missing rating) would read as negative
    if s in POSITIVE or s in ("1.0",):
        return 1
    if s in NEGATIVE or s in ("0.0",):
        return 0
    return None


def is_missing(value: object) -> bool:
    """None or NaN: what pandas gives for an empty JSONL/Parquet/CSV cell (NaN != NaN)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _is_number(value: object) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def load_table(path: str | Path, text_column: str = "text", label_column: str = "label",
               rating_threshold: float | None = None, split: str = "train") -> list[Record]:
    """Labelled records from a table; names the file, row and value of any bad label."""
    df = read_table(path)
    for col in (text_column, label_column):
        if col not in df.columns:
            raise DataError(f"{path}: no column {col!r}; columns are {', '.join(map(shown, df.columns)) or 'none'}")
    out = []
    for row, (text, raw) in enumerate(zip(df[text_column], df[label_column]), start=1):
        label = parse_label(raw, rating_threshold)
        if label is None:
            if rating_threshold is not None:
                hint = "a number (rating threshold set)"
            elif _is_number(raw):
                hint = "0/1; for star ratings pass a rating threshold (--rating-threshold 4: 4 and up are positive)"
            else:
                hint = "0/1, pos/neg, positive/negative, true/false (or set a rating threshold)"
            raise DataError(f"{path}: row {row}: unknown label {raw!r}; expected {hint}")
        if not is_missing(text) and not isinstance(text, str):
            raise DataError(f"{path}: row {row}: text must be a string, got {type(text).__name__} {text!r}")
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{path}: row {row}: empty text")
        rating = None
        if rating_threshold is not None:
            rating = int(float(raw))
        out.append(Record(text=text, label=label, split=split, id=f"{Path(path).name}:{row}", rating=rating))
    if not out:
        raise DataError(f"{path}: no rows")
    return out
