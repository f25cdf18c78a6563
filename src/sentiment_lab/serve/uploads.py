"""The texts of an uploaded table, read within the upload limits: nothing beyond them is decoded.

`read_upload(file, filename, text_column)` returns the texts of one column and that column's
name, or raises `UploadError(status, detail)`: 400 for a file that cannot be read (bad bytes,
missing column, a row that breaks the text rules), 413 for one over a limit.

Why not `data.tabular.read_table`: it reads the whole table into a DataFrame first, every
column of every row, and only then could the row limit be checked. A 33 KB Parquet file of
300,000 copies of a 1,000-character string (dictionary encoding + snappy) decoded to ~1 GB of
Python strings before its 413, and the server's RSS stayed at the high-water mark. Here:

- Parquet: the row count and the text column's sizes come from the footer, before a value is
  decoded; only the text column is read, batch by batch, as a dictionary array (each distinct
  string once, plus one index per row), and the characters the rows would decode to are
  counted from the dictionary before a Python string is made. A dictionary-encoded column can
  describe far more text than its pages hold (one value repeated), hence the exact count.
- CSV, TSV, JSONL, TXT: read line by line from the spooled upload, rows counted as they
  stream (reading stops at the limit + 1), only the text column kept, each physical line at
  most MAX_LINE_BYTES (bounds what one CSV row or JSON object can expand to in memory).
- Every format: at most MAX_FILE_ROWS rows and MAX_UPLOAD_CHARS characters of text in all.
"""
from __future__ import annotations

import csv
import json
import math
from typing import Any, BinaryIO, Iterator

from pydantic_core import PydanticCustomError

from sentiment_lab.fileio import spreadsheet_safe
from sentiment_lab.serve import schemas as s

# data.tabular's formats (tested to be the same): not imported from there, because that
# module imports pandas, which the server does not need (~140 MB of RSS)
FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet",
           ".pq": "parquet", ".txt": "txt"}

MAX_LINE_BYTES = 1 << 20  # one physical line of a CSV/TSV/JSONL/TXT upload (a review is ~1-13 KB)
# A text column whose pages decompress to more than this is refused from the footer alone:
# every character is at most 4 bytes of UTF-8, each value carries a 4-byte length.
MAX_PARQUET_COLUMN_BYTES = 4 * s.MAX_UPLOAD_CHARS + 4 * s.MAX_FILE_ROWS
PARQUET_BATCH_ROWS = 1024
MAX_COLUMNS_SHOWN = 20


def is_missing(value: object) -> bool:
    """None or NaN (a JSONL null or NaN, a missing key, a Parquet null): an empty text."""
    return value is None or (isinstance(value, float) and math.isnan(value))


class UploadError(Exception):
    """An upload that is refused: `status` (400 or 413) and a `detail` for the user."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def read_upload(file: BinaryIO, filename: str, text_column: str = "text", *, max_rows: int = s.MAX_FILE_ROWS,
                max_chars: int = s.MAX_UPLOAD_CHARS) -> tuple[list[str], str]:
    """(texts, column) of an uploaded table; its file name's extension picks the format."""
    suffix = "." + filename.rsplit(".", 1)[1].lower() if "." in filename else ".csv"
    fmt = FORMATS.get(suffix)
    if fmt is None:
        raise UploadError(400, f"unknown file type {suffix!r}; use one of {', '.join(sorted(FORMATS))}")
    file.seek(0)
    if fmt == "parquet":
        values, column = _parquet(file, filename, text_column, max_rows, max_chars)
    else:
        counter = _Counter(max_rows, max_chars)
        if fmt in ("csv", "tsv"):
            values, column = _delimited(_lines(file, filename), filename, text_column, fmt, counter)
        elif fmt == "jsonl":
            values, column = _jsonl(_lines(file, filename), filename, text_column, counter)
        else:
            values, column = _txt(_lines(file, filename), counter), "text"
    if not values:
        raise UploadError(400, "the file has no rows")
    texts = []
    for row, value in enumerate(values, start=1):
        try:  # a JSONL null or missing key, a Parquet null: empty (str() would make them the review "nan")
            texts.append(s.check_text("" if is_missing(value) else value))
        except PydanticCustomError as exc:
            raise UploadError(400, f"row {row}: {exc.message()}") from None
    return texts, column


class _Counter:
    """Rows and characters so far; refuses (413) as soon as either passes its limit."""

    def __init__(self, max_rows: int, max_chars: int) -> None:
        self.max_rows, self.max_chars = max_rows, max_chars
        self.rows = self.chars = 0

    def add(self, rows: int, chars: int) -> None:
        self.rows += rows
        self.chars += chars
        if self.rows > self.max_rows:
            raise UploadError(413, f"the file has more than {self.max_rows:,} rows; the limit is {self.max_rows:,}")
        if self.chars > self.max_chars:
            raise UploadError(413, f"the file holds more than {self.max_chars:,} characters of text; "
                                   f"the limit is {self.max_chars:,}")

    def value(self, v: Any) -> Any:
        self.add(1, len(v) if isinstance(v, str) else 0)
        return v


def _columns(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_COLUMNS_SHOWN]) or "none"
    return shown + (f", ... ({len(names):,} in all)" if len(names) > MAX_COLUMNS_SHOWN else "")


def _no_column(column: str, names: list[str]) -> UploadError:
    return UploadError(400, f"no column {column!r} in the file; its columns are: {_columns(names)}")


def _lines(file: BinaryIO, filename: str) -> Iterator[str]:
    """Physical lines (each keeps its line break), decoded as UTF-8 (a leading BOM dropped)."""
    n = 0
    while raw := file.readline(MAX_LINE_BYTES + 1):
        n += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            raise UploadError(413, f"line {n:,} is longer than {MAX_LINE_BYTES // 2**20} MB")
        if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UploadError(400, f"{filename}: not valid UTF-8 (line {n:,})") from None


def _delimited(lines: Iterator[str], filename: str, column: str, fmt: str,
               counter: _Counter) -> tuple[list[Any], str]:
    """CSV (quoted fields may hold line breaks) or TSV (no quoting), as pandas reads them:
    the first non-blank row names the columns, blank lines are skipped, a short row's
    missing cells are empty, a row with more cells than the header is an error."""
    reader = (csv.reader(lines, strict=True) if fmt == "csv"
              else csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    values: list[Any] = []
    try:
        header = next((row for row in reader if row), None)
        if header is None:
            raise UploadError(400, f"{filename}: the file is empty")
        if column not in header:
            raise _no_column(column, header)
        i = header.index(column)
        for row in reader:
            if not row:
                continue
            if len(row) > len(header):
                raise UploadError(400, f"{filename}: cannot parse as {fmt}: expected {len(header)} fields in line "
                                       f"{reader.line_num:,}, saw {len(row)}")
            values.append(counter.value(row[i] if i < len(row) else None))
    except csv.Error as exc:
        raise UploadError(400, f"{filename}: cannot parse as {fmt}: line {reader.line_num:,}: {exc}") from None
    return values, column


def _jsonl(lines: Iterator[str], filename: str, column: str, counter: _Counter) -> tuple[list[Any], str]:
    """One JSON object per line; a row without the key is an empty text (as pandas makes it NaN)."""
    values: list[Any] = []
    keys: dict[str, None] = {}  # every key seen, in order (for the "no column" message)
    seen = False
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise UploadError(400, f"{filename}: cannot parse as jsonl: line {n:,}: "
                                   f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        if not isinstance(obj, dict):
            raise UploadError(400, f"{filename}: cannot parse as jsonl: line {n:,} is not a JSON object")
        if column in obj:
            seen = True
        elif len(keys) <= MAX_COLUMNS_SHOWN:
            keys.update(dict.fromkeys(map(str, obj)))
        try:
            values.append(counter.value(obj.get(column)))
        except UploadError:
            if not seen:  # a file with no such column at all: say that rather than "too many rows"
                raise _no_column(column, list(keys)) from None
            raise
    if values and not seen:
        raise _no_column(column, list(keys))
    return values, column


def _txt(lines: Iterator[str], counter: _Counter) -> list[Any]:
    """One text per line (split at \\n, a trailing \\r dropped, as the web page splits pasted
    lines); blank lines skipped."""
    values = []
    for line in lines:
        text = line.removesuffix("\n").removesuffix("\r")
        if text.strip():
            values.append(counter.value(text))
    return values


def _parquet(file: BinaryIO, filename: str, column: str, max_rows: int, max_chars: int) -> tuple[list[Any], str]:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(file)
        names = [n for n in pf.schema_arrow.names if not n.startswith("__index_level_")]  # pandas' saved index
        if column not in names:
            raise _no_column(column, names)
        kind = pf.schema_arrow.field(column).type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)):
            raise UploadError(400, f"column {column!r} holds {kind} values, not text")
        meta = pf.metadata
        if meta.num_rows > max_rows:
            raise UploadError(413, f"the file has {meta.num_rows:,} rows; the limit is {max_rows:,}")
        leaves = [j for j in range(meta.num_columns) if meta.schema.column(j).path == column]
        stored = sum(meta.row_group(g).column(j).total_uncompressed_size
                     for g in range(meta.num_row_groups) for j in leaves)
        if stored > MAX_PARQUET_COLUMN_BYTES:
            raise UploadError(413, f"column {column!r} is {stored / 2**20:,.0f} MB uncompressed; the limit is "
                                   f"{MAX_PARQUET_COLUMN_BYTES / 2**20:,.0f} MB")
        file.seek(0)
        pf = pq.ParquetFile(file, read_dictionary=[column])  # distinct strings once, an index per row
        values: list[Any] = []
        chars = 0
        for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=[column]):
            arr = batch.column(0)
            if len(values) + len(arr) > max_rows:  # the footer said otherwise: it lied
                raise UploadError(413, f"the file has more than {max_rows:,} rows; the limit is {max_rows:,}")
            if isinstance(arr, pa.DictionaryArray):
                lengths = pc.take(pc.utf8_length(arr.dictionary), arr.indices)
            elif pa.types.is_null(arr.type):
                lengths = None
            else:
                lengths = pc.utf8_length(arr)
            chars += (pc.sum(lengths).as_py() or 0) if lengths is not None else 0
            if chars > max_chars:  # counted before a single Python string is made
                raise UploadError(413, f"the file holds more than {max_chars:,} characters of text; "
                                       f"the limit is {max_chars:,}")
            values += arr.to_pylist()
    except UploadError:
        raise
    except UnicodeDecodeError:
        raise UploadError(400, f"{filename}: not valid UTF-8") from None
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise UploadError(400, f"{filename}: cannot parse as parquet: {str(exc).splitlines()[0]}") from None
    return values, column


# ---------- the predictions as a CSV file (the web page's "Download CSV") ----------

CSV_COLUMNS = ("text", "label", "score", "p_positive", "unknown_words")


def csv_cell(value: str) -> str:
    """A text cell that no spreadsheet reads as a formula: one starting with =, +, -, @, a tab
    or a carriage return gets a leading single quote, as OWASP advises against CSV injection
    (the project's one rule, fileio.spreadsheet_safe, also used by `predict -o` and errors.csv)."""
    return spreadsheet_safe(value)


def predictions_csv(texts: list[str], predictions: list[dict[str, Any]]) -> bytes:
    """UTF-8 CSV with a BOM (Excel then reads the encoding right), CRLF line ends, every cell
    quoted (no separator inside a text, not even the `;` of a French Excel, splits a cell),
    text cells neutralised by csv_cell."""
    import io

    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for text, p in zip(texts, predictions):
        writer.writerow([csv_cell(text), p["label"], f"{p['score']:.6f}", f"{p['p_positive']:.6f}",
                         csv_cell(" ".join(p["unknown_words"]))])
    return out.getvalue().encode("utf-8")
