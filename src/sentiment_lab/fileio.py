"""Atomic file writes, in one place: a reader, or a crash, sees the old file or the new one,
never half of one, and a failed write leaves nothing behind.

Every output the package writes (bundles, metrics, reports, plots, tables, predictions) goes
through `replacing`: a temporary sibling is written, given the permissions a plain `open`
would have given it (mkstemp and safetensors make 0600 files, and bundles are shared), then
renamed over the target with os.replace, which is atomic on one filesystem.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sentiment_lab.exceptions import InputError


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def share(path: str | Path) -> None:
    """Give a file written through a temp name the mode `open()` would have (0644 under umask 022)."""
    os.chmod(path, 0o666 & ~umask())


def check_target(path: str | Path, parent: bool = True) -> Path:
    """The output path, or a one-line error for a folder or (with `parent`) a missing parent
    folder. Commands call it with parent=False before their work, and create the parent after."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a folder; give a file name for this output")
    if parent and not path.parent.is_dir():
        raise InputError(f"cannot write {path}: folder {path.parent} does not exist")
    return path


@contextmanager
def replacing(path: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside `path`; when the block ends without error it replaces
    `path`, otherwise it is removed. `suffix` keeps the extension for writers that read it."""
    path = check_target(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        share(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> Path:
    with replacing(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | Path, text: str, newline: str | None = None) -> Path:
    with replacing(path) as tmp, open(tmp, "w", encoding="utf-8", newline=newline) as f:
        f.write(text)
    return Path(path)


def write_json(path: str | Path, obj: Any) -> Path:
    return write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def check_dir_target(directory: str | Path, marker: str) -> Path:
    """An output folder may be new, empty, or an earlier output of the same kind (it holds
    `marker`, e.g. a bundle's config.json): never a file or a folder of something else, which
    the swap below would delete."""
    directory = Path(directory)
    if directory.is_file():
        raise InputError(f"{directory} is a file; give a folder name for this output")
    if directory.is_dir() and any(directory.iterdir()) and not (directory / marker).is_file():
        raise InputError(f"{directory} already holds other files; give a new or empty folder")
    return directory


def swap_dir(tmp: Path, directory: str | Path, marker: str) -> Path:
    """Move a finished temporary folder (a sibling of `directory`) into place: readers see the
    old output or the new one. The old one is renamed aside first and removed after."""
    directory = check_dir_target(directory, marker)
    os.chmod(tmp, 0o777 & ~umask())  # mkdtemp makes 0700 folders
    for f in tmp.iterdir():
        if f.is_file():
            share(f)
    if directory.exists():
        old = directory.with_name(f".{directory.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(directory, old)
        os.replace(tmp, directory)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, directory)
    return directory


# A cell that starts with one of these is a formula to a spreadsheet that opens the CSV
# (=HYPERLINK("http://evil", "click"), +cmd|..., @SUM(...)); tab and carriage return can hide one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """`value`, or a text cell that a spreadsheet would run as a formula with a ' in front, as
    OWASP advises for CSV injection: the text still reads the same to a person."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def spreadsheet_safe_frame(frame: "Any") -> "Any":
    """A copy of a pandas DataFrame with every text column made spreadsheet_safe (for CSV/TSV
    outputs: predictions, errors.csv); numbers are left alone."""
    from pandas.api.types import is_object_dtype, is_string_dtype

    out = frame.copy()
    for column in out.columns:
        if is_object_dtype(out[column]) or is_string_dtype(out[column]):
            out[column] = out[column].map(spreadsheet_safe)
    return out
