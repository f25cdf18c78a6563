"""ONNX export and the onnxruntime backend: the exported graph equals PyTorch's packed
reference on every architecture variant, `export` keeps the bundle's sha256 manifest
consistent, and backend="auto" only trusts a current, listed model.onnx."""
import json
import shutil

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from sentiment_lab.config import ModelConfig
from sentiment_lab.models import REGISTRY, build_model
from sentiment_lab.text.tokenizer import pad_batch

pytest.importorskip("onnxruntime")

from sentiment_lab.inference.classifier import SentimentClassifier  # noqa: E402
from sentiment_lab.inference.shipped import shipped_bundle  # noqa: E402
from sentiment_lab.exceptions import BundleError  # noqa: E402
from sentiment_lab.inference.onnx_export import PaddedGraph, export_onnx  # noqa: E402

VARIANTS = [dict(), dict(pooling="max"), dict(pooling="mean"), dict(pooling="attention"), dict(num_layers=2),
            dict(bidirectional=True), dict(bidirectional=True, num_layers=2, pooling="attention"),
            dict(bidirectional=True, pooling="max"),
            dict(bidirectional=True, pooling="max", ngram_buckets=23, ngram_order=3),
            dict(bidirectional=True, pooling="mean", num_layers=2),
            dict(bidirectional=True, pooling="attention", ngram_buckets=23, bag_buckets=29)]
TEXTS = ["the film was great", "awful boring plot", "great great acting but an awful , dull ending",
         "a film", "zorblax"]


def random_model(arch: str, **kw) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_model(ModelConfig(arch=arch, embedding_dim=8, hidden_size=6, **kw), 40).eval()
    for p in model.parameters():  # larger weights than the init, so that every gate matters
        torch.nn.init.normal_(p, std=0.5)
    return model


def batch(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return pad_batch([rng.integers(2, 40, size=n) for n in (7, 1, 12, 3, 30)])


def packed(model, ids, lengths) -> np.ndarray:
    model.run_mode = "packed"
    with torch.no_grad():
        return model(torch.from_numpy(ids), torch.from_numpy(lengths)).numpy()


@pytest.mark.parametrize("arch", sorted(REGISTRY))
@pytest.mark.parametrize("kw", VARIANTS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default")
def test_padded_graph_equals_packed(arch, kw):
    """The module that gets exported, run eagerly, equals the packed reference."""
    model = random_model(arch, **kw)
    ids, lengths = batch()
    with torch.no_grad():
        got = PaddedGraph(model).eval()(torch.from_numpy(ids), torch.from_numpy(lengths)).numpy()
    np.testing.assert_allclose(got, packed(model, ids, lengths), rtol=1e-5, atol=1e-6)


EXPORTED = [("lstm.v1", kw) for kw in VARIANTS] + [(a, kw) for a in ("gru.v1", "rnn.v1")
                                                   for kw in (dict(), dict(bidirectional=True, pooling="max"))]


@pytest.mark.parametrize("arch,kw", EXPORTED, ids=lambda x: x if isinstance(x, str) else
                         ",".join(f"{k}={v}" for k, v in x.items()) or "default")
def test_onnx_graph_equals_torch(arch, kw, tmp_path):
    """Exported and run by onnxruntime, at batch and time sizes other than the tracing ones."""
    from sentiment_lab.inference.onnx_export import _export_graph
    from sentiment_lab.inference.onnx_backend import OnnxRNN

    model = random_model(arch, **kw)
    _export_graph(model, tmp_path / "m.onnx")
    rt = OnnxRNN(tmp_path / "m.onnx")
    for seed in (0, 1):
        ids, lengths = batch(seed)
        np.testing.assert_allclose(rt.logits(ids, lengths), packed(model, ids, lengths), rtol=1e-4, atol=1e-5)
    ids, lengths = pad_batch([np.array([5, 6, 7])])  # batch of one, no padding
    np.testing.assert_allclose(rt.logits(ids, lengths), packed(model, ids, lengths), rtol=1e-4, atol=1e-5)


@pytest.fixture
def bundle_copy(tiny_bundle, tmp_path):
    return shutil.copytree(tiny_bundle, tmp_path / "bundle")


def test_export_into_bundle_updates_manifest(bundle_copy):
    from sentiment_lab.inference.bundle import _sha256, read_meta

    result = export_onnx(bundle_copy, quantize="int8")
    assert result["fp32"]["max_abs_diff"] < 1e-4
    meta = read_meta(bundle_copy)  # verifies every checksum, the new ones included
    for name in ("model.onnx", "model.int8.onnx"):
        assert meta["sha256"][name] == _sha256(bundle_copy / name)
        assert meta["onnx"][name]["source_sha256"] == meta["sha256"]["model.safetensors"]
    assert not [p.name for p in bundle_copy.iterdir() if p.name.startswith(".")]  # no temp left behind
    ref = SentimentClassifier.from_pretrained(bundle_copy).predict_proba(TEXTS)
    for backend, tol in (("onnx", 1e-5), ("auto", 1e-5), ("onnx-int8", 0.02)):
        clf = SentimentClassifier.from_pretrained(bundle_copy, backend=backend)
        assert clf.backend in ("onnx", "onnx-int8")
        np.testing.assert_allclose(clf.predict_proba(TEXTS), ref, atol=tol)
    assert SentimentClassifier.from_pretrained(bundle_copy, backend="auto")("the film was great")["label"] == \
        SentimentClassifier.from_pretrained(bundle_copy)("the film was great")["label"]
    export_onnx(bundle_copy)  # re-export: still consistent
    read_meta(bundle_copy)


def test_only_a_listed_onnx_file_is_trusted(bundle_copy, tiny_bundle):
    export_onnx(bundle_copy)
    (bundle_copy / "model.onnx").write_bytes((bundle_copy / "model.onnx").read_bytes()[:-10])
    with pytest.raises(BundleError, match="model.onnx does not match its checksum"):
        SentimentClassifier.from_pretrained(bundle_copy, backend="auto")
    # a model.onnx dropped into a bundle by hand (not in the manifest) is ignored by auto, refused by onnx
    other = shutil.copytree(tiny_bundle, bundle_copy.parent / "other")
    shutil.copy(bundle_copy / "model.safetensors", other / "model.onnx")
    assert SentimentClassifier.from_pretrained(other, backend="auto").backend == "torch"
    with pytest.raises(BundleError, match="sentiment-lab export"):
        SentimentClassifier.from_pretrained(other, backend="onnx")
    with pytest.raises(ValueError, match="backend must be one of"):
        SentimentClassifier.from_pretrained(other, backend="tensorrt")


def test_onnx_backend_does_not_import_torch(bundle_copy):
    import subprocess
    import sys

    export_onnx(bundle_copy)
    code = ("import sys; from sentiment_lab import SentimentClassifier as S; c = S.from_pretrained(sys.argv[1], "
            "backend='auto'); print(c.backend, c('the film was great')['label']); assert 'torch' not in sys.modules")
    proc = subprocess.run([sys.executable, "-c", code, str(bundle_copy)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["onnx", "positive"]


def test_cli_export(bundle_copy, tmp_path):
    from sentiment_lab.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["export", str(bundle_copy), "--format", "onnx", "-o", str(tmp_path / "m.onnx"), "-q", "int8"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "m.onnx").is_file() and (tmp_path / "m.int8.onnx").is_file()
    assert "model.onnx" not in json.loads((bundle_copy / "config.json").read_text())["sha256"]  # bundle untouched
    for args, msg in ((["--format", "tflite"], "--format must be onnx"), ([], "package data"),
                      ([str(bundle_copy), "-q", "int4"], "--quantize must be int8"),
                      ([str(bundle_copy), "-o", str(tmp_path)], "already exists"),
                      # a second export over m.onnx left the first one's m.int8.onnx beside a different model
                      ([str(bundle_copy), "-o", str(tmp_path / "m.onnx")], "m.onnx or " + str(tmp_path / "m.int8.onnx")),
                      ([str(bundle_copy), "-o", str(tmp_path / "m.int8.onnx")], "m.int8.onnx already exists")):
        r = runner.invoke(app, ["export", *args])
        assert r.exit_code == 1 and r.output.startswith("error:") and msg in r.output, r.output


def test_shipped_model_exports_equal(tmp_path):
    """The shipped imdb BiLSTM (20k vocab, max pooling), exported as a new bundle: equal to
    PyTorch on real-length text, and `auto` picks onnx for it."""
    out = tmp_path / "shipped_onnx"
    result = export_onnx("imdb", out)
    assert result["fp32"]["max_abs_diff"] < 1e-4 and not (shipped_bundle("imdb") / "model.onnx").exists()
    review = ("I went in expecting very little , and this film surprised me . The acting is superb , the plot "
              "moves quickly , and the ending is earned . " * 12)
    texts = [review, "This movie is absolutely fantastic and amazing", "This was a terrible, boring waste of time"]
    ref = SentimentClassifier.from_pretrained("imdb").predict_proba(texts)
    clf = SentimentClassifier.from_pretrained(out, backend="auto")
    assert clf.backend == "onnx"
    np.testing.assert_allclose(clf.predict_proba(texts), ref, atol=1e-5)


def test_the_shipped_model_without_export_names_a_command_that_works():
    from sentiment_lab.inference.onnx_backend import load_onnx

    with pytest.raises(BundleError, match=r"run: sentiment-lab export -m imdb --format onnx --quantize int8 -o DIR, then use -m DIR"):
        load_onnx(shipped_bundle("imdb"), "int8")


def test_save_pretrained_keeps_the_exports(bundle_copy, tmp_path):
    export_onnx(bundle_copy, quantize="int8")
    clf = SentimentClassifier.from_pretrained(bundle_copy, backend="onnx")
    out = clf.save_pretrained(tmp_path / "saved")
    assert (out / "model.onnx").read_bytes() == (bundle_copy / "model.onnx").read_bytes()
    for backend in ("onnx", "onnx-int8"):
        np.testing.assert_array_equal(SentimentClassifier.from_pretrained(out, backend=backend).predict_proba(TEXTS),
                                      SentimentClassifier.from_pretrained(bundle_copy, backend=backend).predict_proba(TEXTS))
