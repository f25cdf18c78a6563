"""Peak memory of `sentiment-lab predict --input` as the file grows: flat, since it streams.

    python benchmarks/bench_stream.py --sizes 10000 100000 1000000 --out benchmarks/results/stream_cpu.json

Synthetic files of short reviews (4 to 16 words, seeded) are scored by the CLI in a child
process, one per file, with the shipped model exported to ONNX (the fastest CPU backend,
benchmarks/results/onnx_cpu.json) and the default chunk of 10,000 rows. The child's peak
RSS comes from os.wait4 (its own rusage, not the maximum over all children). Linux carries
the parent's RSS high-water mark into a forked child's ru_maxrss across exec, so this parent
stays a bare interpreter: the files, the export and the machine info are made by helper
subprocesses. Every output is checked to hold one prediction per input row.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = ("great awful boring lovely film movie plot acting the a was and not very really bad good story "
         "actors ending script wonderful terrible dull fun slow").split()


def make_file(path: Path, n: int, seed: int = 0, block: int = 100_000) -> None:
    """n rows of (id, text), written block by block so that the generator stays small too."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    for start in range(0, n, block):
        m = min(block, n - start)
        sizes = rng.integers(4, 17, size=m)
        words = rng.choice(WORDS, size=int(sizes.sum()))
        cuts = np.cumsum(sizes)[:-1]
        texts = [" ".join(w) for w in np.split(words, cuts)]
        df = pd.DataFrame({"id": np.arange(start, start + m), "text": texts})
        if path.suffix == ".csv":
            df.to_csv(path, mode="a", header=start == 0, index=False)
        else:
            with open(path, "a", encoding="utf-8") as f:
                df.to_json(f, orient="records", lines=True)


def run_cli(args: list[str]) -> dict:
    """Run the CLI; its own wall time and peak RSS (os.wait4: this child's rusage only)."""
    exe = Path(sys.executable).with_name("sentiment-lab")
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(exe), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(args)} failed:\n{out}\n{err}")
    return {"wall_s": wall, "peak_rss_mib": usage.ru_maxrss / 1024, "user_s": usage.ru_utime, "sys_s": usage.ru_stime,
            "stdout": out.strip()}


def count_rows(path: Path) -> int:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    with open(path, "rb") as f:
        return sum(1 for _ in f) - (path.suffix == ".csv")


def helper(*args: str) -> str:
    """Run this script in a helper mode (its own process); its stdout."""
    return subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True).stdout


def helper_mode(args: argparse.Namespace) -> None:
    if args.make:
        make_file(Path(args.make[0]), int(args.make[1]))
    elif args.export:
        from sentiment_lab.inference.onnx_export import export_onnx

        export_onnx(None, args.export)
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_seed import machine_info

        print(json.dumps(machine_info()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--formats", nargs="+", default=["csv:csv"], help="input:output suffix pairs, e.g. jsonl:parquet")
    ap.add_argument("--backend", default="onnx")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--make", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--export", help=argparse.SUPPRESS)
    ap.add_argument("--machine", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.make or args.export or args.machine:
        return helper_mode(args)

    work = Path(tempfile.mkdtemp(prefix="bench_stream_"))
    bundle = work / "bundle"
    helper("--export", str(bundle))
    res = {"benchmark": "streaming predict: peak RSS vs file size", "machine": json.loads(helper("--machine")),
           "date": time.strftime("%Y-%m-%d %H:%M:%S"), "command": " ".join(sys.argv), "backend": args.backend,
           "model": "shipped BiLSTM(128) exported to ONNX", "chunk_rows": 10_000, "load_average_start": os.getloadavg(),
           "runs": []}
    for fmt in args.formats:
        src_ext, dst_ext = fmt.split(":")
        for n in args.sizes:
            src, dst = work / f"in_{n}.{src_ext}", work / f"out_{n}.{dst_ext}"
            helper("--make", str(src), str(n))
            r = run_cli(["predict", "-m", str(bundle), "--input", str(src), "-o", str(dst), "--backend", args.backend,
                         "--no-progress"])
            rows = count_rows(dst)
            if rows != n:
                sys.exit(f"{dst}: {rows} rows, expected {n}")
            r.update(rows=n, input=f"{src_ext} ({src.stat().st_size / 2**20:.1f} MiB)",
                     output=f"{dst_ext} ({dst.stat().st_size / 2**20:.1f} MiB)", rows_per_s=n / r["wall_s"])
            print(json.dumps(r), flush=True)
            res["runs"].append(r)
            src.unlink()
            dst.unlink()
    rss = [r["peak_rss_mib"] for r in res["runs"]]
    res["peak_rss_max_over_min"] = max(rss) / min(rss)
    res["load_average_end"] = os.getloadavg()
    res["parent_peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # must stay below the children's
    if args.out:
        from sentiment_lab.fileio import write_json  # here: the parent stays light while it measures

        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_json(args.out, res)  # atomic, as every result file


if __name__ == "__main__":
    main()
