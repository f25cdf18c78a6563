"""CPU inference backends on the shipped model: PyTorch vs NumPy vs onnxruntime fp32 vs
onnxruntime dynamic int8, and what int8 costs in accuracy, on real IMDB test reviews.

    python benchmarks/bench_onnx.py --out benchmarks/results/onnx_cpu.json

1. Export the shipped model (BiLSTM 128, max pooling, 20k words, 400 tokens) as a new
   bundle with model.onnx and model.int8.onnx (`export_onnx(None, DIR, quantize="int8")`).
2. Accuracy: a seeded, stratified 5,000-review subset of the 25k IMDB test split
   (`subsample(..., 5000, seed=0)`), scored by PyTorch (packed, the reference), ONNX fp32
   and ONNX int8: accuracy, agreement with PyTorch, largest |P(positive)| difference.
3. Speed, each backend in a fresh process (two runtimes in one process leave their thread
   pools spinning against each other on 2 cores), rounds interleaved, medians kept:
   throughput from token ids on the first 1,024 reviews of that subset at full length (up
   to 400 tokens), batch 256 (the NumPy runtime, slow in bulk, on the first 256); then warm
   single-sentence latency through SentimentClassifier, tokenizing included (median of 200).
   `--threads 1` pins every runtime to one thread: steadier on a shared machine.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_seed import ROOT, SENTENCE, machine_info  # noqa: E402

BACKENDS = ["torch", "torch-packed", "numpy", "onnx", "onnx-int8"]


def timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def accuracy(bundle: Path, seqs: list, y: np.ndarray) -> dict:
    """Accuracy of torch (packed, the reference), ONNX fp32 and ONNX int8 on the same ids."""
    from sentiment_lab.text.batching import predict_logits
    from sentiment_lab.inference.bundle import load_pretrained
    from sentiment_lab.inference.onnx_backend import OnnxRNN

    model = load_pretrained(bundle)[0]
    model.run_mode = "packed"
    import torch

    runs = {"torch": lambda s: predict_logits(model, s, 256, torch.device("cpu")),
            "onnx": OnnxRNN(bundle / "model.onnx").predict_logits,
            "onnx-int8": OnnxRNN(bundle / "model.int8.onnx").predict_logits}
    out, ref = {}, None
    for name, run in runs.items():
        p = 1 / (1 + np.exp(-run(seqs).astype(np.float64)))
        row = {"accuracy": float(np.mean((p >= 0.5) == y.astype(bool)))}
        if ref is None:
            ref = p
        else:
            row.update(agreement_with_torch=float(np.mean((p >= 0.5) == (ref >= 0.5))),
                       flipped=int(np.sum((p >= 0.5) != (ref >= 0.5))),
                       max_abs_p_diff=float(np.abs(p - ref).max()), mean_abs_p_diff=float(np.abs(p - ref).mean()))
        out[name] = row
        print(f"accuracy {name}: {row}", flush=True)
    return out


def one_backend(backend: str, bundle: Path, seqs_path: Path, n_numpy: int, threads: int | None) -> dict:
    """One backend in this (fresh) process: throughput from ids, then single-sentence latency."""
    from sentiment_lab.inference.classifier import SentimentClassifier

    clf = SentimentClassifier.from_pretrained(bundle, backend=backend.replace("-packed", ""))
    if threads and clf.backend == "torch":
        import torch

        torch.set_num_threads(threads)
    if threads and clf.backend.startswith("onnx"):
        from sentiment_lab.inference.onnx_backend import OnnxRNN

        clf.model = OnnxRNN(clf.model.path, threads)
    if backend == "torch-packed":
        clf.model.run_mode = "packed"
    data = np.load(seqs_path)
    seqs = np.split(data["ids"], np.cumsum(data["lengths"])[:-1])
    seqs = seqs[:n_numpy] if backend == "numpy" else seqs
    if clf.backend == "torch":
        from sentiment_lab.text.batching import predict_logits

        def run(s):
            return predict_logits(clf.model, s, 256, clf.device)
    else:
        def run(s):
            return clf.model.predict_logits(s, 256)
    run(seqs[:64])
    out = {"reviews_per_s": len(seqs) / timed(run, seqs), "n_reviews": len(seqs)}
    for _ in range(10):
        clf(SENTENCE)
    lat = [timed(clf, SENTENCE) for _ in range(200)]
    out.update(single_ms_median=1e3 * statistics.median(lat), single_ms_p90=1e3 * float(np.percentile(lat, 90)))
    return out


def measure(bundle: Path, seqs_path: Path, n_numpy: int, rounds: int, threads: int | None) -> dict:
    """Rounds of every backend, each run in a fresh process, interleaved; medians."""
    runs: dict[str, list[dict]] = {b: [] for b in BACKENDS}
    for r in range(rounds):
        for b in BACKENDS:
            cmd = [sys.executable, __file__, "--one", b, "--bundle", str(bundle), "--seqs", str(seqs_path),
                   "--n-numpy", str(n_numpy)] + (["--threads", str(threads)] if threads else [])
            env = dict(os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {}))
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if proc.returncode != 0:
                sys.exit(f"{b} failed:\n{proc.stderr[-3000:]}")
            runs[b].append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(f"threads {threads or 'default'} round {r + 1} {b}: {runs[b][-1]}", flush=True)
    return {b: {"reviews_per_s_median": statistics.median(x["reviews_per_s"] for x in v),
                "single_sentence_ms_median": statistics.median(x["single_ms_median"] for x in v),
                "n_reviews": v[0]["n_reviews"], "rounds": v} for b, v in runs.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archive", default=str(ROOT.parent / "shared" / "data" / "imdb" / "aclImdb_v1_labeled.tar.gz"))
    ap.add_argument("--n-accuracy", type=int, default=5000)
    ap.add_argument("--n-throughput", type=int, default=1024)
    ap.add_argument("--n-numpy", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[0], help="0: each runtime's default")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--bundle", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--seqs", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one_backend(args.one, args.bundle, args.seqs, args.n_numpy, args.threads[0] or None)))
        return

    import onnxruntime

    from sentiment_lab.inference.bundle import load_parts
    from sentiment_lab.data import load_imdb, subsample
    from sentiment_lab.inference.onnx_export import export_onnx

    res = {"benchmark": "CPU inference backends on the shipped model", "machine": machine_info(),
           "onnxruntime": onnxruntime.__version__, "date": time.strftime("%Y-%m-%d %H:%M:%S"),
           "command": " ".join(sys.argv), "load_average_start": os.getloadavg()}
    work = Path(tempfile.mkdtemp(prefix="bench_onnx_"))
    bundle = work / "bundle"
    t0 = time.perf_counter()
    res["export"] = export_onnx(None, bundle, quantize="int8")
    res["export_s"] = time.perf_counter() - t0
    res["sizes_bytes"] = {f.name: f.stat().st_size for f in bundle.iterdir() if f.suffix in (".onnx", ".safetensors")}

    records = subsample(load_imdb(args.archive, splits=("test",), progress=False), args.n_accuracy, 0)
    cfg, encoder, _ = load_parts(bundle)
    seqs = encoder.encode([r.text for r in records])
    y = np.array([r.label for r in records])
    res["subset"] = {"split": "test", "n": len(seqs), "seed": 0, "positive_share": float(y.mean()),
                     "tokens_mean": float(np.mean([len(s) for s in seqs])), "max_len": cfg.text.max_len}
    res["accuracy"] = accuracy(bundle, seqs, y)
    sub = seqs[:args.n_throughput]
    np.savez(work / "seqs.npz", ids=np.concatenate(sub), lengths=np.array([len(s) for s in sub]))
    res["throughput_tokens_mean"] = float(np.mean([len(s) for s in sub]))
    res["speed"] = {f"threads={t or 'default'}": measure(bundle, work / "seqs.npz", args.n_numpy, args.rounds, t or None)
                    for t in args.threads}
    res["load_average_end"] = os.getloadavg()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(res, indent=1) + "\n")
        tmp.replace(args.out)
    for key, speed in res["speed"].items():
        for b, v in speed.items():
            print(f"{key} {b}: {v['reviews_per_s_median']:.1f} reviews/s, one sentence {v['single_sentence_ms_median']:.2f} ms")


if __name__ == "__main__":
    main()
