"""Seed preset vs the course notebook's Keras model, on the real IMDB data, in one run.

    python benchmarks/bench_seed.py --archive ../shared/data/imdb/aclImdb_v1_labeled.tar.gz \
        --keras-python /path/to/tf-venv/bin/python --seeds 42 43 44 --out benchmarks/results/seed_cpu.json

For each seed: train the seed preset on the full train split (20k train / 5k validation),
evaluate on the full 25k test split, then measure prediction throughput on the full-length
test reviews (from token ids, as Keras's `model.predict` on padded arrays is measured, and
end to end from raw text), warm single-sentence latency and peak memory. Each seed runs in
its own process (clean peak-RSS figures). The Keras reference (../shared/bench/keras_seed.py)
runs in the same session, interleaved between our seeds, and ratios are computed from the
two. A cold `sentiment-lab predict "..."` is timed as a whole command.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SENTENCE = "This movie is absolutely fantastic and amazing"


def machine_info() -> dict:
    import torch

    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    flags = next((ln.split(":", 1)[1].split() for ln in open("/proc/cpuinfo") if ln.startswith("flags")), [])
    mem = next((int(ln.split()[1]) // 1024 for ln in open("/proc/meminfo") if ln.startswith("MemTotal")), 0)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_mib": mem, "python": platform.python_version(),
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "avx512": "avx512f" in flags, "amx_bf16": "amx_bf16" in flags, "platform": platform.platform()}


def write_result(result: dict, out: Path | None) -> str:
    """The result as indented JSON, written to `out` (folders made, atomically: a run killed
    half-way leaves the previous result whole) when given; returned for printing."""
    text = json.dumps(result, indent=1)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(text + "\n")
        os.replace(tmp, out)
    return text


def one_seed(archive: str, seed: int, run_dir: str, limit: int | None) -> dict:
    """Train + evaluate + time predictions for one seed (runs in a child process)."""
    import torch

    from sentiment_lab.text.batching import predict_logits
    from sentiment_lab.inference.classifier import SentimentClassifier
    from sentiment_lab.config import load_config
    from sentiment_lab.training.loop import train

    overrides = [f"data.path={archive}", f"train.seed={seed}"] + ([f"data.limit={limit}"] if limit else [])
    cfg = load_config("seed", overrides)
    t0 = time.perf_counter()
    result = train(cfg, run_dir, progress=False)
    total_s = time.perf_counter() - t0
    test = result.metrics["test"]
    out = {"seed": seed, "test_accuracy": test["accuracy"], "test_f1_macro": test["f1_macro"],
           "test_loss": test["loss"], "test_roc_auc": test["roc_auc"], "best_epoch": result.best_epoch,
           "epoch_train_s": [h["train_s"] for h in result.history],
           "epoch_s": [h["train_s"] + h["val_s"] for h in result.history],  # Keras's epoch time includes validation
           "history": result.history, "train_command_s": total_s}

    from sentiment_lab.data import load_imdb, subsample
    texts = [r.text for r in subsample(load_imdb(archive, splits=("test",)), limit, 0)]
    clf = SentimentClassifier.from_pretrained(Path(run_dir) / "bundle")
    t0 = time.perf_counter()
    seqs = clf.encoder.encode(texts)
    out["tokenize_reviews_per_s"] = len(texts) / (time.perf_counter() - t0)
    dev = torch.device("cpu")
    for bs in (128, 512):
        predict_logits(clf.model, seqs[:512], bs, dev)  # warm-up
        out[f"predict_ids_reviews_per_s_bs{bs}"] = best_rate(lambda: predict_logits(clf.model, seqs, bs, dev), len(seqs))
    t0 = time.perf_counter()
    clf.predict_proba(texts)
    out["predict_text_reviews_per_s"] = len(texts) / (time.perf_counter() - t0)
    for _ in range(5):
        clf(SENTENCE)
    lat = []
    for _ in range(50):
        t0 = time.perf_counter()
        clf(SENTENCE)
        lat.append(time.perf_counter() - t0)
    out["single_sentence_ms_median"] = 1e3 * statistics.median(lat)
    np_clf = SentimentClassifier.from_pretrained(Path(run_dir) / "bundle", backend="numpy")
    for _ in range(5):
        np_clf(SENTENCE)
    lat = []
    for _ in range(50):
        t0 = time.perf_counter()
        np_clf(SENTENCE)
        lat.append(time.perf_counter() - t0)
    out["single_sentence_ms_median_numpy"] = 1e3 * statistics.median(lat)
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["shipped_check"] = clf(SENTENCE)
    out["onnx"] = onnx_throughput(archive, Path(run_dir) / "bundle", limit)
    out["load_average_end"] = list(os.getloadavg())
    return out


def best_rate(run, n: int, rounds: int = 3) -> float:
    """Reviews/s of the median of `rounds` passes (one pass over 25k reviews takes seconds)."""
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return n / statistics.median(times)


def onnx_throughput(archive: str, bundle: Path, limit: int | None) -> dict:
    """Export the bundle to ONNX (checked equal to PyTorch by the exporter) and time
    onnxruntime on the same token ids, in a fresh process: two runtimes' thread pools in one
    process spin against each other on 2 cores."""
    from sentiment_lab.inference.onnx_export import export_onnx

    exported = bundle.parent / "bundle_onnx"
    if not exported.exists():
        export_onnx(bundle, exported)
    cmd = [sys.executable, __file__, "--archive", archive, "--onnx-one", str(exported)] + (["--limit", str(limit)] if limit else [])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def onnx_one(archive: str, bundle: str, limit: int | None) -> dict:
    from sentiment_lab.inference.classifier import SentimentClassifier
    from sentiment_lab.data import load_imdb, subsample

    texts = [r.text for r in subsample(load_imdb(archive, splits=("test",)), limit, 0)]
    clf = SentimentClassifier.from_pretrained(bundle, backend="onnx")
    seqs = clf.encoder.encode(texts)
    out = {}
    for bs in (128, 512):
        clf.model.predict_logits(seqs[:512], bs)  # warm-up
        out[f"predict_ids_reviews_per_s_bs{bs}"] = best_rate(lambda: clf.model.predict_logits(seqs, bs), len(seqs))
    out["predict_text_reviews_per_s"] = best_rate(lambda: clf.predict_proba(texts), len(texts), rounds=1)
    for _ in range(5):
        clf(SENTENCE)
    lat = []
    for _ in range(50):
        t0 = time.perf_counter()
        clf(SENTENCE)
        lat.append(time.perf_counter() - t0)
    out["single_sentence_ms_median"] = 1e3 * statistics.median(lat)
    return out


def cold_predict(bundle: Path, n: int = 5) -> float:
    exe = Path(sys.executable).with_name("sentiment-lab")
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([str(exe), "predict", "-m", str(bundle), SENTENCE], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_keras(python: str, archive: str, variant: str) -> dict:
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "k.json"
        t0 = time.perf_counter()
        proc = subprocess.run([python, str(ROOT.parent / "shared" / "bench" / "keras_seed.py"), "--archive", archive,
                               "--variant", variant, "--out", str(out)], capture_output=True, text=True)
        if proc.returncode != 0:
            return {"variant": variant, "error": proc.stderr.strip().splitlines()[-1:]}
        res = json.loads(out.read_text())
        res["wall_s"] = time.perf_counter() - t0
        return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archive", default=str(ROOT.parent / "shared" / "data" / "imdb" / "aclImdb_v1_labeled.tar.gz"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    ap.add_argument("--keras-python", help="Python of a venv with TensorFlow; omit to skip the reference")
    ap.add_argument("--keras-variants", nargs="+", default=["notebook"])
    ap.add_argument("--limit", type=int, help="Quick check on N reviews per split (not for results)")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--run-dir", help=argparse.SUPPRESS)
    ap.add_argument("--onnx-one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.onnx_one:
        print(json.dumps(onnx_one(args.archive, args.onnx_one, args.limit)))
        return
    if args.one is not None:
        print(json.dumps(one_seed(args.archive, args.one, args.run_dir, args.limit)))
        return

    res = {"benchmark": "seed preset vs Keras notebook", "machine": machine_info(),
           "date": time.strftime("%Y-%m-%d %H:%M:%S"), "command": " ".join(sys.argv),
           "load_average_start": list(os.getloadavg()), "seeds": [], "keras": []}
    work = Path(tempfile.mkdtemp(prefix="bench_seed_"))
    keras_queue = list(args.keras_variants) if args.keras_python else []
    for k, seed in enumerate(args.seeds):
        cmd = [sys.executable, __file__, "--archive", args.archive, "--one", str(seed), "--run-dir", str(work / f"s{seed}")]
        if args.limit:
            cmd += ["--limit", str(args.limit)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"seed {seed} failed:\n{proc.stderr[-3000:]}")
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"seed {seed}: test acc {r['test_accuracy']:.4f}, epochs {[round(s, 1) for s in r['epoch_s']]}", flush=True)
        res["seeds"].append(r)
        if keras_queue and k < len(args.seeds) - 1:  # interleave the reference between our runs
            kr = run_keras(args.keras_python, args.archive, keras_queue.pop(0))
            print(f"keras {kr.get('variant')}: {kr.get('test_accuracy')}, epochs {kr.get('epoch_s')}", flush=True)
            res["keras"].append(kr)
    res["cold_predict_command_s_median"] = cold_predict(work / f"s{args.seeds[0]}" / "bundle")
    for variant in keras_queue:
        res["keras"].append(run_keras(args.keras_python, args.archive, variant))
    res["load_average_end"] = list(os.getloadavg())
    res["summary"] = summarize(res)
    write_result(res, args.out)
    print(json.dumps(res["summary"], indent=1))


def summarize(res: dict) -> dict:
    seeds = res["seeds"]

    def ms(key: str) -> dict:
        vals = [s[key] for s in seeds]
        return {"mean": statistics.mean(vals), "std": statistics.stdev(vals) if len(vals) > 1 else 0.0}

    epoch = statistics.median([e for s in seeds for e in s["epoch_s"]])
    out = {"test_accuracy": ms("test_accuracy"), "test_f1_macro": ms("test_f1_macro"),
           "epoch_s_median": epoch,
           "train_s_total_mean": statistics.mean(sum(s["epoch_s"]) for s in seeds),
           "train_command_s_mean": statistics.mean(s["train_command_s"] for s in seeds),
           "predict_ids_reviews_per_s": max(statistics.median(s[f"predict_ids_reviews_per_s_bs{b}"] for s in seeds)
                                            for b in (128, 512)),
           "predict_text_reviews_per_s": statistics.median(s["predict_text_reviews_per_s"] for s in seeds),
           "single_sentence_ms_median": statistics.median(s["single_sentence_ms_median"] for s in seeds),
           "single_sentence_ms_median_numpy": statistics.median(s["single_sentence_ms_median_numpy"] for s in seeds),
           "peak_rss_mib_max": max(s["peak_rss_mib"] for s in seeds),
           "cold_predict_command_s": res["cold_predict_command_s_median"]}
    onnx = [s["onnx"] for s in seeds if "error" not in s.get("onnx", {"error": 1})]
    if onnx:
        out["onnx_predict_ids_reviews_per_s"] = max(statistics.median(o[f"predict_ids_reviews_per_s_bs{b}"] for o in onnx)
                                                    for b in (128, 512))
        out["onnx_predict_text_reviews_per_s"] = statistics.median(o["predict_text_reviews_per_s"] for o in onnx)
        out["onnx_single_sentence_ms_median"] = statistics.median(o["single_sentence_ms_median"] for o in onnx)
    nb = next((k for k in res["keras"] if k.get("variant") == "notebook" and "epoch_s" in k), None)
    if nb:
        k_epoch = statistics.median(nb["epoch_s"])
        out["keras_notebook"] = {"test_accuracy": nb["test_accuracy"], "epoch_s_median": k_epoch,
                                 "predict_reviews_per_s": nb["predict_reviews_per_s"],
                                 "single_review_ms_predict": nb["single_review_ms_median_predict"]}
        out["ratios"] = {"epoch_time_ours_over_keras": epoch / k_epoch,
                         "predict_throughput_ours_over_keras": out["predict_ids_reviews_per_s"] / nb["predict_reviews_per_s"],
                         "predict_from_text_ours_over_keras_from_ids": out["predict_text_reviews_per_s"] / nb["predict_reviews_per_s"]}
        if onnx:
            out["ratios"]["predict_throughput_onnx_over_keras"] = out["onnx_predict_ids_reviews_per_s"] / nb["predict_reviews_per_s"]
    return out


if __name__ == "__main__":
    main()
