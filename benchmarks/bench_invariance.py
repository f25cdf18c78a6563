"""The shipped model (or any bundle) on the challenge suites and the invariance groups over
protected attributes (issue 30): per-group accuracy on the English and French suites, and per
invariance group the flip rate, the flip rate on held-out words, the max P(positive) spread, the
widest frame and the words that flip most (analysis/challenge/invariance.py says how).

    .venv/bin/python benchmarks/bench_invariance.py --out benchmarks/results/invariance_cpu/results.json
    .venv/bin/python benchmarks/bench_invariance.py --bundle runs/x/bundle --frames 60 --out ...

The figures depend only on the model and the generated sentences (deterministic), not on the
machine; the machine and the seconds are recorded as the other benchmarks record them.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_seed import machine_info  # noqa: E402

from sentiment_lab.analysis.challenge import load_suite, run_challenge  # noqa: E402
from sentiment_lab.analysis.challenge.invariance import run_invariance  # noqa: E402
from sentiment_lab.fileio import write_json  # noqa: E402
from sentiment_lab.inference.classifier import SentimentClassifier  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", default=None, help="bundle (default: the shipped model)")
    ap.add_argument("--frames", type=int, default=None, help="frames per invariance group (default: the templates')")
    ap.add_argument("--languages", default="en,fr")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    clf = SentimentClassifier.from_pretrained(args.bundle, backend="numpy")
    result = {"benchmark": "challenge suites and invariance groups", "machine": machine_info(),
              "numpy": np.__version__, "torch": torch.__version__, "date": time.strftime("%Y-%m-%d %H:%M:%S"),
              "command": " ".join(sys.argv), "bundle": args.bundle or "the default shipped model",
              "model_language": getattr(clf.config.text, "language", None) or "en (no text.language)"}
    for lang in args.languages.split(","):
        t0 = time.perf_counter()
        suite = run_challenge(clf, load_suite(lang))
        inv = run_invariance(clf, lang, frames=args.frames)
        result[lang] = {"suite": {k: suite[k] for k in ("n", "accuracy", "groups", "invariance")}, "invariance_groups": inv,
                        "seconds": round(time.perf_counter() - t0, 1)}
        print(f"{lang}: suite {suite['accuracy']:.1%} of {suite['n']}; invariance mean flip rate "
              f"{inv['mean_flip_rate']:.1%}, max {inv['max_flip_rate']:.1%}", flush=True)
        for g, m in inv["groups"].items():
            held = "-" if m["flip_rate_heldout"] is None else f"{m['flip_rate_heldout']:.1%}"
            print(f"  {g:20s} {m['variants']:5d} flip {m['flip_rate']:6.1%} held-out {held:>6s} "
                  f"spread {m['max_spread']:.2f}", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(Path(args.out), result)


if __name__ == "__main__":
    main()
