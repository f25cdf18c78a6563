"""How far a CPU-sharded training run (train.cpu_shards=2) drifts from the unsplit run, and how
far a real bug would move it: the measurement behind the tolerances of
tests/test_adversarial.py::test_training_with_adversarial_steps and test_cpu_shards.py.

Both runs take the same steps in exact arithmetic; in fp32 each shard's matrix products run on
half the batch, so the kernels may sum in another order and the logits differ by a few ulps.
Training then carries that difference forward, and VAT's power iteration amplifies it: its
direction is the gradient of KL at a probe step of XI * ||x|| (XI = 1e-3), i.e. a difference of
two nearly equal predictions, so a relative rounding error of ~1e-7 in the logits becomes
~1e-4 in the direction. This script measures, for the test's exact setup (tests/conftest.py's
tiny config and corpus, 3 epochs), the largest relative difference of the per-epoch training
losses between 1 and 2 shards, under the CPU's default kernels and under forced AVX2 kernels
(MKL_ENABLE_INSTRUCTIONS=AVX2, ONEDNN_MAX_CPU_ISA=AVX2, ATEN_CPU_CAPABILITY=avx2: the paths an
AMD EPYC takes through MKL), and the same figure when one of three plausible bugs is injected.

    python benchmarks/probes/shard_drift_cpu/probe_shard_drift.py            # runs every variant in a subprocess each
    python benchmarks/probes/shard_drift_cpu/probe_shard_drift.py --one NAME # one variant in this process (internal)
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]  # the repository (this file: benchmarks/probes/<folder>/)
OUT = ROOT / "benchmarks" / "results" / "shard_drift_cpu" / "results.json"
SETTINGS = ["train.adversarial", "train.virtual_adversarial"]
AVX2 = {"MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}
BUGS = ["none", "probe_per_shard", "unweighted_extra_loss", "no_extra_loss_in_shards"]


def inject(bug: str) -> None:
    """Monkeypatch one bug into the sharded path only (the unsplit path stays correct)."""
    import torch

    from sentiment_lab.training import adversarial, cpu_shards
    if bug == "probe_per_shard":  # each shard draws its own VAT start directions
        orig = adversarial.adversarial_grads

        def grads(*a, **kw):
            a = list(a)
            if a[-1] is not None:
                a[-1] = torch.randn_like(a[-1])
            return orig(*a, **kw)
        cpu_shards.adversarial_grads = grads
    elif bug == "unweighted_extra_loss":  # the shard's share applied to the clean loss only
        orig = adversarial.adversarial_grads

        def grads(model, ids, lengths, y, noise, loss_fn, params, weight, *rest):
            logits, loss, g0 = orig(model, ids, lengths, y, noise, loss_fn, params, weight, 0.0, rest[1], 0.0, None)
            _, _, g = orig(model, ids, lengths, y, noise, loss_fn, params, 1.0, *rest)
            _, _, g1 = orig(model, ids, lengths, y, noise, loss_fn, params, 1.0, 0.0, rest[1], 0.0, None)
            return logits, loss, tuple(None if a is None else a + b - c for a, b, c in zip(g0, g, g1))
        cpu_shards.adversarial_grads = grads
    elif bug == "no_extra_loss_in_shards":  # shards silently take plain steps
        orig = adversarial.adversarial_grads

        def grads(model, ids, lengths, y, noise, loss_fn, params, weight, *rest):
            return orig(model, ids, lengths, y, noise, loss_fn, params, weight, 0.0, rest[1], 0.0, None)
        cpu_shards.adversarial_grads = grads


def one(bug: str) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import tiny_config  # noqa: E402  the test's own config
    from sentiment_lab.data import Splits, make_corpus, split_train_val
    from sentiment_lab.training.loop import fit

    inject(bug)
    train, val = split_train_val(make_corpus(400, seed=0), 0.2, seed=0)
    splits = Splits(train=train, val=val, test=make_corpus(200, seed=1, split="test"))
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for setting in SETTINGS:
            over = {"train.epochs": "3", "model.bidirectional": "true", "model.pooling": "max", setting: "0.05"}
            runs = [fit(tiny_config(**over, **{"train.cpu_shards": s}), splits, Path(tmp) / f"{setting}{s}",
                        progress=False) for s in ("1", "2")]
            a, b = ([h["train_loss"] for h in r.history] for r in runs)
            out[setting] = {"unsplit": a, "split": b,
                            "max_rel_diff": max(abs(x - y) / abs(x) for x, y in zip(a, b)),
                            "first_epoch_rel_diff": abs(a[0] - b[0]) / abs(a[0])}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--one")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    import torch
    results = []
    for isa, env in (("default", {}), ("avx2", AVX2)):
        for bug in BUGS:
            if isa == "avx2" and bug != "none":
                continue
            proc = subprocess.run([sys.executable, __file__, "--one", bug], env={**os.environ, **env},
                                  capture_output=True, text=True, check=True)
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            results.append({"kernels": isa, "env": env, "bug": bug, **res})
            print(isa, bug, {k: f"{v['max_rel_diff']:.2e}" for k, v in res.items()}, flush=True)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    OUT.write_text(json.dumps({"cpu": cpu, "torch": torch.__version__,
                               "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
                               "results": results}, indent=1) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
