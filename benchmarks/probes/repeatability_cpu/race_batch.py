"""The synthetic training batch both race scripts use: 128 reviews of 40-200 tokens with
Zipf-distributed ids over a 5,000-word vocabulary (the seed preset's), so a few words get large
gradients and many get tiny ones, as in IMDB. Imports no sentiment_lab module, so race_sqrt.py
can still skip the warm-up before the models are imported."""
import numpy as np
import torch

VOCAB = 5000


def seed_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """ids (128, 200), lengths (128,) sorted longest first, labels (128,) float; the same every call."""
    rng = np.random.default_rng(0)
    lens = np.sort(rng.integers(40, 201, 128))[::-1].copy()
    ids = np.zeros((128, 200), dtype=np.int64)
    for i, n in enumerate(lens):
        ids[i, :n] = np.minimum(rng.zipf(1.2, n) + 1, VOCAB - 1)
    return torch.from_numpy(ids), torch.from_numpy(lens), torch.from_numpy(rng.integers(0, 2, 128).astype(np.float32))
