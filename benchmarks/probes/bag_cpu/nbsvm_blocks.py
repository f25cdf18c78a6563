"""NBSVM (the project's baseline, default hyper-parameters) on the `best` preset's blocks validation
split (seed 42): what a linear n-gram model reads on the split `best` is chosen on.

    D=../shared/data/imdb/aclImdb_v1_labeled.tar.gz .venv/bin/python benchmarks/probes/bag_cpu/nbsvm_blocks.py   # from the repository root; log: benchmarks/results/bag_cpu/nbsvm_blocks.log
"""
import os, time, numpy as np
from sentiment_lab.config import load_config
from sentiment_lab.data import load_splits
from sentiment_lab.compare.baselines import get_baseline
cfg = load_config("best"); cfg.data.path = os.environ["D"]
sp = load_splits(cfg.data, seed=42, progress=False)
for ng in [(1, 2), (1, 3)]:
    t = time.time()
    clf = get_baseline("nbsvm", ngram_range=ng).fit([r.text for r in sp.train], [r.label for r in sp.train])
    p = np.asarray(clf.predict_proba([r.text for r in sp.val]))
    p = p[:, 1] if p.ndim == 2 else p
    print(ng, "blocks val acc", ((p > 0.5) == np.array([r.label for r in sp.val])).mean(), f"{time.time()-t:.0f}s", flush=True)
