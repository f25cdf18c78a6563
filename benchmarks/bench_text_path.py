"""From raw text to token ids, and to predictions: the project's encoder before and after the
one-pattern splitter and the fast path (text/tokenizer.py), against the same vocabulary behind
the library's plain `Whitespace` pre-tokenizer (the reference), on IMDB reviews and on short
SST-2 sentences; end-to-end `SentimentClassifier.predict_proba` from raw text (old and new
encoder) next to the model alone (from ids); where single sentences spend their time.

    .venv/bin/python benchmarks/bench_text_path.py --out benchmarks/results/text_path_cpu/results.json
    .venv/bin/python benchmarks/bench_text_path.py --bundle runs/seed/bundle --out ...

Everything runs in one process. Each round runs every variant once, in an order rotated from
round to round, so that load from other processes falls on all of them alike; the figures are
medians over the rounds of wall-clock reviews/s, with process CPU seconds beside them (less
sensitive to a loaded machine: the work done, on all threads). Ratios are taken within a run.

- old encoder: the tokenizer with the splitter bundles were saved with (WhitespaceSplit, a
  word Split, a punctuation-removal Split, and a stop-word Split where the bundle has stop
  words), encode_batch, then TextEncoder.clip text by text: what TextEncoder.encode did before.
- new encoder: TextEncoder.encode as it is now (bundles are converted on load).
- reference: the same vocabulary (WordLevel, same [UNK]) with pre_tokenizers.Whitespace() and no
  normalizer, encode_batch only (the issue's measurement), also with Lowercase, and with
  encode_batch_fast; none of them normalizes <br />, NFKC, apostrophes or stop words.
- SST-2: the test split has 1,821 sentences; they are cycled to make --n texts.
"""
from __future__ import annotations

import argparse
import cProfile
import csv
import gzip
import io
import json
import pstats
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import tokenizers
import torch
from tokenizers import Tokenizer, normalizers, pre_tokenizers

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_seed import machine_info  # noqa: E402

from sentiment_lab.data import load_imdb  # noqa: E402
from sentiment_lab.inference.classifier import SentimentClassifier  # noqa: E402
from sentiment_lab.text.tokenizer import STOPWORDS, TextEncoder, legacy_word_splitter, word_splitter  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


class OldEncoder:
    """TextEncoder.encode before this change, on the splitter the bundle was saved with."""

    def __init__(self, enc: TextEncoder) -> None:
        self.enc = enc
        self.tok = Tokenizer.from_str(enc.tokenizer.to_str())
        current = enc.tokenizer.pre_tokenizer.__getstate__()
        stopwords = next(s for s in ("none", *STOPWORDS) if current == word_splitter(s).__getstate__())
        self.tok.pre_tokenizer = legacy_word_splitter(stopwords)
        self.stopwords = stopwords

    def encode(self, texts):
        return [self.enc.clip(e.ids) for e in self.tok.encode_batch(list(texts), add_special_tokens=False)]


def reference(tok: Tokenizer, lowercase: bool = False) -> Tokenizer:
    """The same vocabulary and added tokens, the library's plain Whitespace pre-tokenizer."""
    ref = Tokenizer.from_str(tok.to_str())
    ref.normalizer = normalizers.Lowercase() if lowercase else None
    ref.pre_tokenizer = pre_tokenizers.Whitespace()
    return ref


def sst2(n: int) -> tuple[list[str], int]:
    with gzip.open(SHARED / "sst2" / "test.csv.gz", "rt", encoding="utf-8") as f:
        rows = [r["text"] for r in csv.DictReader(f)]
    return [rows[i % len(rows)] for i in range(n)], len(rows)


def interleaved(variants: dict, texts: list[str], rounds: int) -> dict:
    """{name: {reviews_per_s, cpu_reviews_per_cpu_s, wall_s: [...]}} medians over rounds."""
    names = list(variants)
    for k in names:  # warm-up: first calls (MKL/oneDNN kernels, thread pools, lazy copies) are not timed
        variants[k](texts[:256])
    wall = {k: [] for k in names}
    cpu = {k: [] for k in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for k in order:
            c0, t0 = time.process_time(), time.perf_counter()
            variants[k](texts)
            wall[k].append(time.perf_counter() - t0)
            cpu[k].append(time.process_time() - c0)
        print(f"  round {r + 1}/{rounds}: " + ", ".join(f"{k} {len(texts) / wall[k][-1]:,.0f}/s" for k in names),
              flush=True)
    return {k: {"reviews_per_s": len(texts) / statistics.median(wall[k]),
                "reviews_per_cpu_s": len(texts) / statistics.median(cpu[k]),
                "wall_s": [round(x, 4) for x in wall[k]], "cpu_s": [round(x, 4) for x in cpu[k]]} for k in names}


def ratios(res: dict, num: str, den: str) -> dict:
    return {"wall": res[num]["reviews_per_s"] / res[den]["reviews_per_s"],
            "cpu": res[num]["reviews_per_cpu_s"] / res[den]["reviews_per_cpu_s"]}


def single_sentences(clf: SentimentClassifier, texts: list[str], n: int) -> dict:
    """One sentence per call, as a user or the CLI asks: time in the encoder vs the model, and a
    cProfile of the whole call's top functions."""
    enc_s, model_s, call_s = [], [], []
    for t in texts[:20]:  # warm-up
        clf.predict_proba([t])
    for t in texts[:n]:
        t0 = time.perf_counter()
        seqs = clf.encoder.encode([t])
        t1 = time.perf_counter()
        clf.runner.predict_logits(seqs, clf.batch_size)
        t2 = time.perf_counter()
        clf.predict_proba([t])
        t3 = time.perf_counter()
        enc_s.append(t1 - t0)
        model_s.append(t2 - t1)
        call_s.append(t3 - t2)
    prof = cProfile.Profile()
    prof.enable()
    for t in texts[:n]:
        clf.predict_proba([t])
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(18)
    med = statistics.median
    return {"calls": n, "median_ms": {"encode": med(enc_s) * 1e3, "model": med(model_s) * 1e3,
                                      "predict_proba": med(call_s) * 1e3},
            "share_of_encode_plus_model": {"encode": sum(enc_s) / (sum(enc_s) + sum(model_s)),
                                           "model": sum(model_s) / (sum(enc_s) + sum(model_s))},
            "cprofile_cumulative": out.getvalue().splitlines()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", type=Path, help="a seed-preset bundle (default: runs/seed/bundle if it exists)")
    ap.add_argument("-n", type=int, default=10_000, help="texts per corpus")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--single", type=int, default=300, help="single-sentence calls profiled")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    bundle = args.bundle or (ROOT / "runs" / "seed" / "bundle")
    bundles = {"shipped": "imdb", "general": "general"}  # by name: every shipped model, whatever the default
    if bundle.exists():
        bundles["seed"] = bundle
    imdb = [r.text for r in load_imdb(SHARED / "imdb" / "aclImdb_v1_labeled.tar.gz", splits=("test",),
                                      progress=False)][: args.n]
    short, n_sst2 = sst2(args.n)
    corpora = {"imdb_test": imdb, "sst2_test_cycled": short}

    clfs = {name: SentimentClassifier.from_pretrained(path) for name, path in bundles.items()}
    encoders = {name: clf.encoder for name, clf in clfs.items()}
    if "seed" not in bundles:  # a stop-word tokenizer all the same: the shipped vocabulary, english stop words
        sw = Tokenizer.from_file(str(clfs["shipped"].path / "tokenizer.json"))
        sw.pre_tokenizer = legacy_word_splitter("english")
        encoders["shipped_vocab_english"] = TextEncoder(sw, 200, "tail")
    olds = {name: OldEncoder(enc) for name, enc in encoders.items()}
    old_clfs = {}
    for name, path in bundles.items():
        old_clfs[name] = SentimentClassifier.from_pretrained(path)
        old_clfs[name].encoder = olds[name]

    result = {"benchmark": "text path: raw text to ids and to predictions", "machine": machine_info(),
              "tokenizers": tokenizers.__version__, "numpy": np.__version__, "torch": torch.__version__,
              "date": time.strftime("%Y-%m-%d %H:%M:%S"), "command": " ".join(sys.argv),
              "rounds": args.rounds, "statistic": "median over rounds, variants interleaved (rotated order)",
              "bundles": {k: f"shipped {v} (src/sentiment_lab/shipped/{v})" if v in ("imdb", "general") else str(v) for k, v in bundles.items()},
              "encoders": {k: {"stopwords": olds[k].stopwords, "max_len": e.max_len, "truncation": e.truncation,
                               "vocab_size": e.vocab_size} for k, e in encoders.items()},
              "corpora": {"imdb_test": f"first {len(imdb)} IMDB test reviews",
                          "sst2_test_cycled": f"the {n_sst2} SST-2 test sentences cycled to {len(short)}"}}
    for cname, texts in corpora.items():
        print(f"{cname}: {len(texts)} texts, {sum(map(len, texts)) / len(texts):.0f} chars each", flush=True)
        # identical ids first: a benchmark of a wrong encoder would mean nothing
        for name, enc in encoders.items():
            assert all(np.array_equal(a, b) for a, b in zip(enc.encode(texts), olds[name].encode(texts))), name
        variants = {}
        for name, enc in encoders.items():
            ref, ref_lc = reference(enc.tokenizer), reference(enc.tokenizer, lowercase=True)
            variants[f"{name}/reference_whitespace"] = lambda T, r=ref: r.encode_batch(T, add_special_tokens=False)
            variants[f"{name}/reference_lowercase_whitespace"] = \
                lambda T, r=ref_lc: r.encode_batch(T, add_special_tokens=False)
            variants[f"{name}/reference_whitespace_fast"] = \
                lambda T, r=ref: r.encode_batch_fast(T, add_special_tokens=False)
            variants[f"{name}/encoder_old"] = olds[name].encode
            variants[f"{name}/encoder_new"] = enc.encode
        for name, clf in clfs.items():
            seqs = clf.encoder.encode(texts)
            variants[f"{name}/predict_proba_old"] = old_clfs[name].predict_proba
            variants[f"{name}/predict_proba_new"] = clf.predict_proba
            variants[f"{name}/model_from_ids"] = lambda T, c=clf, s=seqs: c.runner.predict_logits(s, c.batch_size)
        res = interleaved(variants, texts, args.rounds)
        summary = {}
        for name in encoders:
            summary[name] = {
                "encoder_new_vs_reference_whitespace": ratios(res, f"{name}/encoder_new", f"{name}/reference_whitespace"),
                "encoder_new_vs_reference_whitespace_fast":
                    ratios(res, f"{name}/encoder_new", f"{name}/reference_whitespace_fast"),
                "encoder_old_vs_reference_whitespace": ratios(res, f"{name}/encoder_old", f"{name}/reference_whitespace"),
                "encoder_new_vs_old": ratios(res, f"{name}/encoder_new", f"{name}/encoder_old")}
        for name in clfs:
            summary[name].update({
                "predict_proba_new_vs_old": ratios(res, f"{name}/predict_proba_new", f"{name}/predict_proba_old"),
                "predict_proba_new_vs_model_from_ids":
                    ratios(res, f"{name}/predict_proba_new", f"{name}/model_from_ids")})
        result[cname] = {"variants": res, "ratios": summary}
        for name, s in summary.items():
            print(f"  {name}: " + ", ".join(f"{k} {v['wall']:.2f} (cpu {v['cpu']:.2f})" for k, v in s.items()),
                  flush=True)
    result["single_sentences"] = {}
    for name, clf in clfs.items():
        result["single_sentences"][name] = single_sentences(clf, short, args.single)
        print(name, json.dumps(result["single_sentences"][name]["median_ms"]), flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
