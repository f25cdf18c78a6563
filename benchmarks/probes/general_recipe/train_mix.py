"""Train one general-model candidate on a weighted mixture through the Python API (the CLI's
`--data a+b+c` has no weights yet). Usage:
  python train_mix.py OUT_DIR --preset default --set k=v ... [--weights imdb=0.25,sst2=0.6,amazon-blitzer=0.15]"""
from __future__ import annotations

import argparse

from sentiment_lab.config import load_config
from sentiment_lab.data.mixture import load_mixture
from sentiment_lab.training.loop import fit

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--preset", default="default")
ap.add_argument("--set", nargs="*", default=[])
ap.add_argument("--mixture", default="imdb+sst2+amazon-blitzer")
ap.add_argument("--weights", default=None)
ap.add_argument("--seed", type=int, default=42)
a = ap.parse_args()
cfg = load_config(a.preset, [f"data.source={a.mixture}", f"train.seed={a.seed}", *a.set])
weights = {k: float(v) for k, v in (p.split("=") for p in a.weights.split(","))} if a.weights else None
mix = load_mixture(a.mixture, weights=weights, seed=a.seed, val_fraction=cfg.data.val_fraction,
                   val_split=cfg.data.val_split, progress=False)
print("\n".join(mix.report()), flush=True)
fit(cfg, mix, a.out, progress=False)
