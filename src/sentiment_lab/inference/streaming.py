"""Batch prediction over files of any size, in constant memory, resumable.

    predict_stream(clf, "big.parquet", "scored.parquet", text_column="review")

The input is read in chunks of `chunk_rows` rows (CSV/TSV: pandas `read_csv(chunksize=)`;
JSONL and TXT: line by line; Parquet: `ParquetFile.iter_batches`), each chunk is scored and
written as one *part* file in a hidden directory beside the output (`.NAME.parts/`), and
only when the input is exhausted are the parts joined into the output, which then appears
at once (os.replace). A part is written to a temp name and renamed, then recorded in the
directory's state.json: after a crash or Ctrl-C, `resume=True` skips the chunks already
recorded (the state also records the input's size and mtime, the text column, the chunk
size and the model's checksum, and refuses to resume if any changed). Memory stays that of
one chunk whatever the file size (benchmarks/results/stream_cpu.json).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd

from sentiment_lab.fileio import check_target, replacing, spreadsheet_safe_frame, write_json
from sentiment_lab.inference.postprocess import postprocess_columns
from sentiment_lab.data.tabular import file_format, is_missing
from sentiment_lab.exceptions import DataError, InputError, SentimentLabError, require_file
from sentiment_lab.text.tokenizer import check_text

CHUNK_ROWS = 10_000
OUTPUT_FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".parquet": "parquet"}


@dataclass
class Chunk:
    frame: pd.DataFrame
    first_row: int  # 1-based row number of the chunk's first row in the input
    done: float  # progress after this chunk, in the reader's units (bytes or rows)


def _text_chunks(path: Path, fmt: str, chunk_rows: int) -> Iterator[tuple[pd.DataFrame, int]]:
    """(frame, bytes read so far) per chunk of a CSV, TSV, JSONL or TXT file."""
    with open(path, "rb") as fh:
        if fmt in ("csv", "tsv"):
            extra = {"sep": "\t", "quoting": 3} if fmt == "tsv" else {}
            for frame in pd.read_csv(fh, dtype=str, keep_default_na=False, encoding="utf-8",
                                     chunksize=chunk_rows, **extra):
                yield frame, fh.tell()
            return
        rows: list[Any] = []
        for number, raw in enumerate(fh, start=1):
            line = raw.decode("utf-8")
            if not line.strip():
                continue
            if fmt == "txt":
                rows.append(line.rstrip("\r\n"))
            else:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}: line {number}: not JSON: {exc.msg}") from None
            if len(rows) == chunk_rows:
                yield _frame(rows, fmt), fh.tell()
                rows = []
        if rows:
            yield _frame(rows, fmt), fh.tell()


def _frame(rows: list[Any], fmt: str) -> pd.DataFrame:
    if fmt == "txt":
        return pd.DataFrame({"text": rows})
    if not all(isinstance(r, dict) for r in rows):
        raise DataError("JSONL rows must be objects ({\"text\": ...})")
    return pd.DataFrame.from_records(rows)


def read_chunks(path: str | Path, chunk_rows: int = CHUNK_ROWS) -> tuple[Iterator[Chunk], float]:
    """Chunks of any supported table, and the total for progress (bytes, or rows for Parquet)."""
    path = require_file(path)
    fmt = file_format(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
            raise DataError(f"{path}: cannot read as parquet: {str(exc).splitlines()[0]}") from None
        batches = ((b.to_pandas(), None) for b in pf.iter_batches(batch_size=chunk_rows))
        total = float(pf.metadata.num_rows)
    else:
        batches = _text_chunks(path, fmt, chunk_rows)
        total = float(path.stat().st_size)
    return _numbered(path, fmt, batches), total


def _numbered(path: Path, fmt: str, batches: Iterator[tuple[pd.DataFrame, int | None]]) -> Iterator[Chunk]:
    row = 1
    try:
        for frame, pos in batches:
            yield Chunk(frame, row, float(pos if pos is not None else row - 1 + len(frame)))
            row += len(frame)
    except UnicodeDecodeError:
        raise DataError(f"{path}: not valid UTF-8") from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: cannot parse as {fmt}: {str(exc).splitlines()[0]}") from None


def score_frame(clf: Any, frame: pd.DataFrame, text_column: str, first_row: int, source: Path) -> pd.DataFrame:
    """The chunk with label, score (probability of that label) and p_positive added."""
    texts = frame[text_column].tolist()
    for i, t in enumerate(texts):
        try:
            check_text("" if is_missing(t) else t)  # None / NaN count as empty
        except InputError as exc:
            raise InputError(f"{source}: row {first_row + i}: {exc}") from None
    out = frame.copy()
    for name, column in postprocess_columns(clf.predict_proba(texts)[:, 1]).items():
        out[name] = column
    return out


class Parts:
    """Finished chunks of one output, on disk: `.NAME.parts/part-000000.EXT` + state.json."""

    def __init__(self, output: Path, fingerprint: dict[str, Any]) -> None:
        self.output = output
        self.fmt = OUTPUT_FORMATS[output.suffix.lower()]
        self.dir = output.with_name(f".{output.name}.parts")
        self.fingerprint = fingerprint
        self.rows: list[int] = []  # rows in each recorded part
        self.columns: list[str] | None = None

    def open(self, resume: bool) -> int:
        """Start (or continue, if `resume` and a matching state exists); chunks already done."""
        state_path = self.dir / "state.json"
        if resume and state_path.is_file():
            state = json.loads(state_path.read_text(encoding="utf-8"))
            changed = [k for k, v in self.fingerprint.items() if state["fingerprint"].get(k) != v]
            if changed:
                raise InputError(f"cannot resume {self.output}: {', '.join(changed)} changed since the first run; "
                                 "rerun without --resume")
            self.rows, self.columns = state["rows"], state["columns"]
            return len(self.rows)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        return 0

    def part(self, i: int) -> Path:
        return self.dir / f"part-{i:06d}.{self.fmt}"

    def add(self, frame: pd.DataFrame) -> None:
        """Write the next part (temp name, then rename), then record it in state.json."""
        if self.columns is None:
            self.columns = [str(c) for c in frame.columns]
        elif set(map(str, frame.columns)) == set(self.columns):  # JSONL keys may come in any order
            frame = frame[self.columns]
        else:
            raise DataError(f"rows {sum(self.rows) + 1}..: columns {list(map(str, frame.columns))} differ from the "
                            f"first rows' {self.columns}")
        path = self.part(len(self.rows))
        tmp = path.with_name(path.name + ".tmp")
        if self.fmt == "parquet":
            frame.to_parquet(tmp, index=False)
        elif self.fmt == "jsonl":
            frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
        elif self.fmt == "tsv":
            safe = spreadsheet_safe_frame(frame)  # a text starting with = + - @ would run as a formula
            tmp.write_text("".join(_tsv_line(row) for row in safe.itertuples(index=False)), encoding="utf-8")
        else:
            spreadsheet_safe_frame(frame).to_csv(tmp, index=False, header=False)
        os.replace(tmp, path)
        self.rows.append(len(frame))
        write_json(self.dir / "state.json", {"fingerprint": self.fingerprint, "rows": self.rows,
                                             "columns": self.columns})

    def finalize(self) -> int:
        """Join the parts into the output (a temp file renamed into place); rows written."""
        with replacing(self.output) as tmp:
            if self.fmt == "parquet":
                self._join_parquet(tmp)
            else:
                self._join_text(tmp)
        shutil.rmtree(self.dir, ignore_errors=True)
        return sum(self.rows)

    def _join_text(self, tmp: Path) -> None:
        with open(tmp, "wb") as out:
            if self.fmt != "jsonl":
                columns = self.columns or ["text", "label", "score", "p_positive"]
                header = _tsv_line(columns) if self.fmt == "tsv" else pd.DataFrame(columns=columns).to_csv(index=False)
                out.write(header.encode("utf-8"))
            for i in range(len(self.rows)):
                with open(self.part(i), "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)

    def _join_parquet(self, tmp: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self.rows:  # an input with no rows: an empty table with the output columns
            pd.DataFrame(columns=self.columns or ["text", "label", "score", "p_positive"]).to_parquet(tmp)
            return
        schema = pq.read_schema(self.part(0))
        with pq.ParquetWriter(tmp, schema) as writer:
            for i in range(len(self.rows)):
                table = pq.read_table(self.part(i))
                try:
                    writer.write_table(table.cast(schema))
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
                    first = sum(self.rows[:i]) + 1
                    raise DataError(f"rows {first}..: column types differ from the first rows' ({exc})") from None


def fingerprint(clf: Any, input: Path, text_column: str, chunk_rows: int) -> dict[str, Any]:
    """What must not change between a run and its resumption."""
    st = input.stat()
    return {"input": str(input.resolve()), "input_size": st.st_size, "input_mtime_ns": st.st_mtime_ns,
            "text_column": text_column, "chunk_rows": chunk_rows,
            "model_sha256": clf.meta.get("sha256", {}).get("model.safetensors")}


def _text_column(frame: pd.DataFrame, text_column: str, input: Path) -> str:
    if text_column in frame.columns:
        return text_column
    if file_format(input) == "txt":
        return "text"
    raise InputError(f"{input}: no column {text_column!r}; columns are {', '.join(map(str, frame.columns))} "
                     "(choose one with --text-column)")


def predict_stream(clf: Any, input: str | Path, output: str | Path | None = None, text_column: str = "text",
                   chunk_rows: int = CHUNK_ROWS, resume: bool = False,
                   on_progress: Callable[[float, float, int], None] | None = None) -> int:
    """Score every row of `input` chunk by chunk; returns the number of rows scored.

    output None: CSV (text, label, score) on stdout, as it goes. Otherwise the input's
    columns plus label, score and p_positive in .csv/.tsv/.jsonl/.parquet, written through
    resumable parts (see the module docstring). on_progress(done, total, rows) is called
    after each chunk. A data error removes the parts (a rerun would meet it again); an
    interruption keeps them for `resume=True`."""
    input = Path(input)
    if chunk_rows < 1:
        raise InputError(f"--chunk-size must be at least 1, got {chunk_rows}")
    out = Path(output) if output is not None else None
    if out is not None and out.suffix.lower() not in OUTPUT_FORMATS:
        raise InputError(f"--output must end in {', '.join(OUTPUT_FORMATS)}, got {out.name!r}")
    if resume and out is None:
        raise InputError("--resume needs --output: predictions on stdout cannot be resumed")
    chunks, total = read_chunks(input, chunk_rows)
    if out is None:
        return _to_stdout(clf, chunks, total, input, text_column, on_progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    check_target(out)  # a folder named like the output fails now, not after every chunk is scored
    parts = Parts(out, fingerprint(clf, input, text_column, chunk_rows))
    skip = parts.open(resume)
    try:
        for i, chunk in enumerate(chunks):
            if i >= skip:
                col = _text_column(chunk.frame, text_column, input)
                parts.add(score_frame(clf, chunk.frame, col, chunk.first_row, input))
            if on_progress:
                on_progress(chunk.done, total, sum(parts.rows))
        return parts.finalize()
    except SentimentLabError:
        shutil.rmtree(parts.dir, ignore_errors=True)
        raise


def _to_stdout(clf: Any, chunks: Iterator[Chunk], total: float, input: Path, text_column: str,
               on_progress: Callable[[float, float, int], None] | None) -> int:
    rows = 0
    for chunk in chunks:
        col = _text_column(chunk.frame, text_column, input)
        scored = score_frame(clf, chunk.frame, col, chunk.first_row, input)
        sys.stdout.write(spreadsheet_safe_frame(scored[[col, "label", "score"]]).to_csv(index=False, header=rows == 0))
        rows += len(scored)
        if on_progress:
            on_progress(chunk.done, total, rows)
    return rows


def _tsv_line(values: Any) -> str:
    """One TSV row as this package reads TSV (no quoting, like Kaggle's IMDB files): a tab or
    line break inside a value becomes a space, quotes stay as they are, so the output reads back."""
    return "\t".join(_TSV_BREAKS.sub(" ", "" if v is None else str(v)) for v in values) + "\n"


_TSV_BREAKS = re.compile(r"[\t\r\n]+")
