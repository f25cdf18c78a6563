"""Are a movie's reviews stored under consecutive IMDB ids? (The labeled archive has no
movie URLs to check directly.) If so, a random validation split shares movies with the
training reviews while the test movies are disjoint, and validation overrates a model.

    .venv/bin/python benchmarks/bench_imdb_movies.py --out benchmarks/results/imdb_movies.json

For each split and label, reviews are sorted by id and turned into TF-IDF vectors over
rare words (in at most 5% of reviews: names, titles); the cosine similarity of each review
with the next id is compared with that of random pairs and of ids 100 apart.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def pair_cos(x, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(x[a].multiply(x[b]).sum(1)).ravel()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archive", default=str(ROOT.parent / "shared" / "data" / "imdb" / "aclImdb_v1_labeled.tar.gz"))
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "imdb_movies.json")
    args = ap.parse_args()
    from sklearn.feature_extraction.text import TfidfVectorizer

    from bench_seed import machine_info
    from sentiment_lab.fileio import write_json
    from sentiment_lab.data import load_imdb
    from sentiment_lab.data import _natural_key  # the order the block split uses

    records = load_imdb(args.archive, progress=False)
    rng = np.random.default_rng(0)
    groups = {}
    for split in ("train", "test"):
        for label, name in ((1, "pos"), (0, "neg")):
            recs = sorted((r for r in records if r.split == split and r.label == label), key=lambda r: _natural_key(r.id))
            x = TfidfVectorizer(min_df=2, max_df=0.05, sublinear_tf=True).fit_transform([r.text for r in recs])
            n = len(recs)
            perm = rng.permutation(n)
            sims = {"next_id": pair_cos(x, np.arange(n - 1), np.arange(1, n)),
                    "ids_100_apart": pair_cos(x, np.arange(n - 100), np.arange(100, n)),
                    "random_pairs": pair_cos(x, perm[:-1], perm[1:])}
            groups[f"{split}/{name}"] = {k: {"mean_cosine": float(v.mean()), "share_above_0.1": float((v > 0.1).mean())}
                                         for k, v in sims.items()}
    res = {"machine": machine_info(), "groups": groups, "command": "python benchmarks/bench_imdb_movies.py"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, res)  # atomic, as every result file
    for g, v in groups.items():
        print(g, " | ".join(f"{k}: cos {s['mean_cosine']:.4f}, >0.1 in {s['share_above_0.1']:.1%}" for k, s in v.items()))


if __name__ == "__main__":
    main()
