"""Checksums of saved models, in one place: RNN bundles (bundle.py) and baselines
(compare/baselines/base.py) are verified by the same `verify`.

A saved model is a folder with one JSON manifest (a bundle's config.json, a baseline's
baseline.json) whose "sha256" table holds the digest of every other file that matters. On load:

- the table must list exactly the files of that kind of folder (`Layout.required`, plus any of
  `Layout.optional` present: a bundle's ONNX exports), each a plain file name inside the folder
  (no "/", "\\", "..", drive or absolute path), so a manifest cannot drop a file from the check
  nor point it at a file elsewhere;
- every listed file must exist and match its digest;
- the manifest checks itself: "manifest_sha256" is the sha256 of its canonical JSON (keys
  sorted, no whitespace, UTF-8) without that field, without the `Layout.unsealed` sections and
  without the optional files' entries. Those are what `export --format onnx` adds to a finished
  bundle (each ONNX file still has its own checksum in the table, and its "onnx" entry only
  decides whether it is used). A digest of the canonical form rather than of the bytes keeps
  the file a plain, hand-readable JSON that tools may rewrite (re-indent, reorder) and that older
  versions still read (they ignore the extra field).

Folders written before the manifest checked itself (no "manifest_sha256") still load, but their
table must list the full expected set like any other.

These checksums detect corruption (a truncated copy, a flipped bit, an edited or half-replaced
file), not a deliberate forgery: anyone who can write the folder can recompute every digest.
Trust a model for where it came from, not for its checksums.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from sentiment_lab.exceptions import BundleError

DIGEST = "manifest_sha256"


@dataclass(frozen=True)
class Layout:
    """What a kind of saved-model folder holds."""
    kind: str                         # "bundle" or "baseline", for messages
    manifest: str                     # the JSON file holding the sha256 table
    required: tuple[str, ...]         # always listed and present
    optional: tuple[str, ...] = ()    # verified when listed (a bundle's ONNX exports)
    unsealed: tuple[str, ...] = ()    # top-level manifest keys written after sealing ("onnx")

    @property
    def allowed(self) -> frozenset[str]:
        return frozenset(self.required) | frozenset(self.optional)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest_digest(meta: dict[str, Any], layout: Layout) -> str:
    """sha256 of the manifest's canonical JSON without its own digest, its unsealed sections
    and the optional files' entries."""
    body = {k: v for k, v in meta.items() if k != DIGEST and k not in layout.unsealed}
    table = body.get("sha256")
    if isinstance(table, dict):
        body["sha256"] = {k: v for k, v in table.items() if k not in layout.optional}
    blob = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


def seal(meta: dict[str, Any], layout: Layout) -> dict[str, Any]:
    """`meta` with its manifest_sha256 set (the last key); call it last, before writing. The
    digest is taken of `meta` as it will read back (tuples as lists, int keys as strings)."""
    meta.pop(DIGEST, None)
    meta[DIGEST] = manifest_digest(json.loads(json.dumps(meta, ensure_ascii=False, allow_nan=True)), layout)
    return meta


def is_plain_name(name: Any) -> bool:
    """A file name directly inside the folder: no separator, no "..", no drive, not absolute."""
    return (isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\\" not in name
            and ":" not in name and "\0" not in name and not PurePosixPath(name).is_absolute()
            and not PureWindowsPath(name).is_absolute())


def verify(directory: str | Path, meta: dict[str, Any], layout: Layout) -> None:
    """Raise a one-line BundleError naming the file unless `directory` holds what `meta` (its
    parsed manifest) says, as the module docstring describes."""
    directory = Path(directory)
    where, manifest = f"{layout.kind} {directory}", layout.manifest
    if DIGEST in meta and meta[DIGEST] != manifest_digest(meta, layout):
        raise BundleError(f"{where} was changed: {manifest} does not match its own checksum ({DIGEST}); "
                          "it was edited or corrupted")
    table = meta.get("sha256")
    if not isinstance(table, dict):
        raise BundleError(f"{where} is incomplete: {manifest} has no sha256 table of its files")
    for name in table:
        if not is_plain_name(name):
            raise BundleError(f"{where} was changed: {manifest} lists {name!r}, which is not a file of the {layout.kind}")
    unexpected = sorted(set(table) - layout.allowed)
    if unexpected:
        raise BundleError(f"{where} was changed: {manifest} lists an unexpected file {unexpected[0]!r} "
                          f"(a {layout.kind} holds {', '.join(sorted(layout.allowed))})")
    for name in layout.required:
        if name not in table:
            raise BundleError(f"{where} is incomplete: {manifest} does not list {name} in its sha256 table")
    for name in [*layout.required, *(n for n in layout.optional if n in table)]:
        path = directory / name
        if not path.is_file():
            raise BundleError(f"{where} is incomplete: {name} is missing")
        if file_sha256(path) != table[name]:
            raise BundleError(f"{where} was changed: {name} does not match its checksum (altered or truncated)")
