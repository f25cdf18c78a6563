"""Which engine runs a bundle's network: the `Backend` names, and loading a bundle as a runner.

    torch      the PyTorch model (CPU or GPU, batched)
    numpy      the same weights through numpy_backend.NumpyRNN, without importing torch
    onnx       the bundle's exported model.onnx through onnxruntime (onnx_backend.OnnxRNN)
    onnx-int8  its dynamic-int8 model.int8.onnx
    auto       "onnx" when onnxruntime is installed, the bundle holds a current model.onnx and
               the device is the CPU, else "torch"

A `Backend` is a str: `Backend("numpy") == "numpy"`, and every function taking a backend
takes the plain string too.
"""
from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from sentiment_lab.exceptions import ConfigError


class Backend(StrEnum):
    TORCH = "torch"
    NUMPY = "numpy"
    ONNX = "onnx"
    ONNX_INT8 = "onnx-int8"
    AUTO = "auto"


BACKENDS = tuple(b.value for b in Backend)  # ("torch", "numpy", "onnx", "onnx-int8", "auto")


def parse_backend(backend: "Backend | str", allowed: "tuple[str, ...]" = BACKENDS) -> Backend:
    """The Backend named by `backend`, or a one-line ConfigError listing the `allowed` names."""
    if backend not in allowed:
        raise ConfigError(f"backend must be one of {', '.join(map(repr, allowed))}, not {backend!r}")
    return Backend(backend)


def resolve(backend: "Backend | str", path: Path, device: Any = "cpu") -> Backend:
    """`backend` itself, or for "auto" the one it picks for this bundle and device."""
    backend = parse_backend(backend)
    if backend is not Backend.AUTO:
        return backend
    from sentiment_lab.inference.onnx_backend import exported_file, onnxruntime_available

    onnx_ok = str(device) == "cpu" and onnxruntime_available() and exported_file(path) is not None
    return Backend.ONNX if onnx_ok else Backend.TORCH


def load(path: Path, backend: Backend) -> tuple[Any, Any, Any, dict[str, Any]]:
    """(model, encoder, config, metadata) of a verified bundle for a resolved backend: an
    RNNClassifier (torch), a NumpyRNN or an OnnxRNN."""
    if backend in (Backend.ONNX, Backend.ONNX_INT8):
        from sentiment_lab.inference.onnx_backend import load_onnx

        return load_onnx(path, "int8" if backend is Backend.ONNX_INT8 else "fp32")
    from sentiment_lab.inference.bundle import load_pretrained

    return load_pretrained(path, backend.value)


def runner_for(model: Any, backend: "Backend | str") -> Any:
    """What predicts logits for `model`: a TorchRunner around a PyTorch model; the NumPy and
    onnxruntime models are runners themselves."""
    if backend == Backend.TORCH:
        from sentiment_lab.inference.runners import TorchRunner

        return TorchRunner(model)
    return model
