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
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_seed import machine_info  # noqa: E402

from sentiment_lab.config import load_config  # noqa: E402
from sentiment_lab.data import load_splits  # noqa: E402
from sentiment_lab.models.rnn import BagOfNgrams  # noqa: E402
from sentiment_lab.text import TextEncoder, pad_batch  # noqa: E402


def run(cfg, records_train, records_eval, seed: int) -> dict:
    t0 = time.perf_counter()
    enc = TextEncoder.fit((r.text for r in records_train), cfg.text.vocab_size, cfg.text.max_len,
                          cfg.text.truncation, cfg.text.level, cfg.text.min_frequency, cfg.text.stopwords)
    x_tr, x_ev = enc.encode([r.text for r in records_train]), enc.encode([r.text for r in records_eval])
    y_tr = torch.tensor([r.label for r in records_train], dtype=torch.float32)
    y_ev = np.array([r.label for r in records_eval])
    tokenize_s = time.perf_counter() - t0
    torch.manual_seed(seed)
    m = cfg.model
    bag = BagOfNgrams(m.bag_buckets, m.bag_order, m.bag_scale)
    bias = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([*bag.parameters(), bias], lr=cfg.train.lr)
    bs, epochs = cfg.train.batch_size, cfg.train.epochs
    steps = epochs * -(-len(x_tr) // bs)
    rng = np.random.default_rng(seed)

    def logits(seqs) -> torch.Tensor:
        ids, lengths = pad_batch(seqs)
        return bag(torch.from_numpy(ids), torch.from_numpy(lengths)) + bias

    history, step, t0 = [], 0, time.perf_counter()
    for epoch in range(epochs):
        order = rng.permutation(len(x_tr))
        for i in range(0, len(x_tr), bs):
            idx = order[i:i + bs]
            for g in opt.param_groups:
                g["lr"] = cfg.train.lr * (1 - step / steps)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits([x_tr[j] for j in idx]), y_tr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        with torch.no_grad():
            p = np.concatenate([logits(x_ev[k:k + 512]).numpy() for k in range(0, len(x_ev), 512)])
        history.append({"epoch": epoch + 1, "accuracy": float(((p > 0) == y_ev).mean())})
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
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(res, indent=2) + "\n")
    tmp.replace(args.out)


if __name__ == "__main__":
    main()
