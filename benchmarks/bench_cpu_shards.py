"""A training step split across single-core threads (train.cpu_shards, cpu_shards.py) against
the same step on the whole batch with all threads, interleaved, per preset.

    .venv/bin/python benchmarks/bench_cpu_shards.py --out benchmarks/results/cpu_shards_cpu.json

Each round times one whole-batch step and one sharded step (forward, backward, clipping, Adam),
alternating which goes first; the medians and their ratio are reported. Batch 128 at each
preset's mean token count per IMDB review (seed: 122, function words dropped and truncated
to 200; best: 206, truncated to 400, counted with the shipped model's tokenizer, which has
the best preset's text settings), random ids, the preset's dropouts on.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_seed import machine_info  # noqa: E402

from sentiment_lab.config import load_config  # noqa: E402
from sentiment_lab.training.cpu_shards import ShardedStep  # noqa: E402
from sentiment_lab.models import build_model  # noqa: E402

SHAPES = {"seed": 122, "best": 206}  # mean tokens per IMDB test review each preset reads


def measure(preset: str, tokens: int, rounds: int, shards: int) -> dict:
    cfg = load_config(preset)
    torch.manual_seed(0)
    model = build_model(cfg.model, cfg.text.vocab_size).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    ids = torch.randint(2, cfg.text.vocab_size, (cfg.train.batch_size, tokens))
    lengths = torch.full((cfg.train.batch_size,), tokens)
    y = torch.randint(0, 2, (cfg.train.batch_size,)).float()
    loss_fn = torch.nn.BCEWithLogitsLoss()
    split = ShardedStep(shards)

    def whole() -> None:
        loss_fn(model(ids, lengths), y).backward()

    def sharded() -> None:
        split(model, ids, lengths, y, loss_fn)

    def step(run) -> float:
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        run()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return time.perf_counter() - t0

    for _ in range(3):  # warm-up
        step(whole), step(sharded)
    times: dict[str, list[float]] = {"whole": [], "sharded": []}
    for r in range(rounds):
        order = [("whole", whole), ("sharded", sharded)][:: 1 if r % 2 else -1]
        for name, run in order:
            times[name].append(step(run))
    split.close()
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    return {"preset": preset, "batch": cfg.train.batch_size, "tokens": tokens, "shards": shards,
            "threads": torch.get_num_threads(), "rounds": rounds,
            "step_ms_whole_median": med["whole"], "step_ms_sharded_median": med["sharded"],
            "sharded_over_whole": med["sharded"] / med["whole"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=list(SHAPES))
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--shards", type=int, default=torch.get_num_threads())
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rows = []
    for preset in args.presets:
        row = measure(preset, SHAPES[preset], args.rounds, args.shards)
        print(f"{preset}: whole batch {row['step_ms_whole_median']:.1f} ms, {row['shards']} shards "
              f"{row['step_ms_sharded_median']:.1f} ms per step ({row['sharded_over_whole']:.2f}x)", flush=True)
        rows.append(row)
    result = {"benchmark": "training step split across single-core threads vs whole batch",
              "machine": machine_info(), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
              "command": "benchmarks/bench_cpu_shards.py " + " ".join(sys.argv[1:]), "results": rows}
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
