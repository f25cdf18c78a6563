"""The arithmetic limit of this machine for the seed LSTM, and how far the measured
throughputs are from it.

    .venv/bin/python benchmarks/bench_limit.py --seed-results benchmarks/results/seed_cpu.json \
        --out benchmarks/results/limit_cpu.json

1. Peak matmul throughput measured here: torch.mm of square matrices (1024, 2048, 4096) in
   fp32 (256, 512 in bf16, which is emulated and slow on CPUs without bf16 units) with all threads, best of 5 (a large GEMM is the most a CPU does per second
   in practice; the LSTM's own matmuls are smaller and sequential, so this is an upper bound).
2. FLOPs per review of the seed LSTM (Embedding 5000x128 -> LSTM(64) -> linear): per token
   the input projection 2*E*4H and the recurrent projection 2*H*4H multiply-adds, plus ~10*H
   elementwise gate operations; times the mean number of tokens of the IMDB test reviews
   after truncation to 200 (as the seed preset's tokenizer splits them; Keras's useful work is
   counted over all words, as keras.datasets.imdb keeps them). Training costs ~3x the forward pass
   (forward + backward through inputs and weights).
3. The measured figures of benchmarks/results/seed_cpu.json (ours and Keras's) converted to
   GFLOP/s and to a share of the fp32 peak.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_seed import machine_info  # noqa: E402

E, H = 128, 64  # the seed preset's embedding size and LSTM width


def peak_gflops(dtype: torch.dtype, sizes=(1024, 2048, 4096), repeats: int = 5) -> dict[str, float]:
    out = {}
    for n in sizes:
        a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
        torch.mm(a, b)  # warm-up
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            torch.mm(a, b)
            times.append(time.perf_counter() - t0)
        out[str(n)] = 2 * n**3 / min(times) / 1e9
    return out


# Reviews' forward passes in one epoch: 20k training reviews (forward + backward, ~3x) and 5k validated
EPOCH_FORWARDS = 20_000 * 3 + 5_000


def flops_per_token() -> int:
    return 2 * E * 4 * H + 2 * H * 4 * H + 10 * H


def tokens_per_review() -> tuple[float, float]:
    """Mean tokens per IMDB test review after truncation to 200: as the seed preset's tokenizer
    splits them (its function words dropped), and as keras.datasets.imdb does (every word)."""
    import re

    from sentiment_lab.config import load_config
    from sentiment_lab.data import load_imdb
    from sentiment_lab.text.tokenizer import _normalizer, new_tokenizer

    cfg = load_config("seed")
    tok, _ = new_tokenizer(cfg.text.level, cfg.text.stopwords)
    norm = _normalizer()
    texts = [r.text for r in load_imdb(ROOT.parent / "shared" / "data" / "imdb" / "aclImdb_v1_labeled.tar.gz",
                                       splits=("test",), progress=False)]
    ours = statistics.mean(min(cfg.text.max_len, len(tok.pre_tokenizer.pre_tokenize_str(norm.normalize_str(t))))
                           for t in texts)
    word = re.compile(r"\w+(?:['’]\w+)*|[!?]")
    return ours, statistics.mean(min(200, len(word.findall(t))) for t in texts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed-results", type=Path, default=ROOT / "benchmarks" / "results" / "seed_cpu.json")
    ap.add_argument("--tokens-per-review", type=float, help="for both models; default: measured on the IMDB test split (truncated to 200)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    res = {"benchmark": "arithmetic limit for the seed LSTM", "machine": machine_info(),
           "date": time.strftime("%Y-%m-%d %H:%M:%S"), "command": " ".join(sys.argv)}
    # bf16 is emulated on CPUs without AVX-512-bf16/AMX (one thread, ~100x slower here): small sizes only
    res["peak_gflops"] = {"fp32": peak_gflops(torch.float32), "bf16": peak_gflops(torch.bfloat16, sizes=(256, 512), repeats=3)}
    peak = max(res["peak_gflops"]["fp32"].values())
    tokens, keras_tokens = args.tokens_per_review, args.tokens_per_review
    if tokens is None:
        tokens, keras_tokens = tokens_per_review()
    fwd = flops_per_token() * tokens
    keras_fwd = flops_per_token() * keras_tokens
    res["flops"] = {"per_token_forward": flops_per_token(), "tokens_per_review": tokens,
                    "keras_tokens_per_review": keras_tokens,
                    "per_review_forward": fwd, "per_review_train": 3 * fwd}
    res["limit"] = {"predict_reviews_per_s_at_fp32_peak": peak * 1e9 / fwd,
                    "epoch_s_at_fp32_peak": EPOCH_FORWARDS * fwd / (peak * 1e9)}
    if args.seed_results.exists():
        s = json.loads(args.seed_results.read_text())["summary"]
        achieved = {"ours_predict_ids": s["predict_ids_reviews_per_s"] * fwd,
                    "ours_train_epoch": EPOCH_FORWARDS * fwd / s["epoch_s_median"]}
        if s.get("onnx_predict_ids_reviews_per_s"):
            achieved["ours_predict_ids_onnx"] = s["onnx_predict_ids_reviews_per_s"] * fwd
        if "keras_notebook" in s:  # useful work only: Keras also computes the padding steps
            k = s["keras_notebook"]
            achieved["keras_predict_useful"] = k["predict_reviews_per_s"] * keras_fwd
            achieved["keras_train_epoch_useful"] = EPOCH_FORWARDS * keras_fwd / k["epoch_s_median"]
        res["achieved_gflops"] = {k: v / 1e9 for k, v in achieved.items()}
        res["share_of_fp32_peak"] = {k: v / 1e9 / peak for k, v in achieved.items()}
        res["note"] = ("useful FLOPs: tokens after truncation to 200, no padding; ours are the seed preset's tokens "
                       "(function words dropped), Keras's are all words; Keras computes 200 steps per review "
                       "whatever its length, so its raw arithmetic rate is 200 / keras_tokens_per_review higher")
    text = json.dumps(res, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
