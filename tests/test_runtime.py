"""The NumPy runtime agrees with the PyTorch model on every architecture, and the CLI's
sentence path does not import torch."""
import subprocess
import sys

import numpy as np
import pytest
import torch

from sentiment_lab.config import ModelConfig
from sentiment_lab.models import REGISTRY, build_model
from sentiment_lab.inference.numpy_backend import NumpyRNN
from sentiment_lab.text.tokenizer import pad_batch

VARIANTS = [dict(), dict(pooling="max"), dict(pooling="mean"), dict(pooling="attention"), dict(num_layers=2),
            dict(bidirectional=True), dict(bidirectional=True, num_layers=2, pooling="attention"),
            dict(bidirectional=True, pooling="max"),
            dict(bidirectional=True, pooling="max", ngram_buckets=23, ngram_order=3),
            dict(bidirectional=True, pooling="attention", ngram_buckets=23, bag_buckets=29, bag_order=3),
            dict(bag_buckets=31, bag_order=1)]


@pytest.mark.parametrize("arch", sorted(REGISTRY))
@pytest.mark.parametrize("kw", VARIANTS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default")
def test_numpy_equals_torch(arch, kw):
    torch.manual_seed(0)
    cfg = ModelConfig(arch=arch, embedding_dim=8, hidden_size=6, **kw)
    model = build_model(cfg, 40).eval()
    for p in model.parameters():  # larger weights than the init, so that every gate matters
        torch.nn.init.normal_(p, std=0.5)
    rng = np.random.default_rng(0)
    ids, lengths = pad_batch([rng.integers(2, 40, size=n) for n in (7, 1, 12, 3)])
    with torch.no_grad():
        expected = model(torch.from_numpy(ids), torch.from_numpy(lengths)).numpy()
    got = NumpyRNN(cfg, {k: v.numpy() for k, v in model.state_dict().items()}).logits(ids, lengths)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    # the load-time shape check knows exactly the tensors the torch model has
    assert NumpyRNN.expected_shapes(cfg, 40) == {k: tuple(v.shape) for k, v in model.state_dict().items()}


def test_classifier_backends_agree(tiny_bundle):
    from sentiment_lab.inference.classifier import SentimentClassifier

    texts = ["good film", "bad bad film", "an utterly forgettable evening"]
    a = SentimentClassifier.from_pretrained(tiny_bundle).predict_proba(texts)
    b = SentimentClassifier.from_pretrained(tiny_bundle, backend="numpy").predict_proba(texts)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_sentence_prediction_never_imports_torch(tiny_bundle):
    code = ("import sys; from sentiment_lab.cli import main; sys.argv=['sentiment-lab','predict','-m',sys.argv[1],'good film'];"
            "\ntry: main()\nexcept SystemExit: pass\nassert 'torch' not in sys.modules, 'torch was imported'")
    proc = subprocess.run([sys.executable, "-c", code, str(tiny_bundle)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "positive" in proc.stdout or "negative" in proc.stdout


def test_runners_share_one_interface(tiny_bundle):
    """torch, numpy (and onnx, tests/test_onnx.py) answer predict_logits(seqs, batch_size) over one
    sorted-batch helper: float32 logits in input order, whatever the batch size; the torch runner
    gives exactly what training's evaluation (text.batching.predict_logits) gives."""
    from sentiment_lab.inference.classifier import SentimentClassifier
    from sentiment_lab.text.batching import predict_logits

    texts = ["good film", "bad bad film", "an utterly forgettable evening", "fine", "good " * 30]
    logits = {}
    for backend in ("torch", "numpy"):
        clf = SentimentClassifier.from_pretrained(tiny_bundle, backend=backend)
        seqs = clf.encoder.encode(texts)
        out = clf.runner.predict_logits(seqs)
        assert out.dtype == np.float32 and out.shape == (len(texts),)
        for batch_size in (1, 2):
            np.testing.assert_allclose(clf.runner.predict_logits(seqs, batch_size), out, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(clf.runner.predict_logits(seqs[::-1])[::-1], out)
        logits[backend] = out
    np.testing.assert_allclose(logits["numpy"], logits["torch"], rtol=1e-4, atol=1e-5)
    clf = SentimentClassifier.from_pretrained(tiny_bundle)
    seqs = clf.encoder.encode(texts)
    np.testing.assert_array_equal(clf.runner.predict_logits(seqs), predict_logits(clf.model, seqs, 0, clf.device))
