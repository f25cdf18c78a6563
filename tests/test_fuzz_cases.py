"""Fuzz cases as data, and their replay: the input builders the property tests
(test_fuzz_data.py, test_fuzz_bundle_config.py) share, and the regression corpus
(tests/fuzz_corpus/*.json, one file per minimal failing input a fuzz run found), each
replayed by a plain parametrized test.

A case is a JSON object: `loader` (imdb_archive, imdb_folder, table, dataset, bundle,
config) with that loader's input, `finding` (what went wrong before the fix) and `expect`
(the error class the fixed loader gives, or "ok"). Bytes are {"b64": ...}, a run of zero bytes
{"zeros": N} (a 1 MB member stays a few bytes in the corpus), so that Hypothesis' inputs
(dicts of str, bytes, numbers) serialize as they are.

The property every loader keeps: any input gives a result or a one-line error of the package's
own classes (SentimentLabError subclasses), never another exception (a traceback), and the
folder it read is left as it was (no partial or temporary file behind).
"""
from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import lzma
import os
import tempfile
import shutil
import tarfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest

from sentiment_lab.exceptions import SentimentLabError

CORPUS = Path(__file__).parent / "fuzz_corpus"


# --- bytes in JSON ------------------------------------------------------------------------------

def to_json(value: Any) -> Any:
    """A case with bytes as {"b64": ...} (and tuples as lists), ready for json.dumps."""
    if isinstance(value, (bytes, bytearray)):
        return {"b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def blob(value: Any) -> bytes:
    """The bytes a case field stands for: bytes, a str (UTF-8), {"b64"}, {"zeros": n},
    {"repeat": field, "times": n}, {"gz": field}, {"concat": [fields]} or {"lines": [fields]}."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, dict) and "b64" in value:
        return base64.b64decode(value["b64"])
    if isinstance(value, dict) and "zeros" in value:
        return bytes(value["zeros"])
    if isinstance(value, dict) and "repeat" in value:  # {"repeat": "text", "times": n}
        return blob(value["repeat"]) * value["times"]
    if isinstance(value, dict) and "gz" in value:  # gzip of the inner field (a .csv.gz, a .jsonl.gz)
        return gzip.compress(blob(value["gz"]), compresslevel=1, mtime=0)
    if isinstance(value, dict) and "concat" in value:  # {"concat": [field, ...]}
        return b"".join(blob(part) for part in value["concat"])
    if isinstance(value, dict) and "lines" in value:  # {"lines": [field, ...]}: joined with \n
        return b"".join(blob(line) + b"\n" for line in value["lines"])
    if value is None:
        return b""
    raise TypeError(f"not a byte field: {value!r}")


def name_of(value: Any) -> str:
    """A member or file name: a str, or bytes read as the OS and tarfile read undecodable names."""
    if isinstance(value, str):
        return value
    return blob(value).decode("utf-8", "surrogateescape")


# --- archives and folders -----------------------------------------------------------------------

_TAR_TYPES = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
              "hardlink": tarfile.LNKTYPE, "chr": tarfile.CHRTYPE, "blk": tarfile.BLKTYPE,
              "fifo": tarfile.FIFOTYPE, "cont": tarfile.CONTTYPE, "old": tarfile.AREGTYPE}


def tar_bytes(spec: dict) -> bytes:
    """spec: {"members": [{"name", "kind" (file, dir, symlink, hardlink, chr, blk, fifo, cont, old),
    "data", "linkname", "pax": {keyword: value}}], "compression": "gz" | "bz2" | "xz" | "",
    "format": "pax" | "gnu" | "ustar", "cut": keep only the first N bytes}. A member this format
    cannot hold (a name too long for ustar) is left out."""
    fmt = {"pax": tarfile.PAX_FORMAT, "gnu": tarfile.GNU_FORMAT, "ustar": tarfile.USTAR_FORMAT}[spec.get("format", "pax")]
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=fmt, encoding="utf-8", errors="surrogateescape") as tar:
        for m in spec["members"]:
            info = tarfile.TarInfo(name_of(m["name"]))
            info.type = _TAR_TYPES[m.get("kind", "file")]
            info.linkname = name_of(m.get("linkname", ""))
            data = blob(m.get("data")) if info.type in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE) else b""
            info.size = len(data)
            info.pax_headers = {name_of(k): name_of(v) for k, v in (m.get("pax") or {}).items()}
            try:
                info.tobuf(fmt, "utf-8", "surrogateescape")
            except ValueError:  # a name or link this format cannot hold ("name is too long"): not a case
                continue
            tar.addfile(info, io.BytesIO(data) if data else None)
    data = raw.getvalue()
    comp = spec.get("compression", "gz")
    if comp == "gz":
        data = gzip.compress(data, compresslevel=1, mtime=0)
    elif comp == "bz2":
        data = bz2.compress(data, 1)
    elif comp == "xz":
        data = lzma.compress(data, preset=0)
    if spec.get("cut") is not None:
        data = data[: spec["cut"]]
    return data


def zip_bytes(spec: dict) -> bytes:
    """spec: {"members": [{"name", "data"}], "cut": N}."""
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a duplicate name is part of the case
        for m in spec["members"]:
            zf.writestr(zipfile.ZipInfo(name_of(m["name"])), blob(m.get("data")))
    data = raw.getvalue()
    return data[: spec["cut"]] if spec.get("cut") is not None else data


def make_tree(root: Path, entries: list[dict]) -> None:
    """entries: [{"path" (relative), "kind": file | dir | symlink | fifo, "data", "target"}];
    parents are created; an entry that cannot be made (where an earlier one stands) is skipped."""
    root.mkdir(parents=True, exist_ok=True)
    for e in entries:
        path = root / name_of(e["path"])
        if os.path.lexists(path):  # never write through an earlier entry (a pipe would block the write)
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            kind = e.get("kind", "file")
            if kind == "dir":
                path.mkdir(exist_ok=True)
            elif kind == "symlink":
                os.symlink(name_of(e.get("target", "missing")), path)
            elif kind == "fifo":
                os.mkfifo(path)
            else:
                path.write_bytes(blob(e.get("data")))
        except (OSError, UnicodeEncodeError):  # under a file, a name too long or not encodable: not a case
            continue


def make_input(spec: dict, where: Path) -> Path:
    """The file or folder a case describes, written under `where`: {"archive": tar spec, "name"},
    {"zip": zip spec, "name"}, {"file": bytes, "name"} or {"tree": entries, "name"}."""
    where.mkdir(parents=True, exist_ok=True)
    path = where / spec.get("name", "input")
    if "archive" in spec:
        path.write_bytes(tar_bytes(spec["archive"]))
    elif "zip" in spec:
        path.write_bytes(zip_bytes(spec["zip"]))
    elif "file" in spec:
        path.write_bytes(blob(spec["file"]))
    elif "tree" in spec:
        make_tree(path, spec["tree"])
    else:
        raise KeyError(f"no input in {sorted(spec)}")
    return path


# --- tables -------------------------------------------------------------------------------------

def _arrow_column(kind: str, values: list) -> Any:
    import pyarrow as pa

    types = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
             "bytes": pa.binary(), "null": pa.null(), "list": pa.list_(pa.int64())}
    if kind == "bytes":
        values = [None if v is None else blob(v) for v in values]
    if kind == "str":  # Arrow strings are UTF-8: a lone surrogate becomes U+FFFD
        values = [v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") if isinstance(v, str) else v
                  for v in values]
    return pa.array(values, type=types[kind])


def parquet_bytes(columns: list[list]) -> bytes:
    """columns: [[name, kind (str, int, float, bool, bytes, null, list), values]], duplicate names
    allowed (Parquet allows them, pandas does not)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = min((len(v) for _, _, v in columns), default=0)
    arrays = [_arrow_column(kind, list(values)[:n]) for _, kind, values in columns]
    table = pa.Table.from_arrays(arrays, names=[str(name) for name, _, _ in columns]) if columns else pa.table({})
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def table_file(spec: dict, where: Path) -> Path:
    """{"name": "t.csv", "data": bytes} or {"name": "t.parquet", "parquet": columns}."""
    where.mkdir(parents=True, exist_ok=True)
    path = where / spec["name"]
    path.write_bytes(parquet_bytes(spec["parquet"]) if "parquet" in spec else blob(spec.get("data")))
    return path


# --- bundles and configs ------------------------------------------------------------------------

def make_bundle(spec: dict, where: Path) -> Path:
    """A copy of the shipped bundle, changed as `spec` says, in this order:
    "patch": [[path keys..., value]] set in config.json (a path of [] replaces the whole document);
    "files": {name: {"data": bytes} | {"cut": N} | {"delete": true}};
    "rehash": recompute the sha256 table for the changed files; "seal": recompute manifest_sha256;
    "raw": config.json's bytes as given (then nothing is recomputed).
    model.safetensors is replaced by a few bytes (load_parts never reads the weights)."""
    from sentiment_lab.inference import integrity
    from sentiment_lab.inference.bundle import LAYOUT
    from sentiment_lab.inference.shipped import shipped_bundle

    src, d = shipped_bundle("imdb"), where / "bundle"
    d.mkdir(parents=True)
    for name in ("tokenizer.json", "metrics.json", "history.json", "README.md"):
        shutil.copyfile(src / name, d / name)
    (d / "model.safetensors").write_bytes(b"weights")
    meta = json.loads((src / "config.json").read_text(encoding="utf-8"))
    meta["sha256"]["model.safetensors"] = integrity.file_sha256(d / "model.safetensors")
    for name, change in (spec.get("files") or {}).items():
        path = d / name_of(name)
        if change.get("delete"):
            path.unlink(missing_ok=True)
        elif "cut" in change:
            path.write_bytes(path.read_bytes()[: change["cut"]] if path.is_file() else b"")
        else:
            path.write_bytes(blob(change.get("data")))
    if spec.get("rehash", True):
        for name in meta["sha256"]:
            if (d / name).is_file():
                meta["sha256"][name] = integrity.file_sha256(d / name)
    for *keys, value in spec.get("patch") or []:
        if not keys:
            meta = value
            continue
        node = meta
        for k in keys[:-1]:
            node = node.setdefault(k, {}) if isinstance(node, dict) else node
        if isinstance(node, dict):
            node[keys[-1]] = value
    if isinstance(meta, dict) and spec.get("seal", True):
        integrity.seal(meta, LAYOUT)
    if "raw" in spec:
        (d / "config.json").write_bytes(blob(spec["raw"]))
    else:
        (d / "config.json").write_text(json.dumps(meta, ensure_ascii=False, allow_nan=True), encoding="utf-8",
                                       errors="surrogatepass")
    return d


# --- running a case -----------------------------------------------------------------------------

def listing(root: Path) -> list[tuple[str, int]]:
    """Every path under `root` (links not followed) with its size: what a loader must leave alone."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            out.append((str(p.relative_to(root)), p.lstat().st_size if not p.is_dir() else 0))
    return sorted(out)


def call(case: dict, where: Path) -> Any:
    """Build the case's input under `where` and run its loader: the result, or the raised exception."""
    loader = case["loader"]
    if loader in ("imdb_archive", "imdb_folder"):
        from sentiment_lab.data import load_imdb

        path = make_input(case, where)
        return lambda: load_imdb(path, splits=tuple(case.get("splits", ("train", "test"))), progress=False)
    if loader == "table":
        from sentiment_lab.data import load_table

        path = table_file(case, where)
        return lambda: load_table(path, **(case.get("args") or {}))
    if loader == "dataset":
        from sentiment_lab.data import load_dataset

        path = make_input(case, where)
        return lambda: load_dataset(case["dataset"], path=path, progress=False, check_counts=False)
    if loader == "bundle":
        from sentiment_lab.inference import bundle

        path = make_bundle(case, where)
        fn = {"load_parts": bundle.load_parts, "read_meta": bundle.read_meta}[case.get("call", "load_parts")]
        return lambda: fn(path)
    if loader == "config":
        from sentiment_lab.config import load_config

        for name, text in (case.get("files") or {}).items():
            (where / name_of(name)).write_bytes(blob(text))
        preset = case.get("preset", "file")
        if preset == "file":
            preset = where / "config.toml"
        elif isinstance(preset, str) and preset.startswith("file:"):
            preset = where / preset[5:]
        return lambda: load_config(preset, case.get("overrides"))
    raise KeyError(f"unknown loader {loader!r}")


def outcome(case: dict, where: Path) -> Any:
    """Run a case under the property: a result or a one-line SentimentLabError (returned), any
    other exception raised; the input folder unchanged afterwards."""
    where.mkdir(parents=True, exist_ok=True)
    run = call(case, where)
    before = listing(where)
    cwd_before = sorted(os.listdir("."))
    try:
        result = run()
    except SentimentLabError as exc:
        message = str(exc)
        assert message.strip(), f"{type(exc).__name__} with an empty message"
        assert len(message.splitlines()) == 1, f"{type(exc).__name__} over several lines: {message!r}"
        message.encode("utf-8")  # printable: no lone surrogate from an undecodable name (UnicodeEncodeError)
        result = exc
    assert listing(where) == before, "the loader changed the folder it read"
    assert sorted(os.listdir(".")) == cwd_before, "the loader left a file in the working directory"
    return result


# --- the corpus ---------------------------------------------------------------------------------

def _cases() -> list[Path]:
    return sorted(CORPUS.glob("*.json"))


@pytest.mark.parametrize("path", _cases(), ids=lambda p: p.stem)
def test_fuzz_corpus_case(path, tmp_path):
    """Each minimal input a fuzz run found, replayed: the fixed loader's answer is `expect`."""
    case = json.loads(path.read_text(encoding="utf-8"))
    assert case.get("finding"), f"{path.name}: say what went wrong before the fix"
    result = outcome(case, tmp_path / "case")
    expect = case["expect"]
    if expect == "ok":
        assert not isinstance(result, BaseException), f"{path.name}: {result}"
        if "records" in case:
            assert len(result) == case["records"]
    else:
        assert type(result).__name__ == expect, f"{path.name}: got {result!r}"
        if "match" in case:
            import re

            assert re.search(case["match"], str(result)), f"{path.name}: {result}"


def test_fuzz_corpus_is_not_empty():
    assert len(_cases()) >= 1


def dump(case: dict) -> None:
    """With $FUZZ_DUMP set to a folder, keep the last failing case of each test there (Hypothesis
    replays the minimal one last): the file to copy into the corpus."""
    folder = os.environ.get("FUZZ_DUMP")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        test = os.environ.get("PYTEST_CURRENT_TEST", "case").split("::")[-1].split(" ")[0]
        (Path(folder) / f"{test}.json").write_text(json.dumps(to_json(case), indent=1, allow_nan=True) + "\n")


def save_case(case: dict, name: str) -> Path:
    """Write a case into the corpus (used by hand when a fuzz run finds a failure)."""
    CORPUS.mkdir(exist_ok=True)
    path = CORPUS / f"{name}.json"
    path.write_text(json.dumps(to_json(case), indent=1, ensure_ascii=True, allow_nan=True) + "\n", encoding="utf-8")
    return path

# The Hypothesis tests (test_fuzz_data.py, test_fuzz_bundle_config.py) share these.
# FUZZ_SCALE=20 multiplies every test's examples and FUZZ_RANDOM=1 draws new ones each run, for a
# longer local hunt; CI runs the bounded, derandomized default.
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))


def examples(n: int) -> int:
    return max(1, int(n * SCALE))


def fuzz_settings():
    """The bounded, reproducible Hypothesis settings of every fuzz test (150 examples)."""
    from hypothesis import HealthCheck, settings

    return settings(max_examples=examples(150), deadline=None, derandomize=not os.environ.get("FUZZ_RANDOM"),
                    database=None, print_blob=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def run_case(case: dict, ok: str = "ok"):
    """The case under the property: its outcome (a result or the package's own error), dumped
    to fuzz_corpus/ form when anything else escapes; `event` tallies the outcomes
    (--hypothesis-show-statistics), `ok` naming a result."""
    from hypothesis import event

    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        try:
            result = outcome(case, Path(tmp))
        except BaseException:
            dump(case)
            raise
    label = f"{type(result).__name__}: {str(result).replace(tmp, '')[-60:]}" if isinstance(result, Exception) else ok
    event(label.encode("utf-8", "backslashreplace").decode("utf-8"))
    return result

