"""Bundle checksums are enforced (security audit): config.json must list exactly the bundle's
files (ONNX exports verified when listed), only plain names inside the bundle, and it checks
its own content (manifest_sha256); bundles written before that field still load when they
list the full set. One verify function serves RNN bundles and baselines (test_baselines.py).
Out-of-range config values in a bundle fail in one line."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from sentiment_lab.exceptions import BundleError, SentimentLabError
from sentiment_lab.inference import integrity
from sentiment_lab.inference.bundle import CHECKED, LAYOUT, _sha256, load_pretrained, read_meta
from sentiment_lab.inference.shipped import available, shipped_bundle
from sentiment_lab.inference.classifier import SentimentClassifier

NEGATIVE = "terrible awful bad"


@pytest.fixture
def bundle_copy(tiny_bundle, tmp_path):
    return shutil.copytree(tiny_bundle, tmp_path / "b")


def _meta(d: Path) -> dict:
    return json.loads((d / "config.json").read_text(encoding="utf-8"))


def _write(d: Path, meta: dict, sealed: bool | None = None) -> None:
    """Write config.json; sealed=True recomputes manifest_sha256 (a consistent manifest),
    False drops it (a bundle written before the field existed), None leaves it as it is."""
    if sealed:
        integrity.seal(meta, LAYOUT)
    elif sealed is False:
        meta.pop(integrity.DIGEST, None)
    (d / "config.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")


def _refused(d: Path, match: str) -> str:
    with pytest.raises(BundleError, match=match) as info:
        SentimentClassifier.from_pretrained(d)
    message = str(info.value)
    assert "\n" not in message
    return message


def _pump_the_positive_logit(d: Path) -> None:
    from safetensors.numpy import load_file, save_file

    state = load_file(str(d / "model.safetensors"))
    bias = next(k for k in state if k.startswith("head") and k.endswith("bias"))
    state[bias] = state[bias] + 1000.0
    save_file(state, str(d / "model.safetensors"), metadata={"format": "pt"})


def test_new_bundles_are_sealed_and_the_seal_survives_reformatting(bundle_copy):
    meta = _meta(bundle_copy)
    assert set(meta["sha256"]) == set(CHECKED)
    assert meta[integrity.DIGEST] == integrity.manifest_digest(meta, LAYOUT)
    # a digest of the canonical JSON, not of the bytes: re-indented, keys reordered, it still loads
    (bundle_copy / "config.json").write_text(json.dumps(meta, sort_keys=True, ensure_ascii=True))
    assert read_meta(bundle_copy) == meta


@pytest.mark.parametrize("legacy", [False, True], ids=["sealed", "legacy"])
def test_altered_weights_with_the_sha256_table_deleted_are_refused(bundle_copy, legacy):
    """Audit: with "sha256" deleted, altered weights loaded and answered P(positive) = 1.0."""
    _pump_the_positive_logit(bundle_copy)
    meta = _meta(bundle_copy)
    del meta["sha256"]
    _write(bundle_copy, meta, sealed=False if legacy else None)
    _refused(bundle_copy, "changed: config.json does not match its own checksum" if not legacy
             else "is incomplete: config.json has no sha256 table")


@pytest.mark.parametrize("legacy", [False, True], ids=["resealed", "legacy"])
def test_a_manifest_listing_only_the_tokenizer_is_refused(bundle_copy, legacy):
    """Audit: a manifest naming only tokenizer.json loaded. Even a consistent (re-sealed)
    manifest must list every file of a bundle."""
    _pump_the_positive_logit(bundle_copy)
    meta = _meta(bundle_copy)
    meta["sha256"] = {"tokenizer.json": meta["sha256"]["tokenizer.json"]}
    _write(bundle_copy, meta, sealed=not legacy)
    _refused(bundle_copy, r"is incomplete: config.json does not list model.safetensors in its sha256 table")


@pytest.mark.parametrize("name", CHECKED)
def test_every_checked_file_must_be_listed(bundle_copy, name):
    meta = _meta(bundle_copy)
    del meta["sha256"][name]
    _write(bundle_copy, meta, sealed=True)
    _refused(bundle_copy, f"is incomplete: config.json does not list {name}")


def test_config_json_itself_is_checked(bundle_copy):
    """Audit: max_len 400 -> 2 in config.json's "config" section loaded silently."""
    original = _meta(bundle_copy)
    meta = _meta(bundle_copy)
    meta["config"]["text"]["max_len"] = 2
    _write(bundle_copy, meta)
    message = _refused(bundle_copy, "was changed: config.json does not match its own checksum")
    assert message.startswith(f"bundle {bundle_copy} was changed")
    for edit in (lambda m: m.update(labels=["positive", "negative"]), lambda m: m.update(vocab_size=3),
                 lambda m: m["sha256"].update({"metrics.json": "0" * 64}), lambda m: m.pop("created"),
                 lambda m: m.update({integrity.DIGEST: "0" * 64}), lambda m: m.update(extra=1)):
        meta = json.loads(json.dumps(original))
        edit(meta)
        _write(bundle_copy, meta)
        with pytest.raises(BundleError, match="config.json does not match its own checksum"):
            read_meta(bundle_copy)
    _write(bundle_copy, original)
    assert read_meta(bundle_copy) == original


@pytest.mark.parametrize("name", ["/etc/hostname", "../b/tokenizer.json", "sub/tokenizer.json", "..",
                                  "..\\tokenizer.json", "C:\\Windows\\win.ini", "C:tokenizer.json"])
def test_a_manifest_naming_a_path_outside_the_bundle_is_refused_before_hashing(bundle_copy, name, monkeypatch):
    """Audit: an entry "/etc/hostname" made the loader hash a file outside the bundle."""
    hashed = []
    real = integrity.file_sha256
    monkeypatch.setattr(integrity, "file_sha256", lambda p: hashed.append(Path(p)) or real(p))
    meta = _meta(bundle_copy)
    meta["sha256"][name] = "0" * 64
    _write(bundle_copy, meta, sealed=True)
    message = _refused(bundle_copy, "was changed: config.json lists .* which is not a file of the bundle")
    assert repr(name) in message and hashed == []


def test_an_unexpected_file_in_the_manifest_is_refused(bundle_copy):
    (bundle_copy / "notes.txt").write_text("mine")
    meta = _meta(bundle_copy)
    meta["sha256"]["notes.txt"] = _sha256(bundle_copy / "notes.txt")
    _write(bundle_copy, meta, sealed=True)
    _refused(bundle_copy, "was changed: config.json lists an unexpected file 'notes.txt'")


def test_onnx_exports_are_optional_but_verified_when_listed(bundle_copy):
    """An export adds its entry after sealing (onnx_export.py is unchanged): no seal update is
    needed, and a listed export must be present and intact."""
    (bundle_copy / "model.onnx").write_bytes(b"not really onnx")
    meta = _meta(bundle_copy)
    meta["sha256"]["model.onnx"] = _sha256(bundle_copy / "model.onnx")
    meta["onnx"] = {"model.onnx": {"source_sha256": meta["sha256"]["model.safetensors"]}}
    _write(bundle_copy, meta)  # not re-sealed, as the exporter writes it
    assert read_meta(bundle_copy)["sha256"]["model.onnx"]
    (bundle_copy / "model.onnx").write_bytes(b"not really onnx, altered")
    _refused(bundle_copy, "was changed: model.onnx does not match its checksum")
    (bundle_copy / "model.onnx").unlink()
    _refused(bundle_copy, "is incomplete: model.onnx is missing")


def test_the_onnx_names_are_the_exporters():
    from sentiment_lab.inference.onnx_backend import ONNX_FILES

    assert set(LAYOUT.optional) == set(ONNX_FILES.values())


def test_a_bundle_written_before_the_seal_still_loads(bundle_copy, tiny_bundle):
    meta = _meta(bundle_copy)
    _write(bundle_copy, meta, sealed=False)
    texts = ["the film was great", NEGATIVE]
    assert np.array_equal(SentimentClassifier.from_pretrained(bundle_copy).predict_proba(texts),
                          SentimentClassifier.from_pretrained(tiny_bundle).predict_proba(texts))
    # but not with its config edited and a file dropped from its table
    meta["sha256"].pop("history.json")
    _write(bundle_copy, meta, sealed=False)
    _refused(bundle_copy, "is incomplete: config.json does not list history.json")


@pytest.mark.parametrize("name", available())
def test_every_shipped_bundle_is_sealed_and_verified(name):
    meta = read_meta(shipped_bundle(name))
    assert set(meta["sha256"]) == set(CHECKED)
    assert meta.get(integrity.DIGEST) == integrity.manifest_digest(meta, LAYOUT)


def test_save_and_copy_keep_the_seal(tiny_bundle, tmp_path):
    clf = SentimentClassifier.from_pretrained(tiny_bundle)
    out = clf.save_pretrained(tmp_path / "copy")
    assert _meta(out) == _meta(tiny_bundle)
    from sentiment_lab.inference.bundle import save_pretrained

    again = save_pretrained(tmp_path / "again", clf.model, clf.encoder, clf.config)
    assert read_meta(again)["sha256"] == read_meta(tiny_bundle)["sha256"] | {
        "metrics.json": _sha256(again / "metrics.json"), "history.json": _sha256(again / "history.json")}
    assert (again / "tokenizer.json").read_bytes() == (tiny_bundle / "tokenizer.json").read_bytes()
    assert (again / "model.safetensors").read_bytes() == (tiny_bundle / "model.safetensors").read_bytes()


# ---- config values (audit item 2) ----

@pytest.mark.parametrize("legacy", [False, True], ids=["resealed", "legacy"])
@pytest.mark.parametrize("section, key, value, match", [
    ("model", "hidden_size", 1e23, "model.hidden_size must be > 0"),
    ("model", "hidden_size", "wide", "hidden_size"),
    ("text", "max_len", -1, "max_len"),
    ("train", "lr", float("inf"), "lr"),
    (None, "config", "not a table", "bad config"),
    (None, "config", None, "bad config"),
])
@pytest.mark.parametrize("backend", ["torch", "numpy"])
def test_an_out_of_range_config_value_is_one_line(bundle_copy, section, key, value, match, legacy, backend):
    """Audit: hidden_size = 1e23 in a bundle's config gave a raw TypeError traceback."""
    meta = _meta(bundle_copy)
    (meta["config"][section] if section else meta)[key] = value
    _write(bundle_copy, meta, sealed=not legacy)
    with pytest.raises(SentimentLabError, match=match) as info:
        load_pretrained(bundle_copy, backend=backend)
    assert isinstance(info.value, BundleError) and "\n" not in str(info.value)
    assert str(info.value).startswith(f"{bundle_copy}/config.json: bad config")
