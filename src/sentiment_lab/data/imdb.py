"""The Large Movie Review Dataset (Maas et al., ACL 2011): archive, folder or download.

Reads the official `aclImdb_v1.tar.gz`, the labeled-only copy in ../shared, or an
extracted `aclImdb/` folder, straight from the files (no extraction step). With no path,
uses `$SENTIMENT_LAB_HOME` (default ~/.cache/sentiment-lab) and downloads the official
archive once: streamed, sha256-verified, written atomically.
"""
from __future__ import annotations

import hashlib
import os
import re
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path
from typing import Iterator

from sentiment_lab.fileio import replacing
from sentiment_lab.data.records import MAX_REVIEW_BYTES, Record, read_file, shown, too_big
from sentiment_lab.exceptions import DataError

URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
ARCHIVE_NAME = "aclImdb_v1.tar.gz"
# ids and ratings of at most 9 ASCII digits (IMDB's run to 12,499 and 10): int() refuses a name of
# 5,000 digits with a ValueError. \Z, not $: `$` also matches before a final line break.
_NAME = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg)/([0-9]{1,9})_([0-9]{1,9})\.txt\Z")


def home() -> Path:
    return Path(os.environ.get("SENTIMENT_LAB_HOME", Path.home() / ".cache" / "sentiment-lab"))


def _record(match: re.Match, raw: bytes, where: str) -> Record:
    split, pol, idx, rating = match.groups()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{where}: not valid UTF-8") from None
    return Record(text=text, label=int(pol == "pos"), split=split, id=f"{split}/{pol}/{idx}", rating=int(rating))


def _sorted(records: list[Record]) -> list[Record]:
    # A fixed order (label, then numeric id) makes every seeded split reproducible,
    # whatever order the archive or the file system lists the files in.
    return sorted(records, key=lambda r: (r.split, r.label, int(r.id.rsplit("/", 1)[1])))


MAX_TAR_HEADER_BYTES = 1 << 20  # a pax header or GNU long name; real ones hold a path and a few numbers
_EXTENDED = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.GNUTYPE_LONGNAME,
             tarfile.GNUTYPE_LONGLINK)


class _BoundedTarInfo(tarfile.TarInfo):
    """A tar header whose extended part (a pax header, a GNU long name or link name) is refused
    over MAX_TAR_HEADER_BYTES before tarfile reads it whole into memory: a 292 KB .tar.gz holding
    one 300 MB pax header peaked at 1 GB RSS inside tarfile, before any member was seen. A malformed
    pax number is a ReadError (a corrupted archive), not tarfile's bare ValueError.
    (_proc_member is tarfile's hook for each header, the same from 3.8 to 3.13;
    tests/fuzz_corpus/imdb_archive_pax_header_over_limit.json fails if it stops being called.)"""

    def _proc_member(self, tar: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _EXTENDED and self.size > MAX_TAR_HEADER_BYTES:
            raise DataError(f"cannot read archive {shown(tar.name)}: a tar header of {self.size:,} bytes, more than "
                            f"{MAX_TAR_HEADER_BYTES:,} (a corrupted or hostile archive?)")
        try:
            return super()._proc_member(tar)
        except ValueError as exc:  # tarfile's int() of a malformed pax field (GNU.sparse.size = "abc")
            raise tarfile.ReadError(f"invalid pax header: {exc}") from None


def open_archive(path: Path, mode: str = "r:*") -> tarfile.TarFile:
    """A tar archive (any compression) for reading, its extended headers bounded."""
    try:
        return tarfile.open(path, mode, tarinfo=_BoundedTarInfo)
    except TypeError:  # stream mode ("r|*") on a gzip header cut after 3 bytes: tarfile's ord(b"")
        raise tarfile.ReadError("truncated gzip header") from None


def members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """An archive's members one at a time. Iterating a TarFile keeps every header it has read
    (a 1.3 MB .tar.gz of 600,000 empty members held 230 MB of them); a loader needs only the
    current one, whose data tar.extractfile reads by its offset."""
    while (member := tar.next()) is not None:
        yield member
        tar.members.clear()


def read_member(tar: tarfile.TarFile, member: tarfile.TarInfo, where: str, limit: int = MAX_REVIEW_BYTES,
                what: str = "review") -> bytes:
    """A regular member's bytes, refused from its header's size, before any is read, when over
    `limit` (a sparse member's size is its full size, holes included)."""
    if member.size > limit:
        raise too_big(where, member.size, limit, what)
    return tar.extractfile(member).read()


def read_archive(path: Path, splits: tuple[str, ...] = ("train", "test")) -> list[Record]:
    out = []
    try:
        with open_archive(path) as tar:
            for member in members(tar):
                m = _NAME.search(member.name)
                if m and member.isfile() and m.group(1) in splits:
                    where = f"{path}:{shown(member.name)}"
                    out.append(_record(m, read_member(tar, member, where), where))
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        reason = str(exc).splitlines()[0].rstrip(":") if str(exc) else type(exc).__name__  # tarfile lists every method tried
        raise DataError(f"cannot read IMDB archive {path}: {reason} (corrupted or truncated? a labelled table "
                        f"must end in .csv, .tsv, .jsonl or .parquet)") from None
    if not out:
        raise DataError(f"{path} holds no aclImdb/{{train,test}}/{{pos,neg}}/ID_RATING.txt reviews")
    return _sorted(out)


def read_folder(path: Path, splits: tuple[str, ...] = ("train", "test")) -> list[Record]:
    root = path if path.name == "aclImdb" else path / "aclImdb"
    out = []
    for split in splits:
        for pol in ("pos", "neg"):
            for f in (root / split / pol).glob("*.txt"):
                m = _NAME.search(f.as_posix())
                if m:  # a regular file of at most MAX_REVIEW_BYTES (not a folder, a pipe, /dev/zero)
                    out.append(_record(m, read_file(f), shown(f)))
    if not out:
        raise DataError(f"{path} holds no aclImdb/{{train,test}}/{{pos,neg}}/*.txt reviews")
    return _sorted(out)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(dest: Path, url: str = URL, sha256: str | None = SHA256, progress: bool = True,
             timeout: float = 30.0) -> Path:
    """Stream `url` to `dest`, verify its sha256, and only then move it into place: an
    interrupted or corrupted download never leaves a file that looks complete."""
    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

    if urllib.parse.urlparse(url).scheme not in ("http", "https", "file"):
        raise DataError(f"{url!r} is not a URL; use http://, https:// or file://")
    dest.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    try:
        with replacing(dest, suffix=".part") as tmp:
            with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                total = int(resp.headers.get("Content-Length") or 0) or None
                with Progress(*Progress.get_default_columns()[:-1], DownloadColumn(), TransferSpeedColumn(),
                              disable=not progress, transient=True) as bar:
                    task = bar.add_task(f"downloading {dest.name}", total=total)
                    for chunk in iter(lambda: resp.read(1 << 20), b""):
                        out.write(chunk)
                        h.update(chunk)
                        bar.advance(task, len(chunk))
                if total is not None and out.tell() != total:
                    raise DataError(f"download of {url} was interrupted ({out.tell():,} of {total:,} bytes)")
            if sha256 and h.hexdigest() != sha256:
                raise DataError(f"download of {url} has sha256 {h.hexdigest()}, expected {sha256}")
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        if isinstance(exc, urllib.error.HTTPError):
            reason = f"HTTP {exc.code} {exc.reason}"  # the reason alone reads "Not Found"
        raise DataError(f"cannot download {url}: {reason}") from None
    return dest


def resolve(path: str | Path | None, url: str = URL, sha256: str | None = SHA256, progress: bool = True) -> Path:
    """The archive or folder to read: `path` when given, else the cached download."""
    if path is not None:
        p = Path(path).expanduser()
        if not p.exists():
            raise DataError(f"IMDB data not found at {p}")
        return p
    cached = home() / ARCHIVE_NAME
    if not cached.exists():
        try:
            download(cached, url=url, sha256=sha256, progress=progress)
        except DataError as exc:
            raise DataError(f"{exc} (offline? pass --data PATH to a local copy)") from None
    return cached


def load_imdb(path: str | Path | None = None, splits: tuple[str, ...] = ("train", "test"),
              url: str = URL, sha256: str | None = SHA256, progress: bool = True) -> list[Record]:
    """IMDB reviews as records, from an archive, an aclImdb/ folder or the cache."""
    p = resolve(path, url=url, sha256=sha256, progress=progress)
    return read_folder(p, splits) if p.is_dir() else read_archive(p, splits)
