"""The CUDA path. CI and the development machines have no GPU, so every test here is skipped
without one; `benchmarks/gpu_check.sh` runs this file first on a GPU machine, then times training.

Why these checks: on CUDA the code takes paths the CPU never runs (cuDNN's packed RNN kernels,
bf16 autocast by default, the training loop's tensors on the device, bundles written from GPU
weights). cuDNN's RNNs accept bf16 inputs only from cuDNN 9.13 on (pytorch/pytorch#164411), and
PyTorch's non-cuDNN fused cells have no bf16 kernels (pytorch/pytorch#116925, #116763), so a
default CUDA run can fail on one machine and work on another: the first test says which."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import tiny_batch, tiny_config, tiny_model
from sentiment_lab.models import REGISTRY

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (none here)")

CUDA = torch.device("cuda")
VARIANTS = [dict(), dict(bidirectional=True, pooling="attention"), dict(num_layers=2, pooling="max"),
            dict(bidirectional=True, pooling="mean", num_layers=2),
            dict(ngram_buckets=31, ngram_order=2, bag_buckets=29, bidirectional=True, pooling="attention")]
IDS = lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default"  # noqa: E731


@pytest.fixture(autouse=True)
def exact_fp32():
    """TF32 off for the comparisons with the CPU: with it, cuDNN's fp32 RNN rounds its matrix
    products to 10-bit mantissas and a parity test would need loose tolerances."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def test_environment_report():
    """Not a check of our code: prints what the other tests ran on (read it in the log)."""
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, "
          f"{torch.cuda.get_device_name(0)}, bf16 supported: {torch.cuda.is_bf16_supported()}")
    assert torch.backends.cudnn.is_available()


@pytest.mark.parametrize("arch", sorted(REGISTRY))
@pytest.mark.parametrize("kw", VARIANTS, ids=IDS)
def test_cuda_outputs_equal_cpu_outputs(arch, kw):
    """fp32 on the GPU, packed (cuDNN) and padded, equals the CPU model with the same weights."""
    model = tiny_model(arch, **kw)
    ids, lengths = tiny_batch()
    with torch.no_grad():
        want = model(ids, lengths)
        model.to(CUDA)
        for mode in ("packed", "padded"):
            model.run_mode = mode
            got = model(ids.to(CUDA), lengths.to(CUDA)).cpu()
            torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4, msg=f"run_mode={mode}")


@pytest.mark.parametrize("arch", sorted(REGISTRY))
@pytest.mark.parametrize("kw", VARIANTS[:2], ids=IDS)
def test_bf16_autocast_training_step(arch, kw):
    """What `precision = "auto"` does on CUDA: a training-mode forward (dropout masks, DropConnect
    weights) and backward under bf16 autocast runs, gives finite gradients, and its logits stay
    near fp32's for the same masks."""
    model = tiny_model(arch, recurrent_dropout=0.2, input_dropout=0.2, dropout=0.5, **kw).to(CUDA).train()
    ids, lengths = (t.to(CUDA) for t in tiny_batch())
    noise = model.sample_noise(ids.size(0))
    with torch.autocast("cuda", dtype=torch.bfloat16):
        low = model(ids, lengths, noise=noise)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(low.float(), torch.ones_like(low, dtype=torch.float))
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    with torch.no_grad():
        full = model(ids, lengths, noise=noise)
    torch.testing.assert_close(low.float(), full, atol=0.05, rtol=0.05)


@pytest.mark.parametrize("over", [{}, {"model.bidirectional": "true", "model.pooling": "attention",
                                       "model.ngram_buckets": "257", "model.bag_buckets": "263",
                                       "train.adversarial": "0.05", "train.ema": "0.9", "train.grad_clip": "1"}],
                         ids=["seed-like", "best-like"])
def test_training_on_cuda_and_the_bundle_on_cpu(tmp_path, corpus_splits, over):
    """The whole training loop on the GPU with the default precision (bf16 autocast) learns the
    synthetic task, and its bundle, loaded on the CPU in fp32, predicts what the GPU run reported."""
    from sentiment_lab.inference.classifier import SentimentClassifier
    from sentiment_lab.training.loop import fit

    cfg = tiny_config(**{"train.device": "cuda", "train.precision": "auto", **over})
    run = fit(cfg, corpus_splits, tmp_path / "run", progress=False)
    assert next(run.model.parameters()).device.type == "cuda"
    assert run.metrics["test"]["accuracy"] >= 0.9
    clf = SentimentClassifier.from_pretrained(tmp_path / "run" / "bundle", device="cpu", backend="torch")
    texts = [r.text for r in corpus_splits.test]
    cpu_acc = clf.score(texts, [r.label for r in corpus_splits.test])
    assert abs(cpu_acc - run.metrics["test"]["accuracy"]) <= 0.02  # bf16 on the GPU vs fp32 here
    gpu = SentimentClassifier.from_pretrained(tmp_path / "run" / "bundle", device="cuda", backend="torch")
    np.testing.assert_allclose(gpu.predict_proba(texts), clf.predict_proba(texts), atol=1e-4)
