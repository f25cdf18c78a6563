"""Readers for the named datasets' files, each in its official format and in the layout of
../shared/data: path in, records out (split train/val/test, label 0/1, a stable id; the caller
stamps `source`). Every reader takes an archive or the folder it extracts to, so a download
and an unpacked copy read the same."""
from __future__ import annotations

import csv
import gzip
import json
import re
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from sentiment_lab.data import imdb
from sentiment_lab.data.records import (MAX_FILE_BYTES, MAX_REVIEW_BYTES, UNLABELED, Record, bounded_lines, json_object, read_file,
                                        shown, too_big)
from sentiment_lab.data.splits import _natural_key
from sentiment_lab.data.tabular import parse_label
from sentiment_lab.exceptions import DataError

csv.field_size_limit(1 << 24)  # Amazon and Yelp reviews run past csv's 128 KiB default field limit
_READ_ERRORS = (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, zlib.error, UnicodeDecodeError,
                csv.Error, json.JSONDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, RecursionError,
                NotImplementedError)  # zipfile: an unsupported compression method


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0].rstrip(":")


def _label(raw: object, where: str, labels: dict[str, int] | None = None) -> int:
    value = labels.get(str(raw).strip()) if labels else parse_label(raw, None)
    if value is None:
        expected = "/".join(labels) if labels else "0/1"
        raise DataError(f"{where}: unknown label {raw!r}; expected {expected}")
    return value


def _text(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise DataError(f"{where}: empty text")
    return raw


def _rating(raw: object, where: str) -> int | None:
    """A star rating: empty is none; anything else must be a finite number."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        return int(float(raw))
    except (TypeError, ValueError, OverflowError):  # "abc", "nan" (ValueError), "inf" (OverflowError)
        raise DataError(f"{where}: rating {raw!r} is not a number") from None


_LONE_CR = re.compile(r"(?<=\r)(?!\n)")


class _Rows:
    """Text lines for csv.reader from a binary stream, each row bounded: iterating yields decoded
    lines (split at \n, \r\n and a lone \r, as a file opened with newline="" is), and fails in one
    line once the row being read passes MAX_REVIEW_BYTES (a quoted field may span many lines);
    call `done()` after each row."""

    def __init__(self, stream: IO[bytes], where: str, limit: int = MAX_REVIEW_BYTES):
        self.stream, self.where, self.limit, self.used, self.row = stream, where, limit, 0, 1

    def done(self) -> None:
        self.used, self.row = 0, self.row + 1

    def __iter__(self) -> Iterator[str]:
        for line in bounded_lines(self.stream, self.where, self.limit):
            self.used += len(line)
            if self.used > self.limit:
                raise too_big(f"{self.where}: row {self.row}", None, self.limit)
            for part in _LONE_CR.split(line.decode("utf-8")):
                if part:
                    yield part


def check_csv_rows(stream: IO[bytes], where: str, limit: int = MAX_REVIEW_BYTES) -> None:
    """Refuse, before pandas reads it whole, a CSV one of whose rows (a quoted field's line breaks
    included) is over `limit` bytes: one streamed pass of the csv module, which reads quotes as
    pandas does (a quote inside an unquoted field is a character, not the start of a quoted one)."""
    rows = _Rows(stream, where, limit)
    for _ in csv.reader(iter(rows)):
        rows.done()


def _guard(path: Path, read: Callable[[], list[Record]], what: str) -> list[Record]:
    """Run a reader; an unreadable file is one line naming it (tarfile and zlib list every cause)."""
    try:
        out = read()
    except DataError:
        raise
    except _READ_ERRORS as exc:
        raise DataError(f"cannot read {what} from {path}: {_first_line(exc)} (corrupted or truncated?)") from None
    if not out:
        raise DataError(f"{path} holds no {what}")
    return out


# --- IMDB -----------------------------------------------------------------------------------

def read_imdb(path: Path) -> list[Record]:
    """The labeled reviews: the official archive, the labeled-only copy, or an aclImdb/ folder."""
    return imdb.read_folder(path) if path.is_dir() else imdb.read_archive(path)


_UNSUP = re.compile(r"(?:^|/)aclImdb/train/unsup/([0-9]{1,9}_[0-9]{1,9})\.txt\Z")


def read_imdb_unsup(path: Path) -> list[Record]:
    """The 50,000 unlabeled reviews: train_unsup.jsonl.gz ({"id", "text"} a line), or
    aclImdb/train/unsup/*.txt in the official archive or an extracted folder."""
    def one(idx: str, text: str) -> Record:
        return Record(text=text, label=UNLABELED, split="unsup", id=f"unsup/{idx}")

    def read() -> list[Record]:
        if path.name.endswith((".jsonl", ".jsonl.gz")):
            opener = gzip.open if path.suffix == ".gz" else open
            out = []
            with opener(path, "rb") as f:
                lines = (line for line in bounded_lines(f, str(path)) if line.strip())
                for n, line in enumerate(lines, start=1):
                    row = json_object(line, f"{path}: line {n}")
                    out.append(one(str(row.get("id", n)), _text(row.get("text"), f"{path}: line {n}")))
            return out
        if path.is_dir():
            root = path if path.name == "aclImdb" else path / "aclImdb"
            return [one(f.stem, read_file(f).decode("utf-8")) for f in (root / "train" / "unsup").glob("*.txt")]
        with imdb.open_archive(path, "r|*") as tar:
            return [one(m.group(1), imdb.read_member(tar, member, f"{path}:{shown(member.name)}").decode("utf-8"))
                    for member in imdb.members(tar) if member.isfile() and (m := _UNSUP.search(member.name))]
    what = "unlabeled IMDB reviews (aclImdb/train/unsup/*.txt or train_unsup.jsonl.gz)"
    return sorted(_guard(path, read, what), key=lambda r: _natural_key(r.id))


# --- tables in the ../shared/data layout ----------------------------------------------------

def _table(path: Path) -> pd.DataFrame:
    try:
        if not path.is_file():
            raise DataError(f"{shown(path)}: not a regular file")
        with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
            check_csv_rows(f, str(path))  # one pass that reads a line at a time, before pandas reads it all
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except _READ_ERRORS as exc:
        raise DataError(f"cannot read {path}: {_first_line(exc)} (corrupted or truncated?)") from None


def _find(folder: Path, stem: str) -> Path | None:
    for name in (f"{stem}.csv.gz", f"{stem}.csv"):
        if (folder / name).is_file():
            return folder / name
    return None


def read_csv_splits(folder: Path, files: dict[str, str], required: Iterable[str] = ("train",)) -> list[Record]:
    """`files` maps a split to a file stem in `folder` ({"val": "dev"} reads dev.csv.gz or dev.csv);
    columns `text,label` (0/1) and optionally `rating` and `idx`."""
    out = []
    for split, stem in files.items():
        path = _find(folder, stem)
        if path is None:
            if split in required:
                raise DataError(f"{folder} has no {stem}.csv.gz (or {stem}.csv)")
            continue
        df = _table(path)
        if not {"text", "label"} <= set(df.columns):
            raise DataError(f"{path}: needs columns text,label; has {', '.join(map(shown, df.columns)) or 'none'}")
        idx = df["idx"] if "idx" in df.columns else range(len(df))
        ratings = df["rating"] if "rating" in df.columns else [None] * len(df)
        for row, (i, text, label, rating) in enumerate(zip(idx, df["text"], df["label"], ratings), start=2):
            where = f"{path}: row {row}"
            out.append(Record(text=_text(text, where), label=_label(label, where), split=split, id=f"{split}/{i}",
                              rating=_rating(rating, where)))
    return out


def csv_splits_reader(files: dict[str, str], required: Iterable[str] = ("train",)) -> Callable[[Path], list[Record]]:
    def read(path: Path) -> list[Record]:
        return read_csv_splits(path, files, tuple(required))
    return read


# --- SST-2 ----------------------------------------------------------------------------------

_GLUE = {"train": "train", "dev": "val", "test": "test"}


def _glue_rows(stream: IO[bytes], split: str, where: str) -> list[Record]:
    """A GLUE SST-2 TSV: `sentence<TAB>label` (train, dev); test has `index<TAB>sentence` and
    no labels (GLUE withholds them), so it yields nothing. Rows read one at a time, bounded."""
    rows = _Rows(stream, where)
    reader = csv.DictReader(iter(rows), delimiter="\t", quoting=csv.QUOTE_NONE)
    columns = reader.fieldnames or []
    if "label" not in columns:
        return []
    if "sentence" not in columns:
        raise DataError(f"{where}: no column sentence; columns are {', '.join(map(shown, columns))}")
    out = []
    for n, row in enumerate(reader, start=2):
        rows.done()
        out.append(Record(text=_text(row["sentence"], f"{where}: row {n}"),
                          label=_label(row["label"], f"{where}: row {n}"), split=split, id=f"{split}/{n - 2}"))
    return out


def _glue_file(path: Path, split: str) -> list[Record]:
    with open(path, "rb") as f:
        return _glue_rows(f, split, shown(path))


def read_sst2(path: Path) -> list[Record]:
    """GLUE's SST-2.zip (SST-2/{train,dev,test}.tsv), its extracted SST-2/ folder, or a folder of
    {train,dev,test}.csv.gz with `text,label` (the ../shared/data/sst2 layout, test labelled).
    dev becomes `val`. Text as distributed (PTB tokens): the registry's normalize step detokenizes."""
    if path.is_dir():
        if _find(path, "train"):
            return read_csv_splits(path, {"train": "train", "val": "dev", "test": "test"})
        for inner in (path / "SST-2.zip", path / "SST-2"):
            if inner.exists():
                return read_sst2(inner)
        if (path / "train.tsv").is_file():
            return _guard(path, lambda: [r for stem, split in _GLUE.items() if (path / f"{stem}.tsv").is_file()
                                         for r in _glue_file(path / f"{stem}.tsv", split)], "SST-2 sentences")
        raise DataError(f"{path} holds neither train.csv.gz nor SST-2.zip nor SST-2/train.tsv")

    def read() -> list[Record]:
        out = []
        with zipfile.ZipFile(path) as zf:
            names = {Path(n).stem: n for n in zf.namelist() if n.endswith(".tsv")}
            for stem, split in _GLUE.items():
                if stem in names:
                    with zf.open(names[stem]) as f:  # streamed: a member's size is not checked, its rows are
                        out += _glue_rows(f, split, f"{path}:{shown(names[stem])}")
        return out
    return _guard(path, read, "SST-2 sentences (SST-2/train.tsv)")


# --- Multi-Domain Sentiment (Blitzer et al. 2007) -------------------------------------------

BLITZER_SEED = 2007  # the fixed draw of 20% test reviews per domain and label from the official archive
_BLITZER_DOMAINS = {"books": "books", "dvd": "dvd", "electronics": "electronics", "kitchen_&_housewares": "kitchen"}
_BLITZER_FILE = re.compile(r"(?:^|/)sorted_data_acl/([^/]+)/(positive|negative)\.review\Z")
_REVIEW = re.compile(r"<review>(.*?)</review>", re.S)
_FIELD = re.compile(r"<(unique_id|rating|title|review_text)>\s*(.*?)\s*</\1>", re.S)


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # the 2007 files mix encodings; latin-1 reads any byte


def _blitzer_reviews(raw: bytes, domain: str, label: int, where: str) -> Iterator[Record]:
    for block in _REVIEW.findall(_decode(raw)):
        fields: dict[str, str] = {}
        for key, value in _FIELD.findall(block):
            fields.setdefault(key, value)  # some reviews carry a second, numeric unique_id
        text = _text(fields.get("review_text"), f"{where}: review {fields.get('unique_id')!r}")
        rating = fields.get("rating")
        yield Record(text=text, label=label, split="train", id=f"{domain}/{fields.get('unique_id', '')}",
                     rating=_rating(rating, f"{where}: review {fields.get('unique_id')!r}"))


def _blitzer_split(records: list[Record], test_share: float = 0.2) -> list[Record]:
    """The archive has no split: per domain and label, a fixed seeded 20% goes to test."""
    rng = np.random.default_rng(BLITZER_SEED)
    out = []
    groups: dict[tuple[str, int], list[Record]] = {}
    for r in sorted(records, key=lambda r: (r.id, r.label)):
        groups.setdefault((r.id.split("/", 1)[0], r.label), []).append(r)
    for key in sorted(groups):
        group = groups[key]
        test = set(rng.permutation(len(group))[:round(len(group) * test_share)].tolist())
        out += [Record(r.text, r.label, "test" if i in test else "train", r.id, r.rating) for i, r in enumerate(group)]
    return out


def read_blitzer(path: Path) -> list[Record]:
    """reviews.csv.gz (the ../shared/data layout: text,label,domain,split,rating,title,unique_id,asin)
    or the official domain_sentiment_data.tar.gz / its extracted sorted_data_acl/ folder (pseudo-XML
    positive.review and negative.review per domain). Ids are `domain/unique_id`."""
    if path.name.endswith((".csv", ".csv.gz")):
        df = _table(path)
        missing = {"text", "label", "domain", "split", "unique_id"} - set(df.columns)
        if missing:
            raise DataError(f"{path}: missing columns {', '.join(sorted(missing))}")
        return [Record(text=_text(t, f"{path}: row {n}"), label=_label(lab, f"{path}: row {n}"), split=s,
                       id=f"{d}/{u}", rating=_rating(rt, f"{path}: row {n}"))
                for n, (t, lab, d, s, u, rt) in enumerate(zip(df["text"], df["label"], df["domain"], df["split"],
                                                               df["unique_id"], df.get("rating", [""] * len(df))),
                                                           start=2)]

    def wanted(name: str) -> re.Match | None:
        m = _BLITZER_FILE.search(name)
        return m if m and m.group(1) in _BLITZER_DOMAINS else None

    def files() -> Iterator[tuple[re.Match, str, bytes]]:
        # a domain's file of 1,000 reviews is decoded whole (its encoding is the file's): read up to MAX_FILE_BYTES
        if path.is_dir():
            for f in sorted(path.rglob("*.review")):
                if m := wanted(f.as_posix()):
                    yield m, shown(f), read_file(f, MAX_FILE_BYTES, "review file")
            return
        with imdb.open_archive(path, "r|*") as tar:
            for member in imdb.members(tar):
                if member.isfile() and (m := wanted(member.name)):
                    where = f"{path}:{shown(member.name)}"
                    yield m, where, imdb.read_member(tar, member, where, MAX_FILE_BYTES, "review file")

    def read() -> list[Record]:
        out = []
        for m, where, raw in files():
            out += _blitzer_reviews(raw, _BLITZER_DOMAINS[m.group(1)], int(m.group(2) == "positive"), where)
        return out
    return _blitzer_split(_guard(path, read, "sorted_data_acl/<domain>/{positive,negative}.review reviews"))


# --- Zhang et al. 2015 CSV archives (fast.ai mirror) ----------------------------------------

def _zhang_rows(stream: IO[bytes], split: str, where: str, titled: bool) -> Iterator[Record]:
    """`"label","text"` or `"label","title","text"`, label 1 = negative, 2 = positive; line
    breaks inside a review are written as a backslash and an n. Rows read one at a time, bounded."""
    rows = _Rows(stream, where)
    for n, row in enumerate(csv.reader(iter(rows)), start=1):
        rows.done()
        if len(row) != (3 if titled else 2):
            raise DataError(f"{where}: row {n}: {len(row)} columns, expected {3 if titled else 2}")
        body = row[-1].replace("\\n", "\n").strip()
        title = row[1].strip() if titled else ""
        text = f"{title}\n{body}" if title and body else title or body
        yield Record(text=_text(text, f"{where}: row {n}"), label=_label(row[0], f"{where}: row {n}", {"1": 0, "2": 1}),
                     split=split, id=f"{split}/{n - 1}")


def zhang_reader(titled: bool) -> Callable[[Path], list[Record]]:
    """A reader for one of Zhang's *_csv.tgz archives (train.csv, test.csv) or its extracted folder.
    `titled`: rows carry a title before the text (amazon), joined to it with a line break."""
    def read(path: Path) -> list[Record]:
        def run() -> list[Record]:
            out = []
            if path.is_dir():
                for split in ("train", "test"):
                    found = sorted(path.rglob(f"{split}.csv"))
                    if found:
                        with open(found[0], "rb") as f:
                            out += _zhang_rows(f, split, shown(found[0]), titled)
                return out
            with imdb.open_archive(path, "r|*") as tar:  # one streamed pass over a large .tgz
                for member in imdb.members(tar):
                    split = Path(member.name).stem
                    if member.isfile() and member.name.endswith(".csv") and split in ("train", "test"):
                        out += _zhang_rows(tar.extractfile(member), split, f"{path}:{shown(member.name)}",
                                           titled)  # a streamed member cannot seek
            return out
        return _guard(path, run, "train.csv/test.csv rows")
    return read


# --- Allociné (Blard 2020) ------------------------------------------------------------------

_ALLOCINE = {"train": "train", "val": "val", "test": "test"}


def _allocine_rows(stream: IO[bytes], split: str, where: str) -> Iterator[Record]:
    """JSON lines `{"film-url": ..., "review": ..., "polarity": 0|1}`, each bounded."""
    for n, line in enumerate(bounded_lines(stream, where), start=1):
        if not line.strip():
            continue
        row = json_object(line, f"{where}: line {n}")
        yield Record(text=_text(row.get("review"), f"{where}: line {n}"),
                     label=_label(row.get("polarity"), f"{where}: line {n}"), split=split, id=f"{split}/{n - 1}")


def read_allocine(path: Path) -> list[Record]:
    """The official data.tar.bz2 (data/{train,val,test}.jsonl) or a folder holding those files
    (directly or under data/)."""
    def run() -> list[Record]:
        out = []
        if path.is_dir():
            root = path / "data" if (path / "data" / "train.jsonl").is_file() else path
            for stem, split in _ALLOCINE.items():
                if (root / f"{stem}.jsonl").is_file():
                    with open(root / f"{stem}.jsonl", "rb") as f:
                        out += _allocine_rows(f, split, shown(root / f"{stem}.jsonl"))
            return out
        with imdb.open_archive(path, "r|*") as tar:
            for member in imdb.members(tar):
                stem = Path(member.name).name.removesuffix(".jsonl")
                if member.isfile() and member.name.endswith(".jsonl") and stem in _ALLOCINE:
                    out += _allocine_rows(tar.extractfile(member), _ALLOCINE[stem], f"{path}:{shown(member.name)}")
        return out
    return _guard(path, run, "Allociné reviews (data/{train,val,test}.jsonl)")
