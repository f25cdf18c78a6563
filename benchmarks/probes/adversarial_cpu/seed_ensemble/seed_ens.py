"""Probe Z: do seed ensembles of bilstm_attention gain enough to matter?
train SEED: the preset with train.seed=SEED on the seed-42 blocks split (the split is fixed, init/order/masks follow SEED).
ens: the seed-42 run (attn_seed42_xeon) + seeds 43, 44 trained here; validation accuracy of each and of the mean probability.
From the repository root; runs go to benchmarks/results/adversarial_cpu/seed_ensemble/run43, run44:
    python benchmarks/probes/adversarial_cpu/seed_ensemble/seed_ens.py train 43   # then: train 44, then: ens"""
import sys
from pathlib import Path

import numpy as np

from sentiment_lab.config import load_config
from sentiment_lab.data import load_splits

D = "/work/shared/data/imdb/aclImdb_v1_labeled.tar.gz"
HERE = Path(__file__).resolve().parents[3] / "results" / "adversarial_cpu" / "seed_ensemble"  # where the runs go


def splits_for(seed: int):
    cfg = load_config("bilstm_attention", [f"data.path={D}", "train.patience=9", f"train.seed={seed}"])
    return cfg, load_splits(cfg.data, seed=42, progress=False)  # the split of seed 42, always


if sys.argv[1] == "train":
    from sentiment_lab.training.loop import fit

    seed = int(sys.argv[2])
    cfg, splits = splits_for(seed)
    splits.test = []  # validation is all this probe reads
    fit(cfg, splits, HERE / f"run{seed}", progress=False)
else:
    from sentiment_lab.inference.classifier import SentimentClassifier

    _, splits = splits_for(42)
    texts, y = [r.text for r in splits.val], np.array([r.label for r in splits.val])
    bundles = [next(Path("/work/experiments/attn_seed42_xeon/runs").glob("*/bundle")), HERE / "run43/bundle", HERE / "run44/bundle"]
    probs = [SentimentClassifier.from_pretrained(b, backend="torch").predict_proba(texts)[:, 1] for b in bundles]
    accs = [float(np.mean((p >= 0.5) == y)) for p in probs]
    for b, a in zip(bundles, accs):
        print(f"{b}: {a:.4f}")
    ens = float(np.mean((np.mean(probs, axis=0) >= 0.5) == y))
    print(f"members {', '.join(f'{a:.4f}' for a in accs)}; mean {np.mean(accs):.4f}; ensemble {ens:.4f}; gain {ens - np.mean(accs):+.4f}")
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        e2 = float(np.mean((((probs[i] + probs[j]) / 2) >= 0.5) == y))
        print(f"pair {i}{j}: {e2:.4f} (gain {e2 - (accs[i] + accs[j]) / 2:+.4f})")
