"""PyTorch inference throughput by batch size on real reviews: the reason for
batching.inference_batch_size (128 on a CPU).

    .venv/bin/python benchmarks/bench_inference_batch.py --out benchmarks/results/inference_batch_cpu.json

For the shipped model and a seed-preset bundle (if given): the first N IMDB test reviews,
tokenized once, then predict_logits from ids (length-sorted batches, as every caller uses
it) at each batch size; sizes interleaved within each round, best of the rounds.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_seed import machine_info  # noqa: E402

from sentiment_lab.text.batching import predict_logits  # noqa: E402
from sentiment_lab.inference.bundle import load_pretrained  # noqa: E402
from sentiment_lab.inference.shipped import shipped_bundle  # noqa: E402
from sentiment_lab.data.imdb import read_archive  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archive", default=str(ROOT.parent / "shared" / "data" / "imdb" / "aclImdb_v1_labeled.tar.gz"))
    ap.add_argument("--seed-bundle", help="a seed-preset bundle (runs/seed/bundle) to measure too")
    ap.add_argument("-n", type=int, default=5000, help="test reviews")
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256, 512])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    texts = [r.text for r in read_archive(Path(args.archive), ("test",))[: args.n]]
    bundles = {"shipped default": shipped_bundle("imdb")}  # the model these results were first measured on
    if args.seed_bundle:
        bundles["seed preset"] = Path(args.seed_bundle)
    rows = []
    for name, path in bundles.items():
        model, encoder, _, _ = load_pretrained(path)
        model.eval()
        seqs = encoder.encode(texts)
        best = {b: float("inf") for b in args.sizes}
        for r in range(args.rounds):
            for b in args.sizes[:: 1 if r % 2 == 0 else -1]:
                t0 = time.perf_counter()
                predict_logits(model, seqs, b, torch.device("cpu"))
                best[b] = min(best[b], time.perf_counter() - t0)
        row = {"model": name, "reviews": len(seqs), "mean_tokens": sum(map(len, seqs)) / len(seqs),
               "reviews_per_s": {str(b): len(seqs) / t for b, t in best.items()}}
        print(json.dumps(row), flush=True)
        rows.append(row)
    result = {"benchmark": "PyTorch inference throughput by batch size", "machine": machine_info(),
              "date": time.strftime("%Y-%m-%d %H:%M:%S"), "threads": torch.get_num_threads(),
              "command": "benchmarks/bench_inference_batch.py " + " ".join(sys.argv[1:]), "rounds": args.rounds,
              "results": rows}
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
