"""The on-disk token-id cache (sentiment_lab.text.token_cache) against tokenizing, on the 25k
IMDB test reviews with the shipped model's tokenizer (400 tokens, head+tail).

    .venv/bin/python benchmarks/bench_token_cache.py --out benchmarks/results/token_cache_cpu.json

The first call tokenizes and stores; then plain TextEncoder.encode and a cache hit are
timed back to back, `--rounds` times (medians and their ratio), so both see the same load.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archive", default=str(ROOT.parent / "shared" / "data" / "imdb" / "aclImdb_v1_labeled.tar.gz"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "token_cache_cpu.json")
    args = ap.parse_args()
    os.environ["SENTIMENT_LAB_IDS_CACHE"] = tempfile.mkdtemp(prefix="bench-ids-")

    from bench_seed import machine_info
    from sentiment_lab.fileio import write_json

    from sentiment_lab.text import token_cache
    from sentiment_lab.inference.shipped import shipped_bundle
    from sentiment_lab.data import load_imdb
    from sentiment_lab.text.tokenizer import TextEncoder

    texts = [r.text for r in load_imdb(args.archive, splits=("test",), progress=False)]
    enc = TextEncoder.load(shipped_bundle("imdb") / "tokenizer.json", 400, "head+tail")
    t0 = time.perf_counter()
    cached, _ = token_cache.encode_with_lengths(enc, texts)
    first = time.perf_counter() - t0
    tokenize, hit = [], []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        plain = enc.encode(texts)
        tokenize.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        cached, _ = token_cache.encode_with_lengths(enc, texts)
        hit.append(time.perf_counter() - t0)
    assert all(a.tolist() == b.tolist() for a, b in zip(plain, cached)), "cache and tokenizer disagree"
    res = {"machine": machine_info(), "reviews": len(texts), "tokens_kept": int(sum(len(s) for s in cached)),
           "first_call_tokenize_and_store_s": first, "tokenize_s": tokenize, "cache_hit_s": hit,
           "speedup_median": statistics.median(tokenize) / statistics.median(hit), "loadavg_after": os.getloadavg(),
           "command": "python benchmarks/bench_token_cache.py"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, res)  # atomic, as every result file
    print(f"tokenize {statistics.median(tokenize):.2f} s, cache hit {statistics.median(hit):.2f} s "
          f"({res['speedup_median']:.1f}x), first call {first:.2f} s, load {res['loadavg_after'][0]:.1f}")


if __name__ == "__main__":
    main()
