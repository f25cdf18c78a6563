"""Named datasets: a name resolves to files, and the files to records.

Resolution, in order:
1. `path`, when the caller gives one (an archive or a folder in the dataset's format);
2. a local copy under `$SENTIMENT_LAB_DATA`, a folder laid out like ../shared/data
   (imdb/aclImdb_v1_labeled.tar.gz, imdb/train_unsup.jsonl.gz, sst2/{train,dev,test}.csv.gz,
   amazon_blitzer/reviews.csv.gz, french/..., and the other names in each entry's `local`);
3. the cache, `$SENTIMENT_LAB_HOME` (default ~/.cache/sentiment-lab): the official archive,
   downloaded once with a progress bar, checked against its sha256 and moved into place only
   then (data/imdb.py's download), so an interrupted or corrupted download leaves nothing.

Every record carries `source` = the dataset's name, `split` train/val/test (unsup for
imdb-unsup) and `label` 0/1. The row counts of the full dataset are checked on every load.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from sentiment_lab.data.imdb import download, home, sha256_file
from sentiment_lab.data.records import Record
from sentiment_lab.data.registry import DATASETS, Dataset, get_dataset
from sentiment_lab.exceptions import DataError

DATA_ENV = "SENTIMENT_LAB_DATA"


def data_root() -> Path | None:
    """The folder `$SENTIMENT_LAB_DATA` names, or None when it is unset or empty."""
    value = os.environ.get(DATA_ENV, "").strip()
    if not value:
        return None
    root = Path(value).expanduser()
    if not root.is_dir():
        raise DataError(f"{DATA_ENV}={value} is not a folder; point it at a folder laid out like ../shared/data")
    return root


def local_copy(ds: Dataset | str) -> Path | None:
    """The first of the entry's `local` paths that exists under $SENTIMENT_LAB_DATA."""
    ds = get_dataset(ds) if isinstance(ds, str) else ds
    root = data_root()
    return next((root / rel for rel in ds.local if root is not None and (root / rel).exists()), None)


def cached_copy(ds: Dataset | str) -> Path | None:
    """Where the official download lives in the cache (None for a dataset with no download)."""
    ds = get_dataset(ds) if isinstance(ds, str) else ds
    return home() / ds.cache_name if ds.url and ds.cache_name else None


def _where_to_put(ds: Dataset) -> str:
    root = os.environ.get(DATA_ENV) or "unset"
    return f"set {DATA_ENV} to a folder holding {ds.local[0]} (now {root}), or pass a path"


def resolve_dataset(name: Dataset | str, path: str | Path | None = None, progress: bool = True) -> Path:
    """The archive or folder to read for a dataset: `path`, else the local copy, else the cache
    (downloading the official archive once)."""
    ds = get_dataset(name) if isinstance(name, str) else name
    if path is not None:
        p = Path(path).expanduser()
        if not p.exists():
            raise DataError(f"{ds.name} data not found at {p}")
        return p
    local = local_copy(ds)
    if local is not None:
        return local
    cached = cached_copy(ds)
    if cached is None:
        raise DataError(f"{ds.name} has no download ({ds.sha256_source}); {_where_to_put(ds)}")
    if not cached.exists():
        try:
            download(cached, url=ds.url, sha256=ds.sha256, progress=progress)
        except DataError as exc:
            raise DataError(f"{exc} (offline? {_where_to_put(ds)})") from None
    return cached


def verify_counts(ds: Dataset, records: list[Record], where: Path) -> None:
    """A copy with other row counts is not the dataset the registry describes (a truncated
    file, a sample, another version): say so instead of training on it quietly."""
    found = {s: sum(r.split == s for r in records) for s in {r.split for r in records}}
    for split, n in sorted(found.items()):
        want = ds.counts.get(split)
        if want is not None and n != want:
            raise DataError(f"{ds.name}: {where} has {n:,} {split} rows, the dataset has {want:,}; not a complete copy "
                            f"(pass check_counts=False to load it anyway)")


def load_dataset(name: str, path: str | Path | None = None, splits: Sequence[str] | None = None,
                 progress: bool = True, raw: bool = False, check_counts: bool = True) -> list[Record]:
    """A named dataset as records (`source` = its name), resolved as the module says.

    splits: the splits to return (None: every split the copy holds); asking for one it lacks
    (sst2's test from GLUE's zip, imdb's val) is an error. raw: keep the text as distributed
    (SST-2's PTB tokens) instead of the entry's normalisation. check_counts: refuse a copy whose
    row counts differ from the full dataset's."""
    ds = get_dataset(name)
    p = resolve_dataset(ds, path, progress=progress)
    try:
        records = ds.reader(p)
    except DataError as exc:
        if p == cached_copy(ds):
            raise DataError(f"{exc} (delete {p} to download it again)") from None
        raise
    if check_counts:
        verify_counts(ds, records, p)
    if splits is not None:
        missing = [s for s in splits if not any(r.split == s for r in records)]
        if missing:
            raise DataError(f"{ds.name} from {p} has no {'/'.join(missing)} split (it holds "
                            f"{', '.join(sorted({r.split for r in records}))}){why_missing(ds, missing)}")
        records = [r for r in records if r.split in splits]
    fix = None if raw else ds.normalize
    return [replace(r, text=fix(r.text) if fix else r.text, source=ds.name) for r in records]


def why_missing(ds: Dataset, missing: Sequence[str]) -> str:
    """Why a copy lacks a split, and what to do: the end of an error line."""
    if "test" in missing and ds.name == "sst2":
        return (f": GLUE withholds SST-2's test labels; use the labelled copy (sst2/test.csv.gz under ${DATA_ENV}) "
                f"or leave it out")
    if "val" in missing:
        return ": carve validation out of train (split_train_val)"
    return f"; the dataset has {', '.join(ds.splits)}"


def list_datasets(verify: bool = False) -> list[dict]:
    """One row per dataset for `sentiment-lab datasets`: name, title, language, domain, size,
    terms, research_only, citation, where it would load from (`available`: local | cached |
    download | missing), the path or URL it would load from, and the official URL.
    verify=True also hashes a local copy's files against the ../shared/data checksums
    (`local_ok`: True, False, or None where no checksum is known)."""
    rows = []
    for ds in sorted(DATASETS.values(), key=lambda d: d.name):
        local, cached = local_copy(ds), cached_copy(ds)
        if local is not None:
            where, path = "local", local
        elif cached is not None and cached.exists():
            where, path = "cached", cached
        else:
            where, path = ("download" if ds.url else "missing"), (ds.url or None)
        row = {"name": ds.name, "title": ds.title, "language": ds.language, "domain": ds.domain, "size": ds.size,
               "terms": ds.terms, "research_only": ds.research_only, "available": where,
               "path": str(path) if path else None, "local": local is not None, "url": ds.url,
               "download_bytes": ds.download_bytes, "sha256_known": ds.sha256 is not None, "citation": ds.citation}
        if verify:
            row["local_ok"] = verify_local(ds) if local is not None else None
        rows.append(row)
    return rows


def verify_local(ds: Dataset | str) -> bool | None:
    """Whether the local copy's files match the checksums recorded for ../shared/data's copy
    (None when none of them is present under $SENTIMENT_LAB_DATA)."""
    ds = get_dataset(ds) if isinstance(ds, str) else ds
    root = data_root()
    present = {rel: sha for rel, sha in ds.local_sha256.items() if root is not None and (root / rel).is_file()}
    if not present:
        return None
    return all(sha256_file(root / rel) == sha for rel, sha in present.items())

