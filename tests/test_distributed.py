"""Data-parallel training (DDP, gloo on CPU) launched by torchrun with 2 processes, and
distributed batch scoring of a Parquet file on a local Ray."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sentiment_lab.training.distributed import DistContext, setup_distributed

ROOT = Path(__file__).resolve().parents[1]

DDP_SCRIPT = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    import torch
    from safetensors.torch import save_file
    from sentiment_lab.config import load_config
    from sentiment_lab.data import Splits, make_corpus, split_train_val
    from sentiment_lab.training.loop import fit

    out = Path(sys.argv[1])
    cfg = load_config("seed", [f"{k}={v}" for k, v in {
        "text.vocab_size": 64, "text.max_len": 48, "model.embedding_dim": 16, "model.hidden_size": 16,
        "train.epochs": 6, "train.batch_size": 16, "train.lr": 0.01, "train.patience": 6, "model.input_dropout": 0.1,
        "model.recurrent_dropout": 0.1, "model.dropout": 0.2, "data.source": "synthetic",
        "train.augment": "none", "train.ema": 0, "train.lr_schedule": "constant"}.items()])  # 60 steps: too few to average over
    train, val = split_train_val(make_corpus(400, seed=0), 0.2, seed=0)
    result = fit(cfg, Splits(train=train, val=val, test=make_corpus(100, seed=1, split="test")), out / "run",
                 progress=False)
    rank = os.environ["RANK"]
    save_file({k: v.contiguous() for k, v in result.model.state_dict().items()}, str(out / f"rank{rank}.safetensors"))
    (out / f"rank{rank}.json").write_text(json.dumps({"history": result.history, "metrics": result.metrics}))
""")


def test_single_process_context_is_a_no_op(monkeypatch):
    import torch

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    ctx = setup_distributed(torch.device("cpu"))
    assert not ctx.enabled and ctx.is_main
    model = torch.nn.Linear(2, 1)
    assert ctx.wrap(model, 0) is model and ctx.shard([1, 2, 3]) == [1, 2, 3] and ctx.all_sum([1, 2]) == [1, 2]
    assert ctx.from_main(lambda: "x") == "x"


def test_shard_gives_each_rank_disjoint_equal_batches():
    batches = list(range(11))
    shards = [DistContext(rank=r, world_size=3).shard(batches) for r in range(3)]
    assert shards == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]  # 9, 10 dropped: every rank takes 3 steps


def test_torchrun_two_processes_train_identical_weights(tmp_path):
    from safetensors.numpy import load_file

    script = tmp_path / "ddp_fit.py"
    script.write_text(DDP_SCRIPT)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           str(script), str(tmp_path)], capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    w0, w1 = load_file(str(tmp_path / "rank0.safetensors")), load_file(str(tmp_path / "rank1.safetensors"))
    assert w0.keys() == w1.keys()
    for k in w0:
        np.testing.assert_array_equal(w0[k], w1[k], err_msg=k)  # DDP kept the replicas bit-identical
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert r0["history"] == [{**h, "train_s": r0["history"][i]["train_s"], "val_s": r0["history"][i]["val_s"]}
                             for i, h in enumerate(r1["history"])]  # same all-reduced metrics on both ranks
    # 320 training reviews, batch 16 -> 20 batches per epoch, 10 per rank: the data was sharded
    assert r0["history"][0]["steps"] == 10
    assert r0["history"][-1]["train_loss"] < r0["history"][0]["train_loss"]
    assert r0["metrics"]["test"]["accuracy"] >= 0.8, r0["metrics"]  # it learned
    run = tmp_path / "run"
    assert (run / "bundle" / "model.safetensors").is_file() and (run / "checkpoint" / "state.json").is_file()
    assert "test" not in r1["metrics"]  # rank 1 neither evaluated nor wrote


def test_ray_scores_a_parquet_file(tiny_bundle, tmp_path):
    pytest.importorskip("ray")
    src = tmp_path / "reviews.parquet"
    texts = ["a great film", "an awful boring plot", "a wonderful story", "a terrible film"] * 25
    pd.DataFrame({"id": range(len(texts)), "text": texts}).to_parquet(src)
    out = tmp_path / "scored"
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "ray_score.py"), str(src), str(out),
                           "--bundle", str(tiny_bundle), "--actors", "1", "--batch-size", "32"],
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, RAY_USAGE_STATS_ENABLED="0"))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    df = pd.read_parquet(out).sort_values("id")
    assert len(df) == len(texts) and df["text"].tolist() == texts
    from sentiment_lab.inference.classifier import SentimentClassifier

    expected = SentimentClassifier.from_pretrained(tiny_bundle).predict_proba(texts)[:, 1]
    np.testing.assert_allclose(df["p_positive"], expected, rtol=1e-4, atol=1e-6)
    assert df["label"].tolist() == ["positive" if p >= 0.5 else "negative" for p in expected]
