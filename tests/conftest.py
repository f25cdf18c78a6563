"""Shared fixtures: a tiny synthetic corpus, a tiny IMDB-layout archive, and one tiny
bundle trained once per session (seconds on 2 cores)."""
from __future__ import annotations

import contextlib
import io
import os
import tarfile
import tempfile
from pathlib import Path

import pytest

from sentiment_lab.config import load_config
from sentiment_lab.data import Splits, make_corpus, split_train_val

# The on-disk token-id cache (token_cache.py) of every test, CLI subprocesses included, lives
# in a throwaway directory, never in the user's ~/.cache.
os.environ.setdefault("SENTIMENT_LAB_IDS_CACHE", tempfile.mkdtemp(prefix="sentiment-lab-ids-"))

SHARED_IMDB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "imdb" / "aclImdb_v1_labeled.tar.gz"


def small_training_batch(vocab: int = 60, **model_kw):
    """A seeded 8-dim embedding / 6-unit RNNClassifier in training mode (its hashed n-gram table,
    when configured, made non-zero so that it matters) and 7 reviews of 1 to 14 tokens with labels:
    (model, ids, lengths, y). For tests that compare ways of taking one training step."""
    import numpy as np
    import torch

    from sentiment_lab.config import ModelConfig
    from sentiment_lab.models import build_model
    from sentiment_lab.text.tokenizer import pad_batch

    torch.manual_seed(0)
    model = build_model(ModelConfig(embedding_dim=8, hidden_size=6, **model_kw), vocab).train()
    if model.ngrams is not None:
        torch.nn.init.normal_(model.ngrams.table.weight, std=0.5)
    if model.bag is not None:
        torch.nn.init.normal_(model.bag.table.weight, std=0.5)
    rng = np.random.default_rng(1)
    ids, lengths = pad_batch([rng.integers(2, vocab, size=n) for n in (9, 1, 14, 3, 14, 6, 11)])
    y = torch.from_numpy(rng.integers(0, 2, size=7)).float()
    return model, torch.from_numpy(ids), torch.from_numpy(lengths), y



# Split-vs-whole step comparisons (cpu_shards, adversarial steps) measure each fp32 result's
# distance from the same step computed in float64, instead of comparing the two fp32 results
# at a fixed tolerance. A shard's matrix products run on fewer rows, and the CPU's kernels
# (MKL's AVX2 path on AMD EPYC, AVX-512 on Xeon, oneDNN's choices by shape) may sum in another
# order: the split and whole steps then carry different rounding, whose size depends on the CPU
# and the step (VAT's power iteration differences two nearly equal predictions and turns a
# 1e-7 rounding into ~1e-4, benchmarks/results/shard_drift_cpu/). A correct split is as exact as
# the whole step on any CPU: its error, relative to the whole step's error on the same CPU in
# the same run, is a ratio of two rounding errors. Measured over 8 seeds x 9 model/step variants
# the largest such ratio was 3.0 with the Xeon's default kernels and 3.5 with AVX2 kernels forced
# (MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2); a real bug
# (a shard drawing its own VAT directions, a loss not weighted by the shard's share) reads
# 1e3-1e7. The floor keeps a step whose fp32 error happens to be near zero from failing on a
# last-digit difference: 64 units of fp32 roundoff, ~4e-6, far below any bug's 1e-2 or more.
FP32_UNIT_ROUNDOFF = 2.0 ** -24
SPLIT_ERROR_RATIO = 8.0
SPLIT_ERROR_FLOOR = 64 * FP32_UNIT_ROUNDOFF


def relative_error(got, exact) -> float:
    """The largest, over tensors, of ||got - exact|| / ||exact|| (float64), skipping tensors
    that are None or zero in `exact` (parameters the step does not reach)."""
    return max(float((g.double() - e.double()).norm() / e.double().norm())
               for g, e in zip(got, exact) if g is not None and e is not None and float(e.norm()) > 0)


def assert_as_exact_as_whole(split, whole, exact, what: str = "") -> None:
    """`split` (the sharded fp32 step's tensors) is no further from `exact` (float64) than
    SPLIT_ERROR_RATIO times the whole-batch fp32 step's distance, or the floor (see above)."""
    e_whole, e_split = relative_error(whole, exact), relative_error(split, exact)
    limit = SPLIT_ERROR_RATIO * max(e_whole, SPLIT_ERROR_FLOOR)
    assert e_split <= limit, f"{what}: split step's error {e_split:.2e} vs whole step's {e_whole:.2e} (limit {limit:.2e})"


def float64_copy(model, noise):
    """A float64 copy of `model` whose sample_noise returns `noise` (fp32 masks of the step being
    checked) in float64: the exact reference for one training step."""
    import copy

    import torch

    from sentiment_lab.models.rnn import Noise

    def cast(t):
        return None if t is None else t.double()
    exact = copy.deepcopy(model).double()
    exact.sample_noise = lambda n: Noise(cast(noise.input), cast(noise.output), {k: cast(v) for k, v in noise.hh.items()})
    assert exact.head.weight.dtype == torch.float64
    return exact


TINY_VOCAB = 50


def tiny_batch(seed: int = 0):
    """5 reviews of 1 to 12 ids below TINY_VOCAB, padded: (ids, lengths) as CPU tensors."""
    import numpy as np
    import torch

    from sentiment_lab.text.tokenizer import pad_batch

    rng = np.random.default_rng(seed)
    ids, lengths = pad_batch([rng.integers(2, TINY_VOCAB, size=n) for n in (7, 1, 12, 3, 12)])
    return torch.from_numpy(ids), torch.from_numpy(lengths)


def tiny_model(arch: str, **kw):
    """A seeded 8-dim embedding / 6-unit model of `arch` in eval mode over TINY_VOCAB ids; its
    hashed n-gram and bag tables, which start at zero, made non-zero so that they matter."""
    import torch

    from sentiment_lab.config import ModelConfig
    from sentiment_lab.models import build_model

    torch.manual_seed(0)
    model = build_model(ModelConfig(arch=arch, embedding_dim=8, hidden_size=6, **kw), TINY_VOCAB).eval()
    for part in (model.ngrams, model.bag):
        if part is not None:
            torch.nn.init.normal_(part.table.weight, std=0.5)
    return model


def tiny_config(**overrides: str):
    base = {"text.vocab_size": "64", "text.max_len": "48", "model.embedding_dim": "16", "model.hidden_size": "16",
            "train.epochs": "8", "train.batch_size": "32", "train.lr": "0.01", "train.patience": "8",
            "model.input_dropout": "0.0", "model.recurrent_dropout": "0.0", "model.dropout": "0.0",
            "train.augment": "none", "train.ema": "0", "train.grad_clip": "0", "train.lr_schedule": "constant",
            "text.stopwords": "none", "data.source": "synthetic"}
    base.update(overrides)
    return load_config("seed", [f"{k}={v}" for k, v in base.items()])


@pytest.fixture(scope="session")
def corpus_splits() -> Splits:
    train, val = split_train_val(make_corpus(400, seed=0), 0.2, seed=0)
    return Splits(train=train, val=val, test=make_corpus(200, seed=1, split="test"))


def interrupt_then_resume(cfg, splits: Splits, run_dir: Path):
    """Train until the first epoch has been checkpointed, stop as Ctrl-C would, then resume
    to the end: the result to compare with an uninterrupted run of the same config."""
    import json

    from sentiment_lab.training.loop import fit

    def stop(row):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(cfg, splits, run_dir, progress=False, on_epoch=stop)
    assert json.loads((run_dir / "checkpoint" / "state.json").read_text())["epoch"] == 1
    return fit(cfg, splits, run_dir, resume=True, progress=False)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, corpus_splits):
    from sentiment_lab.training.loop import fit

    run_dir = tmp_path_factory.mktemp("run")
    return fit(tiny_config(), corpus_splits, run_dir, progress=False)


@pytest.fixture(scope="session")
def tiny_bundle(tiny_run) -> Path:
    return tiny_run.run_dir / "bundle"


def write_imdb_archive(path: Path, n_per_class: int = 6, extra_members: bool = True) -> Path:
    """A miniature aclImdb_v1.tar.gz in the official layout (plus unsup and .feat noise)."""
    with tarfile.open(path, "w:gz") as tar:
        def add(name: str, text: str) -> None:
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        add("aclImdb/README", "readme")
        for split in ("train", "test"):
            for pol, word, stars in (("pos", "great", 9), ("neg", "awful", 2)):
                for i in range(n_per_class):
                    add(f"aclImdb/{split}/{pol}/{i}_{stars}.txt", f"A {word} film.<br />Really {word} number {i}.")
            if extra_members:
                add(f"aclImdb/{split}/labeledBow.feat", "0:1 1:2")
        if extra_members:
            add("aclImdb/train/unsup/0_0.txt", "unlabeled review")
    return path


@pytest.fixture
def imdb_archive(tmp_path) -> Path:
    return write_imdb_archive(tmp_path / "aclImdb_v1.tar.gz")


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for a server the test starts itself)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_client(bundle, **settings):
    """A TestClient on `create_app(bundle, **settings)` with its lifespan run (the model loaded),
    answering as http://localhost (the server answers only its own host names). `threads`
    defaults to what the test process already uses, so the lifespan changes nothing for other tests."""
    import torch
    from fastapi.testclient import TestClient

    from sentiment_lab.serve import create_app

    settings.setdefault("threads", torch.get_num_threads())
    with TestClient(create_app(bundle, **settings), base_url="http://localhost") as c:
        yield c


@contextlib.contextmanager
def live_server(cmd: list[str], port: int, log: Path, timeout: float = 120):
    """Run `cmd` (a server on 127.0.0.1:`port`, output to `log`) until /readyz answers 200
    (`timeout` seconds at most, or the test fails with the log's tail); yields (base URL,
    process) and stops it afterwards."""
    import subprocess
    import time

    import httpx

    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the server was not ready within {timeout:g} s: {log.read_text()[-2000:]}")
        time.sleep(0.25)
    try:
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)

