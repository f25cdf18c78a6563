"""The onnxruntime backend: a bundle's exported model.onnx scored without importing torch.

Loaded by `SentimentClassifier.from_pretrained(path, backend="onnx")` (or "onnx-int8", or
"auto"); the file comes from `sentiment-lab export BUNDLE --format onnx` (onnx_export.py).
Only a file listed in the bundle's sha256 manifest, exported from the bundle's current
weights, is ever loaded.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sentiment_lab.inference.bundle import load_parts, read_meta
from sentiment_lab.inference.runners import sorted_batch_logits
from sentiment_lab.exceptions import BundleError, SentimentLabError

ONNX_FILES = {"fp32": "model.onnx", "int8": "model.int8.onnx"}


def onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def exported_file(directory: str | Path, meta: dict[str, Any] | None = None, variant: str = "fp32") -> Path | None:
    """The bundle's trusted ONNX file of that variant, or None: it counts only if the manifest
    lists it and it was exported from the bundle's current model.safetensors."""
    directory = Path(directory)
    meta = meta if meta is not None else read_meta(directory)
    name = ONNX_FILES[variant]
    info = meta.get("onnx", {}).get(name)
    if name not in meta.get("sha256", {}) or not info:
        return None
    if info.get("source_sha256") != meta["sha256"].get("model.safetensors"):
        return None
    return directory / name


def session(path: str | Path, threads: int | None = None) -> Any:
    """A CPU onnxruntime session (all cores unless `threads`)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


class OnnxRNN:
    """Inference through onnxruntime: a runner, like numpy_backend.NumpyRNN."""

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        self.path = Path(path)
        try:
            self.session = session(self.path, threads)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise BundleError(f"cannot load {self.path}: {str(exc).splitlines()[0]}") from None

    def logits(self, ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Positive-class logits (B,) of right-padded ids (B, T) with true lengths (B,)."""
        feed = {"ids": np.asarray(ids, dtype=np.int64), "lengths": np.asarray(lengths, dtype=np.int64)}
        return self.session.run(None, feed)[0]

    def predict_logits(self, seqs: Sequence[np.ndarray], batch_size: int = 0) -> np.ndarray:
        """Logits for every id sequence, in input order (a runner: length-sorted batches of
        `batch_size`, 0 = 256)."""
        return sorted_batch_logits(seqs, batch_size or 256, self.logits)


def load_onnx(directory: str | Path, variant: str = "fp32") -> tuple[OnnxRNN, Any, Any, dict[str, Any]]:
    """(OnnxRNN, encoder, config, metadata) of a verified bundle with a current ONNX export."""
    if not onnxruntime_available():
        raise SentimentLabError("the onnx backend needs onnxruntime: pip install 'sentiment-lab[onnx]'")
    cfg, encoder, meta = load_parts(directory)
    path = exported_file(directory, meta, variant)
    if path is None:
        from sentiment_lab.inference.shipped import shipped_name

        flag = " --quantize int8" if variant == "int8" else ""
        name = shipped_name(directory)
        if name is not None:  # package data: exported as a copy
            raise BundleError(f"the shipped model {name} has no {ONNX_FILES[variant]}; run: sentiment-lab export "
                              f"-m {name} --format onnx{flag} -o DIR, then use -m DIR")
        raise BundleError(f"bundle {directory} has no current {ONNX_FILES[variant]}; "
                          f"run: sentiment-lab export {directory} --format onnx{flag}")
    return OnnxRNN(path), encoder, cfg, meta
