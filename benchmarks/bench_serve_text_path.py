"""The server's single-sentence latency around the text-path change (issue 32), in one run:
`sentiment-lab serve` from several checkouts, started in turn, with wrk POSTing the course's
sentences to /v1/predict.

    git worktree add /tmp/wt168 168cbd5   # the parent of the text-path commit
    git worktree add /tmp/wt3b 3b01862    # the text-path commit
    .venv/bin/python benchmarks/bench_serve_text_path.py --variant before=/tmp/wt168 \
        --variant text_path=/tmp/wt3b --variant main/imdb=.:imdb --variant main/general=.:general \
        --out benchmarks/results/text_path_cpu/serve_before_after.json

A variant is NAME=CHECKOUT[:MODEL]: the package imported from CHECKOUT/src (PYTHONPATH; same
Python, same venv), serving MODEL (a shipped name or a bundle path; none: the checkout's
default, the IMDB model before `general` was shipped: same weights as today's `imdb`).

Each round starts every variant once, in an order rotated from round to round (so load from
other processes falls on all alike), warms it up for 2 s, then runs each --levels connection
count for --duration seconds. Reported: per variant and level, the median over rounds of
p50/p99/requests/s, every round's figures beside them, and each variant's p99 over the first
variant's. wrk runs on the same 2 cores as the server.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_seed import machine_info, write_result  # noqa: E402
from bench_serve import LUA, SENTENCES, free_port, level, spawn_ready  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def start(src: Path, model: str | None, port: int) -> subprocess.Popen:
    """`sentiment-lab serve` with the package imported from `src` (the checkout's src/;
    EXTRA_PYTHONPATH, e.g. ":/tmp/gcdbg", is appended for probes such as a sitecustomize)."""
    code = "import sys; from sentiment_lab.cli import main; sys.argv[0] = 'sentiment-lab'; main()"
    cmd = [sys.executable, "-c", code, "serve", *([model] if model else []), "--port", str(port), "--no-access-log"]
    env = {**os.environ, "PYTHONPATH": str(src) + os.environ.get("EXTRA_PYTHONPATH", "")}
    return spawn_ready(cmd, port, env)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", action="append", required=True, metavar="NAME=CHECKOUT[:MODEL]",
                    help="the first one is the baseline of the ratios")
    ap.add_argument("--levels", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    variants: dict[str, tuple[Path, str | None]] = {}
    commits = {}
    for spec in args.variant:
        name, _, rest = spec.partition("=")
        where, _, model = rest.partition(":")
        checkout = (ROOT if where in ("", ".") else Path(where)).resolve()
        variants[name] = (checkout / "src", model or None)
        head = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(["git", "-C", str(checkout), "status", "--porcelain", "src"], capture_output=True, text=True)
        commits[name] = head.stdout.strip() + (" + uncommitted changes in src/" if dirty.stdout.strip() else "")
    runs: dict[str, list[list[dict]]] = {v: [] for v in variants}
    names = list(variants)
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(LUA % ", ".join(json.dumps(json.dumps({"text": s})) for s in SENTENCES))
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                src, model = variants[name]
                port = free_port()
                proc = start(src, model, port)
                try:
                    print(f"round {r + 1} {name}", flush=True)
                    level(port, 8, 2, script)  # warm-up
                    runs[name].append([level(port, c, args.duration, script) for c in args.levels])
                finally:
                    proc.terminate()
                    proc.wait(timeout=30)
    summary = {}
    for name, rounds in runs.items():
        summary[name] = {}
        for i, c in enumerate(args.levels):
            rows = [rnd[i] for rnd in rounds]
            summary[name][f"connections_{c}"] = {
                k: statistics.median(row[k] for row in rows) for k in ("p50_ms", "p99_ms", "requests_per_s")}
            summary[name][f"connections_{c}"]["errors"] = sum(row["errors"] for row in rows)
    ratios = {}
    base = names[0]
    for c in args.levels:
        b = summary[base][f"connections_{c}"]["p99_ms"]
        for name in names[1:]:
            ratios[f"p99_{name}_over_{base}_c{c}"] = round(summary[name][f"connections_{c}"]["p99_ms"] / b, 3)
    res = {"benchmark": "server single-sentence latency before/after the text path", "machine": machine_info(),
           "date": time.strftime("%Y-%m-%d %H:%M:%S"), "command": " ".join(sys.argv),
           "variants": {n: {"commit": commits[n], "model": m or "the checkout's default"} for n, (_, m) in variants.items()},
           "rounds": args.rounds, "duration_s": args.duration,
           "statistic": "median over rounds; variants rotated per round",
           "client": "wrk on the same machine (shares the 2 cores)", "summary": summary, "ratios": ratios,
           "runs": runs}
    write_result(res, args.out)
    print(json.dumps({"summary": summary, "ratios": ratios}, indent=1))


if __name__ == "__main__":
    main()
