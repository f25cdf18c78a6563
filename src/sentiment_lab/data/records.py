"""One review, the unit every loader produces and every later stage consumes; the
train/validation/test splits a run works on; and the bounds every loader keeps while reading
one review (the helpers below read an archive member, a file or a line only up to them)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

from sentiment_lab.exceptions import DataError

UNLABELED = -1  # the label of a review that has none (imdb-unsup: for pretraining, never for a classifier)

# The most one review may hold (an archive member, a file of an aclImdb/ folder, a JSONL line, a
# CSV/TSV row), checked before it is read, from a tar header's size where there is one: a 300 KB
# .tar.gz can hold a 300 MB member of zeros, which used to be read whole (789 MB peak RSS).
# IMDB's longest review is 13,704 bytes, Blitzer's 21,217, IMDB's unlabeled ones 14,346 as a JSON
# line: a review near 1 MiB is a corrupted or hostile file, not a review.
MAX_REVIEW_BYTES = 1 << 20
# The most a file that a reader needs whole may hold (Blitzer's positive.review / negative.review:
# 1,000 reviews of one domain, a few MB, decoded as one text).
MAX_FILE_BYTES = 1 << 26


def shown(name: object) -> str:
    """A name (a file, an archive member, a column) as a one-line message shows it: as it is
    when printable, else quoted with its escapes (a name may hold a line break)."""
    text = str(name)
    return text if text.isprintable() else repr(text)


def too_big(where: str, size: int | None, limit: int = MAX_REVIEW_BYTES, what: str = "review") -> DataError:
    amount = f"{size:,} bytes" if size is not None else f"over {limit:,} bytes"
    name = "MAX_REVIEW_BYTES" if limit == MAX_REVIEW_BYTES else "MAX_FILE_BYTES"
    return DataError(f"{where}: {amount}, more than one {what} may hold ({limit:,}, {name}); a corrupted "
                     f"or hostile file?")


def read_bounded(stream: IO[bytes], where: str, limit: int = MAX_REVIEW_BYTES, what: str = "review") -> bytes:
    """All of `stream`, or a one-line DataError once it holds more than `limit` bytes (never
    more than limit + 1 bytes read)."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise too_big(where, None, limit, what)
    return data


def read_file(path: Path, limit: int = MAX_REVIEW_BYTES, what: str = "review") -> bytes:
    """A regular file's bytes, up to `limit`: a folder, a device, a pipe or a broken link named
    like a review is a one-line DataError, not a read that never ends (/dev/zero) or blocks."""
    where = shown(path)
    try:
        if not path.is_file():
            raise DataError(f"{where}: not a regular file")
        if path.stat().st_size > limit:
            raise too_big(where, path.stat().st_size, limit, what)
        with open(path, "rb") as f:
            return read_bounded(f, where, limit, what)
    except OSError as exc:
        raise DataError(f"cannot read {where}: {exc.strerror or exc}") from None


def bounded_lines(stream: IO[bytes], where: str, limit: int = MAX_REVIEW_BYTES) -> Iterator[bytes]:
    """The lines of a binary stream, line endings kept, each read up to `limit` bytes: a longer
    one is a one-line DataError naming it (a gzip of one 300 MB line used to be read whole)."""
    number = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit:
            raise too_big(f"{where}: line {number}", None, limit, "review")
        yield line


@dataclass(frozen=True, slots=True)
class Record:
    text: str
    label: int  # 1 = positive, 0 = negative (UNLABELED for unlabeled text)
    split: str = "train"  # train | val | test (IMDB has no val: it is carved out of train later)
    id: str = ""
    rating: int | None = None  # stars when known (IMDB 1-4 negative, 7-10 positive; Amazon 1-5)
    source: str | None = None  # the named dataset it came from ("imdb", "sst2", ...); None for the user's files


@dataclass
class Splits:
    train: list[Record]
    val: list[Record]
    test: list[Record]


def json_object(line: bytes | str, where: str, shape: str = "") -> dict:
    """One JSON line that must hold an object, else a one-line DataError starting with `where`
    (`shape` shows what is expected, e.g. '{"text": ..., "label": ...}')."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: not JSON: {exc.msg}") from None
    except ValueError as exc:  # a number of over 4,300 digits (int()'s limit)
        raise DataError(f"{where}: not JSON: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise DataError(f"{where}: JSON nested too deeply") from None
    if not isinstance(row, dict):
        raise DataError(f"{where}: not a JSON object{f' ({shape})' if shape else ''}, got {type(row).__name__}")
    return row

