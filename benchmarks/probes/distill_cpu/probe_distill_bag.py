"""Reading, not a preset: does the bag-of-n-grams term, used as a teacher, help the BiLSTM alone?

    .venv/bin/python benchmarks/probes/distill_cpu/probe_distill_bag.py --data ../shared/data/imdb/aclImdb_v1_labeled.tar.gz \
        --out-dir experiments/distill_bag --weight 0.5

On the `best` preset's split of train (blocks, seed 42), the linear term of `best` (trained alone, as in
ablation_bag_alone.py) predicts every training review out of fold (5 folds of whole 100-id blocks, so a
movie's reviews are never scored by a term that saw them). `bilstm_attention` (the network alone, no term at
inference) is then trained as usual on soft labels (1 - w) * y + w * sigmoid(teacher logit), and scored on
the untouched validation reviews (hard labels). Knowledge distillation (Hinton et al. 2015) with an
out-of-fold linear teacher: reviews the bag finds ambiguous get less confident targets.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]  # the repository (this file: benchmarks/probes/<folder>/)
sys.path.insert(0, str(ROOT / "benchmarks"))
from ablation_bag_alone import train_bag  # noqa: E402
from bench_seed import machine_info  # noqa: E402

from sentiment_lab.fileio import write_json  # noqa: E402
from sentiment_lab.config import load_config  # noqa: E402
from sentiment_lab.data import Splits, load_splits  # noqa: E402
from sentiment_lab.data import label_blocks  # noqa: E402
from sentiment_lab.text.tokenizer import TextEncoder  # noqa: E402
from sentiment_lab.training.loop import fit  # noqa: E402

FOLDS = 5


def block_folds(records, seed: int) -> np.ndarray:
    """Fold of each record: per label, the validation split's blocks of consecutive ids (data.label_blocks) dealt round-robin in a seeded order."""
    rng, fold = np.random.default_rng(seed), np.zeros(len(records), dtype=np.int64)
    for blocks in label_blocks(records).values():
        for k, b in enumerate(rng.permutation(len(blocks))):
            fold[blocks[b]] = k % FOLDS
    return fold


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--weight", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    over = [f"data.path={args.data}", f"train.seed={args.seed}"]
    teacher_cfg = load_config("best", over)
    cfg = load_config("bilstm_attention", over + ["train.patience=9"])
    splits = load_splits(cfg.data, seed=args.seed, progress=False)
    t0 = time.perf_counter()
    enc = TextEncoder.fit((r.text for r in splits.train), cfg.text.vocab_size, cfg.text.max_len, cfg.text.truncation,
                          cfg.text.level, cfg.text.min_frequency, cfg.text.stopwords)
    x = enc.encode([r.text for r in splits.train])
    y = np.array([r.label for r in splits.train], dtype=np.float32)
    fold, oof = block_folds(splits.train, args.seed), np.zeros(len(x), dtype=np.float32)
    for k in range(FOLDS):
        tr, ev = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        predict, _ = train_bag(teacher_cfg, [x[i] for i in tr], y[tr], args.seed + k, [x[i] for i in ev], y[ev])
        oof[ev] = predict([x[i] for i in ev])
    teacher_s = time.perf_counter() - t0
    oof_acc = float(((oof > 0) == (y > 0.5)).mean())
    print(f"out-of-fold teacher accuracy on the training part: {oof_acc:.2%} ({teacher_s:.0f}s)", flush=True)
    soft = (1 - args.weight) * y + args.weight / (1 + np.exp(-oof))
    train = [dataclasses.replace(r, label=float(s)) for r, s in zip(splits.train, soft)]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    res = fit(cfg, Splits(train=train, val=splits.val, test=splits.test), args.out_dir / "run", progress=False)
    write_json(args.out_dir / "probe.json", {
        "machine": machine_info(), "seed": args.seed, "weight": args.weight, "folds": FOLDS,
        "teacher_oof_accuracy": oof_acc, "teacher_s": teacher_s,
        "val_accuracy_per_epoch": [h["val_accuracy"] for h in res.history],
        "val_loss_per_epoch": [h["val_loss"] for h in res.history],
        "test_accuracy_not_used": (res.metrics.get("test") or {}).get("accuracy")})


if __name__ == "__main__":
    main()
