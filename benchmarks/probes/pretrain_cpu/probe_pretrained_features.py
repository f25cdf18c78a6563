"""Linear-probe reading: how much sentiment do language-model-pretrained BiLSTM features carry?

    .venv/bin/python benchmarks/probes/pretrain_cpu/probe_pretrained_features.py --data ../shared/data/imdb/aclImdb_v1_labeled.tar.gz \
        --out benchmarks/results/pretrain_cpu/probe.json

The `bilstm_attention` network (seed 42) is pretrained as a language model on the training part of the
blocks split (pretrain.py, `--lm-epochs` epochs), then its word vectors and BiLSTM are frozen and only the
attention pooling and the output layer are trained on the labels (`--probe-epochs`, Adam at the preset's
rate, no dropout). The same initialisation without pretraining is probed the same way. Validation accuracy
after each probe epoch says whether pretraining put sentiment into the features; nothing is chosen on it.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[3]  # the repository (this file: benchmarks/probes/<folder>/)
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_seed import machine_info  # noqa: E402

from sentiment_lab.text.batching import bucket_batches, collate, predict_logits  # noqa: E402
from sentiment_lab.fileio import write_json  # noqa: E402
from sentiment_lab.config import load_config  # noqa: E402
from sentiment_lab.data import load_splits  # noqa: E402
from sentiment_lab.models import build_model  # noqa: E402
from sentiment_lab.training.pretrain import pretrain  # noqa: E402
from sentiment_lab.text.tokenizer import TextEncoder  # noqa: E402
from sentiment_lab.text.token_cache import encode_with_lengths  # noqa: E402


def probe(model, x_tr, y_tr, x_va, y_va, epochs: int, lr: float, seed: int) -> list[float]:
    """Validation accuracy after each epoch of training attention + output layer on frozen features."""
    for p in model.parameters():
        p.requires_grad_(False)
    trained = [*model.attention.parameters(), *model.head.parameters()]
    for p in trained:
        p.requires_grad_(True)
    opt = torch.optim.Adam(trained, lr=lr)
    lengths = np.fromiter((len(s) for s in x_tr), dtype=np.int64, count=len(x_tr))
    rng, device, accs = np.random.default_rng(seed), torch.device("cpu"), []
    model.eval()  # no dropout: the features as they are
    for _ in range(epochs):
        for idx in bucket_batches(lengths, 128, rng):
            ids, lens = collate(x_tr, idx, device)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(ids, lens), torch.from_numpy(y_tr[idx]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        accs.append(float(((predict_logits(model, x_va, 64, device, None) > 0) == (y_va > 0.5)).mean()))
        print(f"probe epoch {len(accs)}: validation accuracy {accs[-1]:.4f}", flush=True)
    return accs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--lm-epochs", type=int, default=3)
    ap.add_argument("--probe-epochs", type=int, default=2)
    args = ap.parse_args()
    cfg = load_config("bilstm_attention", [f"data.path={args.data}", f"train.seed={args.seed}"])
    splits = load_splits(cfg.data, seed=args.seed, progress=False)
    enc = TextEncoder.fit((r.text for r in splits.train), cfg.text.vocab_size, cfg.text.max_len, cfg.text.truncation,
                          cfg.text.level, cfg.text.min_frequency, cfg.text.stopwords)
    x_tr, _ = encode_with_lengths(enc, [r.text for r in splits.train])
    x_va, _ = encode_with_lengths(enc, [r.text for r in splits.val])
    y_tr = np.array([r.label for r in splits.train], dtype=np.float32)
    y_va = np.array([r.label for r in splits.val], dtype=np.float32)
    result: dict = {"machine": machine_info(), "seed": args.seed, "lm_epochs": args.lm_epochs,
                    "train_reviews": len(x_tr), "val_reviews": len(x_va)}
    for name in ("random", "pretrained"):
        torch.manual_seed(args.seed)
        model = build_model(cfg.model, enc.vocab_size)
        t0 = time.perf_counter()
        if name == "pretrained":
            result["lm_history"] = pretrain(model, x_tr, args.lm_epochs, cfg.train.lr, cfg.train.batch_size,
                                            np.random.default_rng(args.seed), torch.device("cpu"), cfg.train.grad_clip)
        result[name] = {"probe_val_accuracy": probe(model, x_tr, y_tr, x_va, y_va, args.probe_epochs, cfg.train.lr,
                                                    args.seed), "s": time.perf_counter() - t0}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(Path(args.out), result)


if __name__ == "__main__":
    main()
