"""The models shipped inside the package, chosen by name: `-m imdb`, `from_pretrained("imdb")`.

    general   the default: English film and product reviews, long or one sentence
    imdb      the course's model: a BiLSTM trained on IMDB movie reviews

Each lives in `sentiment_lab/shipped/<name>/` as an ordinary bundle (package data). The rule
for a model reference, everywhere one is taken (CLI `-m`, `from_pretrained`, the server):

    None                      the default shipped model (DEFAULT_MODEL)
    "imdb" (a str, a name)    the shipped model of that name, even if ./imdb exists:
                              the bare name always means the same thing, in any folder
    "./imdb", "runs/x/bundle" a bundle folder (write ./NAME for a folder named like a model)
    Path("imdb")              a bundle folder: a Path object is always a path

A shipped name whose folder is absent (a trimmed install, or `general` before it lands) is one
line listing the shipped models that are present. This module reads only JSON, never the
weights, and imports nothing above it (bundle.py imports it for `default_bundle`).
"""
from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

from sentiment_lab.exceptions import BundleError

#: name -> what it is, in a few words (the card in its folder says the rest)
SHIPPED: dict[str, str] = {
    "general": "English reviews: long and one-sentence film reviews, product reviews (IMDB + SST-2 + Amazon)",
    "imdb": "IMDB movie reviews (the course's model)",
}
DEFAULT_MODEL = "general"  # the model used when none is named


def shipped_dir(name: str) -> Path:
    """The folder of shipped model `name`, present or not."""
    return Path(str(resources.files("sentiment_lab").joinpath("shipped", name)))


def available() -> list[str]:
    """The shipped names whose bundle is present in this install, in registry order."""
    return [name for name in SHIPPED if (shipped_dir(name) / "config.json").is_file()]


def _names() -> str:
    return ", ".join(available()) or "none"


def shipped_bundle(name: str) -> Path:
    """The folder of shipped model `name`; a clear error when the name is unknown or absent."""
    if name not in SHIPPED:
        raise BundleError(f"unknown shipped model {name!r}; shipped models: {_names()}")
    path = shipped_dir(name)
    if not (path / "config.json").is_file():
        raise BundleError(f"shipped model {name!r} is not in this install; shipped models: {_names()}")
    return path


def default_bundle() -> Path:
    """The default shipped model's folder (DEFAULT_MODEL)."""
    return shipped_bundle(DEFAULT_MODEL)


def is_shipped_name(ref: object) -> bool:
    """Whether `ref` names a shipped model: a str equal to a registry name (not a Path, not ./name)."""
    return isinstance(ref, str) and not isinstance(ref, os.PathLike) and ref in SHIPPED


def resolve_model(ref: "str | os.PathLike[str] | None") -> Path:
    """The bundle folder a model reference means (the rule in the module docstring)."""
    if ref is None:
        return default_bundle()
    if is_shipped_name(ref):
        return shipped_bundle(str(ref))
    path = Path(ref)
    if isinstance(ref, str) and not path.exists():
        if os.sep not in ref and "/" not in ref:
            raise BundleError(f"model not found: {ref!r} is neither a shipped model ({_names()}) nor a bundle folder")
        if path.name in SHIPPED:  # "./imdb" with no such folder: the user may have meant the shipped one
            raise BundleError(f"model bundle not found: {ref} (for the shipped model, write {path.name})")
    return path


def shipped_name(path: "str | os.PathLike[str]") -> str | None:
    """The shipped name of a bundle folder, or None when it is not one of the shipped models."""
    try:
        where = Path(path).resolve()
    except OSError:
        return None
    return next((name for name in SHIPPED if shipped_dir(name).resolve() == where), None)


def describe(path: "str | os.PathLike[str]", name: str | None = None) -> dict[str, Any]:
    """What a bundle is, from its JSON alone (the weights are not read, nor verified: loading
    does that): name, language, training data, test accuracy per dataset, size in bytes."""
    path = Path(path)
    meta = _json(path / "config.json")
    cfg = meta.get("config", {}) if isinstance(meta.get("config"), dict) else {}
    data = cfg.get("data", {}) if isinstance(cfg.get("data"), dict) else {}
    text = cfg.get("text", {}) if isinstance(cfg.get("text"), dict) else {}
    name = name or shipped_name(path) or path.name
    return {"name": name, "language": text.get("language") or "en",
            "data": str(data.get("source", "?")), "summary": SHIPPED.get(name, ""),
            "test_accuracy": accuracy_by_dataset(_json(path / "metrics.json"), str(data.get("source", "test"))),
            "size_bytes": sum(f.stat().st_size for f in path.iterdir() if f.is_file()),
            "default": name == DEFAULT_MODEL and shipped_name(path) == DEFAULT_MODEL}


def accuracy_by_dataset(metrics: dict[str, Any], source: str) -> dict[str, float]:
    """{dataset: test accuracy}: each source of a mixture, else the one dataset trained on."""
    by_source = metrics.get("test_by_source")
    if isinstance(by_source, dict) and by_source:
        return {s: float(m["accuracy"]) for s, m in by_source.items() if isinstance(m, dict) and "accuracy" in m}
    test = metrics.get("test")
    return {source: float(test["accuracy"])} if isinstance(test, dict) and "accuracy" in test else {}


def _json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}
