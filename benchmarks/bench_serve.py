"""Load test of `sentiment-lab serve` on 127.0.0.1 with wrk, plus the backend choice and
the oversize-body memory check.

    .venv/bin/python benchmarks/bench_serve.py --out benchmarks/results/serve_cpu.json

1. backends: NumPy vs PyTorch forward time per batch size, one thread each, in this process
   (what engine.SMALL_BATCH is based on);
2. the server as a subprocess (`sentiment-lab serve BUNDLE --no-access-log`), wrk POSTing
   single sentences (the course's examples, round robin) to /v1/predict at each level of
   concurrent connections for --duration seconds: requests/s, p50/p90/p99/max latency,
   errors (socket errors and non-2xx), and the mean micro-batch size from /v1/model;
3. the same at the highest level with --max-batch 1 (no micro-batching), for comparison;
4. memory: server RSS before and after a 20 MB upload (declared and chunked), a 20 MB JSON
   body and a 1 MB text, each sent 3 times; all must be refused (413/422).

Needs `wrk` (Debian: apt-get install -y wrk). wrk runs on the same cores as the server; the
load average before and after each level is recorded because the machine may be shared.
"""
from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_seed import machine_info  # noqa: E402

SENTENCES = ["This movie is absolutely fantastic and amazing", "I really enjoyed this film, the acting was great",
             "Terrible movie, waste of time", "The plot was boring and predictable", "It was okay, nothing special",
             "The acting was not good at all", "The first half was dull, but the ending was brilliant"]

LUA = """
local bodies = {%s}
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "/v1/predict", {["Content-Type"] = "application/json"}, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p90_us": %%d, ' ..
    '"p99_us": %%d, "max_us": %%d, "mean_us": %%.1f, "connect": %%d, "read": %%d, "write": %%d, "status": %%d, ' ..
    '"timeout": %%d}\\n', summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def backend_sweep(bundle: str | None, sizes=(1, 2, 4, 8, 16, 32, 64), reps: int = 30) -> dict:
    """Median ms per forward pass (tokenizing included) by batch size, NumPy vs PyTorch, 1 thread."""
    import torch
    from threadpoolctl import threadpool_limits

    from sentiment_lab.inference.classifier import SentimentClassifier

    torch.set_num_threads(1)
    out: dict = {}
    with threadpool_limits(1):
        clfs = {b: SentimentClassifier.from_pretrained(bundle, backend=b) for b in ("numpy", "torch")}
        for n in sizes:
            texts = (SENTENCES * (n // len(SENTENCES) + 1))[:n]
            row = {}
            for name, clf in clfs.items():
                clf.predict_proba(texts)
                times = []
                for _ in range(max(5, reps * 4 // n)):
                    t0 = time.perf_counter()
                    clf.predict_proba(texts)
                    times.append(time.perf_counter() - t0)
                row[name] = round(statistics.median(times) * 1000, 3)
            row["faster"] = min(("numpy", "torch"), key=lambda k: row[k])
            out[str(n)] = row
            print(f"batch {n:3d}: numpy {row['numpy']:.2f} ms, torch {row['torch']:.2f} ms", flush=True)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(port: int, path: str) -> dict:
    import httpx

    return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=30).json()


def start_server(bundle: str | None, port: int, extra: list[str]) -> tuple[subprocess.Popen, float]:
    import httpx

    exe = Path(sys.executable).with_name("sentiment-lab")
    cmd = [str(exe), "serve", *([bundle] if bundle else []), "--port", str(port), "--no-access-log", *extra]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode}: {' '.join(cmd)}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc, time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        if time.perf_counter() - t0 > 180:
            proc.kill()
            sys.exit("server not ready after 180 s")
        time.sleep(0.2)


def wrk(port: int, conns: int, seconds: float, script: Path) -> dict:
    cmd = ["wrk", "-t", str(min(2, conns)), "-c", str(conns), "-d", f"{seconds:g}s", "--timeout", "10s",
           "-s", str(script), f"http://127.0.0.1:{port}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("WRKJSON "))
    r = json.loads(line.removeprefix("WRKJSON "))
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    return {"connections": conns, "requests": r["requests"], "seconds": round(r["duration_us"] / 1e6, 2),
            "requests_per_s": round(r["requests"] / (r["duration_us"] / 1e6), 1),
            "p50_ms": r["p50_us"] / 1000, "p90_ms": r["p90_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
            "max_ms": r["max_us"] / 1000, "mean_ms": round(r["mean_us"] / 1000, 2), "errors": errors,
            "error_kinds": {k: r[k] for k in ("connect", "read", "write", "status", "timeout") if r[k]}}


def level(port: int, conns: int, seconds: float, script: Path) -> dict:
    before = get_json(port, "/v1/model")["serving"]["batching"]
    load_before = os.getloadavg()[0]
    r = wrk(port, conns, seconds, script)
    after = get_json(port, "/v1/model")["serving"]["batching"]
    batches = after["batches"] - before["batches"]
    r["mean_batch"] = round((after["items"] - before["items"]) / batches, 2) if batches else None
    r["load_avg_1min_before_after"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    print(f"{conns:3d} connections: {r['requests_per_s']:7.1f} req/s, p50 {r['p50_ms']:.1f} ms, "
          f"p99 {r['p99_ms']:.1f} ms, errors {r['errors']}, mean batch {r['mean_batch']}, "
          f"load {r['load_avg_1min_before_after']}", flush=True)
    return r


def rss_mib(pid: int) -> float:
    return next(int(ln.split()[1]) for ln in open(f"/proc/{pid}/status") if ln.startswith("VmRSS")) / 1024


def _complete(data: bytes) -> bool:
    """A whole HTTP answer: the head, and as many body bytes as its Content-Length says
    (the server keeps the connection open after some 413s, so EOF cannot be waited for)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    length = next((int(ln.split(b":", 1)[1]) for ln in head.split(b"\r\n")
                   if ln.lower().startswith(b"content-length:")), None)
    return length is None or len(body) >= length


def raw_request(port: int, path: str, headers: str, chunks) -> tuple[str, int]:
    """(status line + body snippet, body bytes sent before the server answered)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode())
        try:
            for chunk in chunks:
                if select.select([s], [], [], 0)[0]:
                    break
                s.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        try:
            while not _complete(data):
                part = s.recv(65536)
                if not part:
                    break
                data += part
        except (ConnectionResetError, socket.timeout):
            pass
    head, _, body = data.decode("utf-8", "replace").partition("\r\n\r\n")
    return f"{head.splitlines()[0] if head else 'no answer'} {body[:160]}", sent


def multipart_csv(mib: int):
    """A well-formed multipart upload of a CSV file of `mib` MiB (no closing boundary is
    needed: the server must refuse it long before the end)."""
    yield b'--B\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\nContent-Type: text/csv\r\n\r\ntext\n'
    line = b"a great film, really great\n"
    block = line * ((1 << 20) // len(line))
    for _ in range(mib):
        yield block


def chunked(parts):
    for p in parts:
        yield b"%x\r\n%s\r\n" % (len(p), p)


def memory_check(pid: int, port: int) -> dict:
    mib = b"x" * (1 << 20)
    big = 20 << 20
    text_1mb = json.dumps({"text": "great film " * ((1 << 20) // 11)}).encode()
    cases = {
        "upload_20MB_declared": ("/v1/predict/file", f"Content-Type: multipart/form-data; boundary=B\r\n"
                                 f"Content-Length: {big}\r\n", lambda: (mib for _ in range(20))),
        "upload_20MB_chunked": ("/v1/predict/file", "Content-Type: multipart/form-data; boundary=B\r\n"
                                "Transfer-Encoding: chunked\r\n", lambda: chunked(multipart_csv(20))),
        "json_20MB_declared": ("/v1/predict", f"Content-Type: application/json\r\nContent-Length: {big}\r\n",
                               lambda: (mib for _ in range(20))),
        "text_1MB": ("/v1/predict", f"Content-Type: application/json\r\nContent-Length: {len(text_1mb)}\r\n",
                     lambda: iter([text_1mb])),
    }
    out: dict = {"rss_mib_start": round(rss_mib(pid), 1)}
    for name, (path, headers, body) in cases.items():
        before = rss_mib(pid)
        answers = [raw_request(port, path, headers, body()) for _ in range(3)]
        out[name] = {"answer": answers[0][0], "body_bytes_sent_before_answer": [a[1] for a in answers],
                     "rss_mib_before": round(before, 1), "rss_mib_after": round(rss_mib(pid), 1),
                     "rss_growth_mib": round(rss_mib(pid) - before, 1)}
        print(f"{name}: {answers[0][0][:90]} | RSS {before:.1f} -> {rss_mib(pid):.1f} MiB", flush=True)
    out["rss_mib_end"] = round(rss_mib(pid), 1)
    out["refused_cleanly"] = all(out[k]["answer"].split()[1] in ("413", "422") for k in cases) and \
        out["rss_mib_end"] - out["rss_mib_start"] < 10
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", help="model bundle (default: the shipped model)")
    ap.add_argument("--levels", type=int, nargs="+", default=[1, 8, 64])
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per level")
    ap.add_argument("--no-sweep", action="store_true", help="skip the backend sweep")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install -y wrk)")
    res: dict = {"benchmark": "sentiment-lab serve, single-sentence /v1/predict under load", "machine": machine_info(),
                 "date": time.strftime("%Y-%m-%d %H:%M:%S"), "command": " ".join(sys.argv),
                 "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
                 "client": "wrk 4.1 on the same machine (shares its cores with the server)"}
    if not args.no_sweep:
        res["backends_ms_per_forward"] = backend_sweep(args.bundle)
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(LUA % ", ".join(json.dumps(json.dumps({"text": s})) for s in SENTENCES))
        port = free_port()
        proc, startup = start_server(args.bundle, port, [])
        try:
            res["server"] = {"startup_s": round(startup, 2), **get_json(port, "/v1/model")["serving"]}
            wrk(port, 8, 2, script)  # warm-up
            res["levels"] = [level(port, c, args.duration, script) for c in args.levels]
            res["memory"] = memory_check(proc.pid, port)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        top = max(args.levels)
        proc, _ = start_server(args.bundle, port, ["--max-batch", "1"])
        try:
            wrk(port, 8, 2, script)
            res["no_batching"] = level(port, top, args.duration, script)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    best = next(r for r in res["levels"] if r["connections"] == top)
    res["targets"] = {"at_connections": top, "requests_per_s_min": 500, "p99_ms_max": 200,
                      "met": best["requests_per_s"] >= 500 and best["p99_ms"] < 200 and best["errors"] == 0,
                      "memory_refused_cleanly": res["memory"]["refused_cleanly"]}
    res["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp_out = args.out.with_suffix(".json.tmp")
        tmp_out.write_text(json.dumps(res, indent=1) + "\n")
        os.replace(tmp_out, args.out)
    print(json.dumps(res["targets"]))


if __name__ == "__main__":
    main()
