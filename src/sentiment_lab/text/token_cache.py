"""Token ids cached on disk between runs, memory-mapped when read back.

Why: tokenizing the 25k IMDB training reviews takes ~15 s on a 2-core CPU and the 25k test
reviews as long again, in every run of an experiment grid, while the epochs themselves take
~30 s (seed preset). A run tokenizes each split once (epochs reuse the arrays); this cache
also skips that for every later run with the same tokenizer and the same texts (another
model size, another seed's initialisation on the same split, a resumed run, a re-evaluation).

What is stored is the *untruncated* ids (one flat int32 array plus row offsets), so cells
that differ only in max_len or truncation share one entry, and the full review lengths
(test_predictions.csv's n_tokens_full) come from the same pass instead of a second one.

The key is the SHA-256 of the tokenizer's JSON and of the texts themselves, so a changed
vocabulary, normalizer or text can never be served stale ids. Entries are written
atomically; the least recently used ones are deleted beyond a size cap. Set
SENTIMENT_LAB_IDS_CACHE=0 to turn the cache off, or to a directory to move it (default:
$SENTIMENT_LAB_HOME/ids-cache).
"""
from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from sentiment_lab.text.tokenizer import TextEncoder

CAP_BYTES = 2 * 1024**3  # least recently used entries beyond this are deleted


def cache_dir() -> Path | None:
    """Where entries live, or None when the cache is turned off."""
    setting = os.environ.get("SENTIMENT_LAB_IDS_CACHE", "")
    if setting.lower() in ("0", "off", "false", "no"):
        return None
    if setting:
        return Path(setting)
    from sentiment_lab.data.imdb import home

    return home() / "ids-cache"


def cache_key(encoder: TextEncoder, texts: Sequence[str]) -> str:
    h = hashlib.sha256(encoder.tokenizer.to_str().encode("utf-8"))
    h.update(len(texts).to_bytes(8, "little"))
    for t in texts:
        b = t.encode("utf-8", "surrogatepass")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()[:32]


def full_ids(encoder: TextEncoder, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(ids, offsets): the untruncated ids of text i are ids[offsets[i]:offsets[i + 1]].
    Read from the cache when an entry exists (memory-mapped), else tokenized and stored."""
    root = cache_dir()
    if root is not None:
        key = cache_key(encoder, texts)
        ids_path, off_path = root / f"{key}.ids.npy", root / f"{key}.offsets.npy"
        if ids_path.exists() and off_path.exists():
            try:
                ids, offsets = np.load(ids_path, mmap_mode="r"), np.load(off_path, mmap_mode="r")
                if len(offsets) == len(texts) + 1 and int(offsets[-1]) == len(ids):
                    now = time.time()
                    os.utime(ids_path, (now, now))  # least recently *used*
                    return ids, offsets
            except (OSError, ValueError):  # a damaged entry is rebuilt, never trusted
                pass
    encs = encoder.tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)
    lengths = np.fromiter((len(e.ids) for e in encs), dtype=np.int64, count=len(encs))
    offsets = np.zeros(len(encs) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ids = np.fromiter((i for e in encs for i in e.ids), dtype=np.int32, count=int(offsets[-1]))
    if root is not None:
        try:
            _store(root, key, ids, offsets)
        except OSError:  # a full or read-only disk costs speed, not the run
            pass
    return ids, offsets


def encode_with_lengths(encoder: TextEncoder, texts: Sequence[str]) -> tuple[list[np.ndarray], np.ndarray]:
    """What TextEncoder.encode returns (truncated int64 id arrays, never empty), plus each
    text's untruncated length, from one tokenization or none."""
    ids, offsets = full_ids(encoder, texts)
    return [encoder.clip(ids[a:b]) for a, b in zip(offsets[:-1], offsets[1:])], np.diff(offsets).astype(np.int64)


def _store(root: Path, key: str, ids: np.ndarray, offsets: np.ndarray) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for suffix, arr in ((".offsets.npy", offsets), (".ids.npy", ids)):  # ids last: its presence marks completion
        tmp = root / f"{key}{suffix}.{os.getpid()}.part"
        with tmp.open("wb") as f:
            np.save(f, arr, allow_pickle=False)
        os.replace(tmp, root / f"{key}{suffix}")
    _prune(root)


def _prune(root: Path, cap: int | None = None) -> None:
    cap = CAP_BYTES if cap is None else cap
    entries = []
    for ids_path in root.glob("*.ids.npy"):
        off_path = ids_path.with_name(ids_path.name.replace(".ids.npy", ".offsets.npy"))
        try:
            size = ids_path.stat().st_size + (off_path.stat().st_size if off_path.exists() else 0)
            entries.append((ids_path.stat().st_mtime, size, ids_path, off_path))
        except OSError:
            continue
    total = sum(e[1] for e in entries)
    for _, size, ids_path, off_path in sorted(entries):
        if total <= cap:
            break
        ids_path.unlink(missing_ok=True)
        off_path.unlink(missing_ok=True)
        total -= size
