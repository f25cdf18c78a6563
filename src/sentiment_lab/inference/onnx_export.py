"""ONNX export of a bundle's network (the onnxruntime backend is onnx_runtime.py).

    export_onnx("runs/seed/bundle")                      # writes bundle/model.onnx + manifest entry
    export_onnx("runs/seed/bundle", quantize="int8")     # also model.int8.onnx (dynamic int8)
    export_onnx("runs/seed/bundle", output="m.onnx")     # a standalone file beside, bundle untouched

The graph takes right-padded ids (B, T) and true lengths (B,) and returns positive-class
logits (B,). Packed sequences cannot be exported, so the graph follows the padded path that
RNNClassifier and runtime.NumpyRNN already use: every direction is a plain one-layer ONNX
LSTM/GRU/RNN op, and the backward direction reads each sequence reversed *within its own
length* (a gather), so no state ever starts from padding; pooling masks the padding. Each
export is checked against the PyTorch model in packed mode (the reference) before it is
installed, and refused if they differ by more than EXPORT_ATOL.

Bundle integrity: the file goes into the bundle's sha256 manifest (config.json), in an order
that leaves a loadable bundle at every instant: the old entry is dropped first, then the new
file is moved into place (os.replace), then the new entry is written (config.json is itself
replaced atomically). An ONNX file that is not in the manifest is never loaded.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sentiment_lab.fileio import write_json
from sentiment_lab.inference.bundle import _sha256
from sentiment_lab.exceptions import SentimentLabError
from sentiment_lab.models.rnn import CELLS, RNNClassifier
from sentiment_lab.inference.onnx_backend import ONNX_FILES, onnxruntime_available, session as _session

OPSET = 17
EXPORT_ATOL = 1e-4  # fp32 graph vs PyTorch (packed), max |logit difference|


class PaddedGraph(nn.Module):
    """The inference graph of a trained RNNClassifier that tracing can export: per layer and
    direction a one-layer, one-direction cell carrying the model's own weights, run over
    right-padded input; the backward direction reads each sequence reversed within its
    length. RNNClassifier's own padded mode does the same through functional_call, which
    tracing refuses; its embedding, attention and head modules are reused as they are."""

    def __init__(self, model: RNNClassifier) -> None:
        super().__init__()
        self.model = model
        cfg = model.cfg
        self.cfg = cfg
        self.cells = nn.ModuleList()
        directions = ("", "_reverse") if cfg.bidirectional else ("",)
        for layer in range(cfg.num_layers):
            for suffix in directions:
                src = {n: getattr(model.rnn, f"{n}_l{layer}{suffix}")
                       for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
                cell = CELLS[model.cell](src["weight_ih"].size(1), cfg.hidden_size, batch_first=True)
                cell.load_state_dict({f"{n}_l0": w.detach() for n, w in src.items()})
                self.cells.append(cell)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        cfg, m = self.cfg, self.model
        x = m.embed(ids)  # (B, T, E)
        B, T = ids.shape
        steps = torch.arange(T)[None, :]  # (1, T)
        rev = lengths[:, None] - 1 - steps
        rev = torch.where(rev >= 0, rev, steps)  # reverse the real part, leave the padding in place
        n_dir = 2 if cfg.bidirectional else 1
        for layer in range(cfg.num_layers):
            fwd = self.cells[layer * n_dir](x)[0]  # (B, T, H)
            if cfg.bidirectional:
                flip = rev[..., None].expand(-1, -1, x.size(2))
                bwd = self.cells[layer * n_dir + 1](x.gather(1, flip))[0]
                x = torch.cat([fwd, bwd.gather(1, rev[..., None].expand(-1, -1, bwd.size(2)))], dim=2)
            else:
                x = fwd
        mask = steps < lengths[:, None]  # (B, T)
        if cfg.pooling == "last":
            feats = fwd[torch.arange(B), lengths - 1]
            if cfg.bidirectional:  # backward final state: its output at the first real token
                feats = torch.cat([feats, x[:, 0, cfg.hidden_size:]], dim=1)
        elif cfg.pooling == "max":
            feats = x.masked_fill(~mask[..., None], float("-inf")).amax(dim=1)
        elif cfg.pooling == "attention":
            feats = m.attention(x, mask)[0]
        else:
            feats = (x * mask[..., None]).sum(dim=1) / lengths[:, None].to(x.dtype)
        logits = m.head(feats).squeeze(-1)  # (B,)
        return logits if m.bag is None else logits + m.bag(ids, lengths)


def _export_graph(model: nn.Module, path: Path) -> None:
    graph = PaddedGraph(model).eval()
    ids = torch.tensor([[2, 3, 4, 5, 6], [7, 8, 0, 0, 0]])
    lengths = torch.tensor([5, 2])
    with warnings.catch_warnings():  # the tracer warns about every size it reads; all are declared dynamic
        warnings.simplefilter("ignore")
        torch.onnx.export(graph, (ids, lengths), str(path), dynamo=False, opset_version=OPSET,
                          input_names=["ids", "lengths"], output_names=["logits"],
                          dynamic_axes={"ids": {0: "batch", 1: "time"}, "lengths": {0: "batch"},
                                        "logits": {0: "batch"}})


def _parity_batch(vocab_size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Lengths 1..97 with padding in every row but one: exercises the masks and the reversal."""
    from sentiment_lab.text.tokenizer import pad_batch

    rng = np.random.default_rng(seed)
    return pad_batch([rng.integers(2, max(vocab_size, 3), size=n) for n in (1, 2, 5, 17, 40, 97, 3, 60)])


def max_abs_diff(model: nn.Module, session: Any, vocab_size: int) -> float:
    """Largest |logit difference| between an ONNX session and the PyTorch model in packed mode."""
    ids, lengths = _parity_batch(vocab_size)
    mode, model.run_mode = model.run_mode, "packed"
    try:
        with torch.inference_mode():
            expected = model(torch.from_numpy(ids), torch.from_numpy(lengths)).numpy()
    finally:
        model.run_mode = mode
    got = session.run(None, {"ids": ids, "lengths": lengths})[0]
    return float(np.abs(got - expected).max())


def _quantize(src: Path, dst: Path) -> None:
    """Dynamic int8 (weights int8, activations quantized on the fly): MatMuls, the LSTM
    kernels (DynamicQuantizeLSTM) and the embedding table (Gather)."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic advises static pre-processing (meant for CNNs)
    try:
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)


def export_onnx(bundle: str | Path | None = None, output: str | Path | None = None,
                quantize: str | None = None) -> dict[str, Any]:
    """Export a bundle's network to ONNX, and with quantize="int8" a dynamic-int8 copy too.

    output None: the files go into the bundle and its manifest. output "X.onnx": standalone
    files (X.onnx, X.int8.onnx), the bundle untouched. Any other output: a new bundle
    directory there, a copy of this one plus the ONNX files (the way to export the shipped
    model, which is package data). Returns {variant: {path, bytes, max_abs_diff}}, the last
    being the measured max |logit difference| to PyTorch on a padded test batch."""
    if not onnxruntime_available():
        raise SentimentLabError("ONNX export needs onnx and onnxruntime: pip install 'sentiment-lab[onnx]'")
    from sentiment_lab.inference.bundle import load_pretrained
    from sentiment_lab.inference.shipped import resolve_model, shipped_name

    if quantize not in (None, "int8"):
        raise SentimentLabError(f"--quantize must be int8, not {quantize!r}")
    directory = resolve_model(bundle)  # a shipped name, a folder, None: the default shipped model
    out = Path(output) if output is not None else None
    if out is None and shipped_name(directory) is not None:
        raise SentimentLabError("the shipped model is package data: export a copy with -o DIR (a new bundle) "
                                "or -o FILE.onnx")
    if out is not None and out.suffix.lower() != ".onnx" and out.exists():
        raise SentimentLabError(f"{out} already exists; give a new directory for the exported bundle")
    if out is not None and out.suffix.lower() == ".onnx":
        pair = [out, out.with_name(out.stem + ".int8.onnx")]  # one export's files: never one old, one new
        if any(p.exists() for p in pair):
            raise SentimentLabError(f"{' or '.join(str(p) for p in pair if p.exists())} already exists; "
                                    "give a new file name (a standalone .onnx has no manifest to tell them apart)")
    model, encoder, _cfg, _meta = load_pretrained(directory, "torch")
    work_dir = directory if out is None else out.parent
    try:
        work_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SentimentLabError(f"cannot create {work_dir}: {exc.strerror}; give -o elsewhere") from None
    if not os.access(work_dir, os.W_OK):
        raise SentimentLabError(f"cannot write into {work_dir}; give -o elsewhere")
    with tempfile.TemporaryDirectory(dir=work_dir, prefix=".onnx-export.") as tmp:
        made = _export_checked(model, encoder.vocab_size, Path(tmp), quantize)
        if out is None:
            return _install_in_bundle(made, directory)
        if out.suffix.lower() == ".onnx":
            return _install_standalone(made, out)
        copy = Path(tmp) / "bundle"
        shutil.copytree(directory, copy, ignore=shutil.ignore_patterns(".*", *ONNX_FILES.values()))
        for name in ONNX_FILES.values():  # a copy of a bundle that had exports: drop their entries
            _drop_entry(copy, name)
        result = _install_in_bundle(made, copy)
        os.replace(copy, out)  # the new bundle appears whole
        return {k: dict(v, path=str(out / Path(v["path"]).name)) for k, v in result.items()}


def _export_checked(model: nn.Module, vocab_size: int, tmp: Path, quantize: str | None) -> dict[str, tuple[Path, float]]:
    """Export (and quantize) into tmp; refuse a graph that disagrees with PyTorch."""
    fp32 = tmp / "model.onnx"
    _export_graph(model, fp32)
    made = {"fp32": (fp32, max_abs_diff(model, _session(fp32), vocab_size))}
    if made["fp32"][1] > EXPORT_ATOL:
        raise SentimentLabError(f"the exported graph differs from PyTorch by {made['fp32'][1]:.2e} "
                                f"(> {EXPORT_ATOL:g}); not installed")
    if quantize:
        q = tmp / "model.int8.onnx"
        _quantize(fp32, q)
        made["int8"] = (q, max_abs_diff(model, _session(q), vocab_size))
    return made


def _install_standalone(made: dict[str, tuple[Path, float]], output: Path) -> dict[str, Any]:
    out = {}
    for variant, (src, diff) in made.items():
        dst = output if variant == "fp32" else output.with_name(output.stem + ".int8.onnx")
        os.chmod(src, 0o644)
        os.replace(src, dst)
        out[variant] = {"path": str(dst), "bytes": dst.stat().st_size, "max_abs_diff": diff}
    return out


def _drop_entry(directory: Path, name: str) -> dict[str, Any]:
    """Remove a file's manifest entry (config.json rewritten atomically); returns the meta.
    Read raw, not verified: the caller verified the bundle, and a copy lacks the dropped file."""
    meta = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    meta.get("sha256", {}).pop(name, None)
    meta.setdefault("onnx", {}).pop(name, None)
    write_json(directory / "config.json", meta)
    return meta


def _install_in_bundle(made: dict[str, tuple[Path, float]], directory: Path) -> dict[str, Any]:
    """Move the files into the bundle and list them in its manifest, never leaving a bundle
    whose manifest names a file with another checksum (see the module docstring)."""
    import onnx

    from sentiment_lab import __version__

    out = {}
    for variant, (src, diff) in made.items():
        name = ONNX_FILES[variant]
        meta = _drop_entry(directory, name)  # 1. old entry gone: the bundle stays valid
        digest = _sha256(src)
        os.chmod(src, 0o644)
        os.replace(src, directory / name)  # 2. new file in place (not yet trusted)
        meta["sha256"][name] = digest
        meta["onnx"][name] = {"opset": OPSET, "quantized": None if variant == "fp32" else "dynamic int8",
                              "source_sha256": meta["sha256"]["model.safetensors"], "max_abs_diff": diff,
                              "exported": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                              "torch": torch.__version__, "onnx": onnx.__version__, "sentiment_lab": __version__}
        write_json(directory / "config.json", meta)  # 3. trusted
        out[variant] = {"path": str(directory / name), "bytes": (directory / name).stat().st_size,
                        "max_abs_diff": diff}
    return out
