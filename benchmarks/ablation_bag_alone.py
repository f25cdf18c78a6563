"""Ablation: the `best` preset's bag-of-n-grams term trained alone, without the network.

    .venv/bin/python benchmarks/ablation_bag_alone.py --data ../shared/data/imdb/aclImdb_v1_labeled.tar.gz \
        --out benchmarks/results/bag_cpu/bag_alone.json

Why: `best` adds a linear term over each review's distinct hashed words and bigrams to the
BiLSTM's logit (models.rnn.BagOfNgrams). Whether the network earns its cost is only clear next to
the term alone, trained the same way: same tokenizer (fitted on the training texts), same
truncation, same module and hash, Adam at the preset's rate decayed linearly to 0 over its 3
epochs, batches of 128, seed 42. No augmentation, adversarial steps or weight averaging: those
act on the network's input vectors, which the term does not read.

Two protocols, both in one run: "validation" trains on the preset's split of train (blocks of
consecutive ids, 20%) and scores that validation set, as `best` was chosen; "refit" trains on all
25,000 training reviews and scores the 25,000 test reviews once, as `best` was refitted. Test is
reported, never used to choose anything here.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_seed import machine_info  # noqa: E402

from sentiment_lab.fileio import write_json  # noqa: E402
from sentiment_lab.config import load_config  # noqa: E402
from sentiment_lab.data import load_splits  # noqa: E402
from sentiment_lab.models.rnn import BagOfNgrams  # noqa: E402
from sentiment_lab.text.tokenizer import TextEncoder, pad_batch  # noqa: E402
from sentiment_lab.training.optim import lr_factor  # noqa: E402


def train_bag(cfg, x_tr: list[np.ndarray], y_tr: np.ndarray, seed: int, x_ev: list[np.ndarray],
              y_ev: np.ndarray) -> tuple[Callable[[list[np.ndarray]], np.ndarray], list[dict]]:
    """Train the preset's term alone on id sequences; returns its logit function and the
    evaluation set's accuracy after each epoch."""
    torch.manual_seed(seed)
    m, tc = cfg.model, cfg.train
    bag = BagOfNgrams(m.bag_buckets, m.bag_order, m.bag_scale)
    bias = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([*bag.parameters(), bias], lr=tc.lr)
    steps = tc.epochs * -(-len(x_tr) // tc.batch_size)
    rng = np.random.default_rng(seed)
    y = torch.as_tensor(y_tr, dtype=torch.float32)

    def logits(seqs: list[np.ndarray]) -> torch.Tensor:
        ids, lengths = pad_batch(seqs)
        return bag(torch.from_numpy(ids), torch.from_numpy(lengths)) + bias

    @torch.no_grad()
    def predict(seqs: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([logits(seqs[k:k + 512]).numpy() for k in range(0, len(seqs), 512)])

    history, step = [], 0
    for epoch in range(tc.epochs):
        order = rng.permutation(len(x_tr))
        for i in range(0, len(x_tr), tc.batch_size):
            idx = order[i:i + tc.batch_size]
            for g in opt.param_groups:
                g["lr"] = tc.lr * lr_factor(tc.lr_schedule, step, steps)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits([x_tr[j] for j in idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        history.append({"epoch": epoch + 1, "accuracy": float(((predict(x_ev) > 0) == y_ev).mean())})
    return predict, history


def run(cfg, records_train, records_eval, seed: int) -> dict:
    t0 = time.perf_counter()
    enc = TextEncoder.fit((r.text for r in records_train), cfg.text.vocab_size, cfg.text.max_len,
                          cfg.text.truncation, cfg.text.level, cfg.text.min_frequency, cfg.text.stopwords)
    x_tr, x_ev = enc.encode([r.text for r in records_train]), enc.encode([r.text for r in records_eval])
    y_tr, y_ev = np.array([r.label for r in records_train]), np.array([r.label for r in records_eval])
    tokenize_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, history = train_bag(cfg, x_tr, y_tr, seed, x_ev, y_ev)
    return {"accuracy": history[-1]["accuracy"], "history": history, "train_s": time.perf_counter() - t0,
            "tokenize_s": tokenize_s, "n_train": len(x_tr), "n_eval": len(x_ev)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="the aclImdb archive or folder")
    ap.add_argument("--preset", default="best")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    cfg = load_config(args.preset)
    cfg.data.path = args.data
    if not cfg.model.bag_buckets:
        sys.exit(f"preset {args.preset!r} has no bag-of-n-grams term (model.bag_buckets = 0)")
    res = {"benchmark": "bag-of-n-grams term alone (ablation of best)", "preset": args.preset, "seed": args.seed,
           "model": {k: getattr(cfg.model, k) for k in ("bag_buckets", "bag_order", "bag_scale")},
           "train": {k: getattr(cfg.train, k) for k in ("lr", "lr_schedule", "epochs", "batch_size")},
           "machine": machine_info()}
    val = load_splits(cfg.data, seed=args.seed, progress=False)
    res["validation"] = run(cfg, val.train, val.val, args.seed)
    print(f"validation ({cfg.data.val_split} split): {res['validation']['accuracy']:.2%}", flush=True)
    cfg.data.val_fraction = 0.0
    full = load_splits(cfg.data, seed=args.seed, progress=False)
    res["refit"] = run(cfg, full.train, full.test, args.seed)
    print(f"refit on all of train, IMDB test: {res['refit']['accuracy']:.2%}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, res)  # atomic, as every result file


if __name__ == "__main__":
    main()
