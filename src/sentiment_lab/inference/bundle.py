"""Model bundles: a directory of safetensors + JSON + a model card. Never pickle.

    config.json        the full run config, architecture, labels, versions, file checksums
    tokenizer.json     the fitted `tokenizers` tokenizer
    model.safetensors  the weights
    metrics.json       test (and validation) metrics measured at training time
    history.json       per-epoch training history
    README.md          the model card

The checksums in config.json make a truncated, altered or partial bundle fail on load with
a message naming the file, instead of producing wrong predictions: its "sha256" table must list
exactly the files above but README.md (plus model.onnx / model.int8.onnx when exported), and
config.json checks itself ("manifest_sha256"); see integrity.py. They detect corruption, not a
deliberate forgery.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetensors import SafetensorError

from sentiment_lab import __version__
from sentiment_lab.fileio import check_dir_target, swap_dir, write_bytes, write_json, write_text
from sentiment_lab.config import Config
from sentiment_lab.exceptions import BundleError, SentimentLabError
from sentiment_lab.inference.integrity import Layout, file_sha256, seal, verify
from sentiment_lab.inference.postprocess import LABELS
from sentiment_lab.inference.shipped import default_bundle, resolve_model  # noqa: F401  (the names callers import from here)
from sentiment_lab.text.tokenizer import TextEncoder

if TYPE_CHECKING:  # torch is imported lazily: the NumPy runtime loads bundles without it
    import torch

FORMAT_VERSION = 1
CHECKED = ("tokenizer.json", "model.safetensors", "metrics.json", "history.json")
ONNX_EXPORTS = ("model.onnx", "model.int8.onnx")  # onnx_backend.ONNX_FILES, written by onnx_export
#: what a bundle's config.json must list; the ONNX exports and their "onnx" section come after sealing
LAYOUT = Layout("bundle", "config.json", required=CHECKED, optional=ONNX_EXPORTS, unsealed=("onnx",))


_sha256 = file_sha256  # the name onnx_export and older callers import


def save_pretrained(directory: str | Path, model: "torch.nn.Module", encoder: TextEncoder, cfg: Config,
                    metrics: dict[str, Any] | None = None, history: list[dict] | None = None,
                    card: str | None = None) -> Path:
    """Write a bundle into a temporary sibling directory, then swap it into place."""
    from safetensors.torch import save

    directory = check_dir_target(directory, "config.json")
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}."))
    try:
        # through fileio, as every other file: a full disk is a plain OSError (ENOSPC), which the
        # CLI reports in one line, not safetensors' SafetensorError or the tokenizers' Exception
        write_text(tmp / "tokenizer.json", encoder.tokenizer.to_str(pretty=True))
        state = {k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()}
        write_bytes(tmp / "model.safetensors", save(state, metadata={"format": "pt"}))
        write_json(tmp / "metrics.json", metrics or {})
        write_json(tmp / "history.json", history or [])
        meta = {"format_version": FORMAT_VERSION, "sentiment_lab_version": __version__,
                "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "labels": LABELS, "vocab_size": encoder.vocab_size, "config": cfg.to_dict(),
                "sha256": {name: _sha256(tmp / name) for name in CHECKED}}
        write_json(tmp / "config.json", seal(meta, LAYOUT))
        write_text(tmp / "README.md", card or model_card(meta, metrics or {}))
        swap_dir(tmp, directory, "config.json")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def copy_bundle(source: str | Path, directory: str | Path, expected_sha256: dict[str, str] | None = None) -> Path:
    """Copy a bundle (config.json, README.md and every file its manifest lists, ONNX exports
    included) into `directory` through a temporary sibling swapped into place. The copy is
    verified before the swap; `expected_sha256` (the manifest the bundle was loaded with) must
    match it, so a bundle replaced since it was loaded is refused rather than saved instead."""
    source = Path(source)
    if expected_sha256 is not None and _raw_meta(source).get("sha256") != expected_sha256:
        raise BundleError(f"bundle {source} changed since it was loaded; load it again before saving")
    names = ["config.json", *read_meta(source)["sha256"]]  # verified: plain names of the expected files
    names += ["README.md"] if (source / "README.md").is_file() else []
    directory = check_dir_target(directory, "config.json")
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}."))
    try:
        for name in names:
            shutil.copyfile(source / name, tmp / name)
        copied = read_meta(tmp)
        if expected_sha256 is not None and copied.get("sha256") != expected_sha256:
            raise BundleError(f"bundle {source} changed since it was loaded; load it again before saving")
        swap_dir(tmp, directory, "config.json")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def _raw_meta(directory: Path) -> dict[str, Any]:
    """config.json as written, unverified ({} when unreadable: read_meta says why)."""
    try:
        meta = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return meta if isinstance(meta, dict) else {}


def read_meta(directory: str | Path) -> dict[str, Any]:
    """config.json of a bundle, verified (integrity.verify): it lists exactly the bundle's
    files, each matches its checksum, and config.json matches its own."""
    directory = Path(directory)
    if not directory.is_dir():
        raise BundleError(f"model bundle not found: {directory}")
    path = directory / "config.json"
    if not path.is_file():
        raise BundleError(f"{directory} is not a model bundle: config.json is missing")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:
        # JSONDecodeError and UnicodeDecodeError are ValueErrors, as is int()'s refusal of a number
        # of over 4,300 digits; RecursionError: arrays nested 100,000 deep
        raise BundleError(f"{path} is not valid JSON: {' '.join(str(exc).split()) or type(exc).__name__}") from None
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        if (directory / "bundle" / "config.json").is_file():
            raise BundleError(f"{directory} is a run folder; its model bundle is {directory / 'bundle'}")
        raise BundleError(f"{path}: unsupported bundle format {meta.get('format_version') if isinstance(meta, dict) else None!r}")
    verify(directory, meta, LAYOUT)
    return meta


def load_parts(directory: str | Path) -> tuple[Config, TextEncoder, dict[str, Any]]:
    """(config, encoder, metadata) of a verified bundle, without touching the weights."""
    directory = Path(directory)
    meta = read_meta(directory)
    try:
        if not isinstance(meta.get("config"), dict):
            raise BundleError("no \"config\" table")
        cfg = Config.from_dict(meta["config"])
    except (SentimentLabError, KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        # Config.from_dict checks types and bounds (ConfigError); anything else it lets through
        # is still a bad bundle, in one line, not a traceback
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise BundleError(f"{directory}/config.json: bad config: {detail}") from None
    encoder = TextEncoder.load(directory / "tokenizer.json", cfg.text.max_len, cfg.text.truncation)
    return cfg, encoder, meta


def load_pretrained(directory: str | Path, backend: str = "torch") -> tuple[Any, TextEncoder, Config, dict[str, Any]]:
    """(model, encoder, config, bundle metadata) from a verified bundle. backend "torch":
    an RNNClassifier in eval mode on CPU; "numpy": a runtime.NumpyRNN (no torch import)."""
    directory = Path(directory)
    cfg, encoder, meta = load_parts(directory)
    path = directory / "model.safetensors"
    try:
        if backend == "numpy":
            from sentiment_lab.inference.numpy_backend import NumpyRNN

            model = NumpyRNN.load(cfg.model, path)
            _check_shapes(model.w, cfg, encoder.vocab_size, directory)
        else:
            from safetensors.torch import load_file

            from sentiment_lab.models import build_model

            model = build_model(cfg.model, encoder.vocab_size)
            model.load_state_dict(load_file(str(path)))
            model.eval()
    except (SafetensorError, RuntimeError, OSError, KeyError) as exc:
        # one line: torch's "Error(s) in loading state_dict" header, then what did not fit, by name
        detail = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        raise BundleError(f"{path} does not fit the architecture: {detail}") from None
    return model, encoder, cfg, meta


def _check_shapes(state: dict[str, Any], cfg: Config, vocab_size: int, directory: Path) -> None:
    """Every tensor the NumPy forward pass reads is present with its expected shape (the torch
    path gets the same guarantee from load_state_dict's strict check)."""
    from sentiment_lab.inference.numpy_backend import NumpyRNN

    for name, shape in NumpyRNN.expected_shapes(cfg.model, vocab_size).items():
        found = state.get(name)
        if found is None or tuple(found.shape) != shape:
            raise BundleError(f"{directory}/model.safetensors does not fit the architecture: {name} has shape "
                              f"{None if found is None else tuple(found.shape)}, expected {shape}")


def model_card(meta: dict[str, Any], metrics: dict[str, Any]) -> str:
    """The bundle's README.md (Markdown), from templates/model_card.md.j2: architecture,
    tokenizer, data, training settings, measured metrics and limits."""
    return _card_template().render(meta=meta, metrics=metrics)


@functools.lru_cache(maxsize=1)
def _card_template() -> Any:
    import jinja2  # lazily: loading a bundle for prediction never renders a card

    env = jinja2.Environment(loader=jinja2.PackageLoader("sentiment_lab.inference", "templates"),
                             autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["spec"] = format  # {{ n | spec(",") }} is f"{n:,}"
    env.filters["basename"] = lambda path: Path(path).name
    env.globals["nan"] = float("nan")
    return env.get_template("model_card.md.j2")
