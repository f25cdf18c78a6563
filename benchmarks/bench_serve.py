"""Load test of `sentiment-lab serve` on 127.0.0.1 with wrk, plus the backend choice and
the oversize-body memory check; or (--mixed) the security audit's probes and a mixed load.

    .venv/bin/python benchmarks/bench_serve.py --out benchmarks/results/serve_cpu.json
    .venv/bin/python benchmarks/bench_serve.py --mixed --out benchmarks/results/serve_mixed_load_cpu.json

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

--mixed (no wrk needed; the server is `create_app` under uvicorn with the CLI's settings, in a
subprocess, so the run does not depend on the CLI):
1. probes (docs/security.md): a 33 KB Parquet file of 300,000 rows x 1,000 characters (server
   RSS before/after), 2,000 rows x 20,000 characters (time, answer size), a one-word request
   behind 24 concurrent 256-text requests (its wait), a request whose body never comes;
2. mixed load: --clients closed-loop clients for --duration seconds, each sending one request
   after another: single sentences (80%), lists of 256 review-length texts (10%), CSV files of
   1,000 such rows without the texts echoed (5%), explanations (5%); a 503 is counted and the
   client waits its Retry-After before going on. Reports single-text p50/p99, the share of
   503s per kind, and server RSS idle (before), peak, right after, and after 10 s idle.
The client is a minimal asyncio HTTP/1.1 client in this process (keep-alive, one connection
per client), on the same cores as the server.
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


def spawn_ready(cmd: list[str], port: int, env: dict | None = None) -> tuple[subprocess.Popen, float]:
    """Start the server command `cmd` and wait for its /readyz (180 s at most, else exit with a
    line); returns the process and its startup seconds."""
    import httpx

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
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


def start_server(bundle: str | None, port: int, extra: list[str]) -> tuple[subprocess.Popen, float]:
    exe = Path(sys.executable).with_name("sentiment-lab")
    return spawn_ready([str(exe), "serve", *([bundle] if bundle else []), "--port", str(port), "--no-access-log",
                        *extra], port)


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


# ---------------------------------------------------------------- --mixed: probes and mixed load

WORDS = ("the movie film was great awful acting plot boring brilliant story characters ending really not "
         "bad good best worst director script scenes music performance watch time love hate dull funny").split()


def review(rng, chars: int) -> str:
    words = []
    n = 0
    while n < chars:
        w = rng.choice(WORDS)
        words.append(w)
        n += len(w) + 1
    return " ".join(words)[:chars].strip()


def start_uvicorn(bundle: str | None, port: int, settings: list[str] = (),
                  env: dict | None = None) -> tuple[subprocess.Popen, float]:
    """create_app under uvicorn, as `sentiment-lab serve` runs it (same uvicorn settings);
    `settings`: "module.NAME=value" overrides of sentiment_lab.serve constants (experiments)."""
    sets = "".join(f"import sentiment_lab.serve.{m.rsplit('.', 1)[0]} as _m; _m.{m.rsplit('.', 1)[1]} = {v}; "
                   for m, v in (s.split("=", 1) for s in settings))
    code = (f"import uvicorn; {sets}from sentiment_lab.serve import create_app; "
            f"uvicorn.run(create_app({bundle!r}), host='127.0.0.1', port={port}, access_log=False, "
            "log_level='warning', timeout_graceful_shutdown=5)")
    return spawn_ready([sys.executable, "-c", code], port, env={**os.environ, **(env or {})})


def parquet_bytes(texts: list[str]) -> bytes:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table({"text": texts}), buf)  # pyarrow's defaults: dictionary encoding, snappy
    return buf.getvalue()


def post_file(port: int, name: str, data: bytes, timeout: float = 300, **form) -> tuple[int, int, float, str]:
    """(status, answer bytes, seconds, detail) of one upload."""
    import httpx

    t0 = time.perf_counter()
    try:
        r = httpx.post(f"http://127.0.0.1:{port}/v1/predict/file", files={"file": (name, data)}, data=form,
                       timeout=timeout)
    except httpx.HTTPError as exc:
        return 0, 0, round(time.perf_counter() - t0, 2), f"no answer: {type(exc).__name__}"
    dt = time.perf_counter() - t0
    detail = r.json().get("detail", "") if r.status_code != 200 and r.headers.get("content-type", "").startswith(
        "application/json") else ""
    return r.status_code, len(r.content), round(dt, 2), str(detail)[:200]


def probes(proc: subprocess.Popen, port: int) -> dict:
    import httpx
    import random
    from concurrent.futures import ThreadPoolExecutor

    out: dict = {}
    # 1. a small Parquet file that decodes to 300 million characters
    s = ("a great film " * 80)[:1000]
    data = parquet_bytes([s] * 300_000)
    before = rss_mib(proc.pid)
    status, size, dt, detail = post_file(port, "probe.parquet", data)
    time.sleep(2)
    out["parquet_300k_rows_x_1000_chars"] = {
        "file_bytes": len(data), "status": status, "detail": detail, "seconds": dt,
        "rss_mib_before": round(before, 1), "rss_mib_after": round(rss_mib(proc.pid), 1)}
    print("parquet probe:", out["parquet_300k_rows_x_1000_chars"], flush=True)
    # 2. 2,000 rows x 20,000 characters (one review of varied words, repeated: ~13 KB)
    rng = random.Random(0)
    data = parquet_bytes([review(rng, 20_000)] * 2_000)
    before = rss_mib(proc.pid)
    status, size, dt, detail = post_file(port, "wide.parquet", data)
    out["parquet_2000_rows_x_20000_chars"] = {
        "file_bytes": len(data), "status": status, "detail": detail, "seconds": dt, "answer_bytes": size,
        "rss_mib_before": round(before, 1), "rss_mib_after": round(rss_mib(proc.pid), 1)}
    print("wide probe:", out["parquet_2000_rows_x_20000_chars"], flush=True)
    # 3. one word behind 24 concurrent 256-text requests
    body = {"text": [review(rng, 600) for _ in range(256)]}

    def big(_):
        t0 = time.perf_counter()
        r = httpx.post(f"http://127.0.0.1:{port}/v1/predict", json=body, timeout=300)
        return r.status_code, time.perf_counter() - t0

    with ThreadPoolExecutor(24) as pool:
        futs = [pool.submit(big, i) for i in range(24)]
        time.sleep(1.0)  # all 24 sent and being served or refused
        t0 = time.perf_counter()
        r = httpx.post(f"http://127.0.0.1:{port}/v1/predict", json={"text": "great"}, timeout=300)
        one = time.perf_counter() - t0
        bigs = [f.result() for f in futs]
    out["one_word_behind_24_lists_of_256"] = {
        "one_word_status": r.status_code, "one_word_seconds": round(one, 3),
        "lists_status": {str(k): sum(1 for c, _ in bigs if c == k) for k in sorted({c for c, _ in bigs})},
        "lists_seconds_max": round(max(t for _, t in bigs), 2)}
    print("queue probe:", out["one_word_behind_24_lists_of_256"], flush=True)
    # 4. a request whose body never comes
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"text\": ")
        try:
            answer = sock.recv(4096).decode("utf-8", "replace").splitlines()[0]
        except (socket.timeout, IndexError):
            answer = "no answer within 20 s"
    out["stalled_body"] = {"answer": answer, "seconds": round(time.perf_counter() - t0, 1)}
    print("stalled body:", out["stalled_body"], flush=True)
    return out


class Client:
    """One keep-alive HTTP/1.1 connection; request() -> (status, headers, body bytes)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader = self.writer = None

    async def request(self, path: str, body: bytes, content_type: str) -> tuple[int, dict, bytes]:
        import asyncio

        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
                          f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        headers = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            k, _, v = line.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        data = await self.reader.readexactly(int(headers.get("content-length", 0)))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, headers, data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


def mixed_bodies(seed: int = 0) -> dict:
    import random

    rng = random.Random(seed)
    lengths = lambda: int(rng.uniform(200, 2_000))  # noqa: E731  (IMDB reviews: median ~1,000 chars)
    lists = [json.dumps({"text": [review(rng, lengths()) for _ in range(256)]}).encode() for _ in range(4)]
    files = []
    for _ in range(2):
        rows = "".join(f"\"{review(rng, lengths())}\"\n" for _ in range(1_000))
        files.append(b"--B\r\nContent-Disposition: form-data; name=\"include_text\"\r\n\r\nfalse\r\n"
                     b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"reviews.csv\"\r\n"
                     b"Content-Type: text/csv\r\n\r\ntext\n" + rows.encode() + b"\r\n--B--\r\n")
    explains = [json.dumps({"text": review(rng, 600)}).encode() for _ in range(4)]
    singles = [json.dumps({"text": s}).encode() for s in SENTENCES]
    return {"single": ("/v1/predict", singles, "application/json"),
            "list_256": ("/v1/predict", lists, "application/json"),
            "file_1000_rows": ("/v1/predict/file", files, "multipart/form-data; boundary=B"),
            "explain": ("/v1/explain", explains, "application/json")}


MIX = {"single": 0.80, "list_256": 0.10, "file_1000_rows": 0.05, "explain": 0.05}


def mixed_load(proc: subprocess.Popen, port: int, clients: int, seconds: float, mix: dict = MIX) -> dict:
    import asyncio
    import random

    bodies = mixed_bodies()
    kinds, weights = list(mix), list(mix.values())
    lat: dict[str, list[float]] = {k: [] for k in kinds}
    codes: dict[str, dict[int, int]] = {k: {} for k in kinds}
    rss: list[float] = []

    async def one_client(i: int, deadline: float) -> None:
        rng = random.Random(i)
        c = Client(port)
        n = 0
        while time.perf_counter() < deadline:
            kind = rng.choices(kinds, weights)[0]
            path, variants, ctype = bodies[kind]
            body = variants[n % len(variants)]
            n += 1
            t0 = time.perf_counter()
            try:
                status, headers, _ = await c.request(path, body, ctype)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                status, headers = 0, {}
                await c.close()
            dt = time.perf_counter() - t0
            codes[kind][status] = codes[kind].get(status, 0) + 1
            if status == 200:
                lat[kind].append(dt)
            elif status == 503:
                await asyncio.sleep(min(5.0, float(headers.get("retry-after", "1") or 1)))
        await c.close()

    async def sample(deadline: float) -> None:
        while time.perf_counter() < deadline:
            rss.append(rss_mib(proc.pid))
            await asyncio.sleep(0.5)

    async def main() -> float:
        deadline = time.perf_counter() + seconds
        t0 = time.perf_counter()
        await asyncio.gather(sample(deadline), *(one_client(i, deadline) for i in range(clients)))
        return time.perf_counter() - t0

    load_before = os.getloadavg()[0]
    idle = rss_mib(proc.pid)
    wall = asyncio.run(main())
    after = rss_mib(proc.pid)
    time.sleep(10)
    idle_after = rss_mib(proc.pid)

    def pct(xs: list[float], q: float) -> float | None:
        if not xs:
            return None
        xs = sorted(xs)
        return round(xs[min(len(xs) - 1, int(q / 100 * len(xs)))] * 1000, 1)

    kinds_out = {}
    for k in kinds:
        total = sum(codes[k].values())
        kinds_out[k] = {"requests": total, "status": {str(c): n for c, n in sorted(codes[k].items())},
                        "share_503": round(codes[k].get(503, 0) / total, 4) if total else None,
                        "ok_per_s": round(len(lat[k]) / wall, 1),
                        "p50_ms": pct(lat[k], 50), "p90_ms": pct(lat[k], 90), "p99_ms": pct(lat[k], 99),
                        "max_ms": pct(lat[k], 100)}
    total = sum(sum(c.values()) for c in codes.values())
    all_503 = sum(c.get(503, 0) for c in codes.values())
    res = {"clients": clients, "seconds": round(wall, 1), "mix": mix, "kinds": kinds_out,
           "share_503_all": round(all_503 / total, 4) if total else None,
           "other_errors": sum(n for c in codes.values() for s, n in c.items() if s not in (200, 503)),
           "rss_mib": {"idle_before": round(idle, 1), "peak": round(max(rss, default=idle), 1),
                       "right_after": round(after, 1), "idle_10s_after": round(idle_after, 1)},
           "load_avg_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
    print(json.dumps(res, indent=1), flush=True)
    return res


def main_mixed(args: argparse.Namespace) -> None:
    import httpx

    res: dict = {"benchmark": "sentiment-lab serve: the security audit's probes and a mixed load at "
                              f"{args.clients} clients", "machine": machine_info(),
                 "date": time.strftime("%Y-%m-%d %H:%M:%S"), "command": " ".join(sys.argv),
                 "load_avg_at_start": [round(x, 2) for x in os.getloadavg()], "overrides": args.set,
                 "client": "asyncio HTTP/1.1 client in the benchmark process, same cores as the server"}
    port = free_port()
    proc, startup = start_uvicorn(args.bundle, port, args.set)
    try:
        info = get_json(port, "/v1/model")
        res["server"] = {"startup_s": round(startup, 2), "limits": info["limits"],
                         **{k: v for k, v in info["serving"].items() if k not in ("batching", "forward_calls")}}
        for s in SENTENCES * 3:  # warm-up
            httpx.post(f"http://127.0.0.1:{port}/v1/predict", json={"text": s}, timeout=60)
        httpx.post(f"http://127.0.0.1:{port}/v1/explain", json={"text": SENTENCES[0]}, timeout=120)
        res["rss_mib_after_warmup"] = round(rss_mib(proc.pid), 1)
        if not args.no_probes:
            res["probes"] = probes(proc, port)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    if not args.no_load:  # a fresh server: the probes' memory is not the load's
        proc, _ = start_uvicorn(args.bundle, port, args.set)
        try:
            for s in SENTENCES * 3:
                httpx.post(f"http://127.0.0.1:{port}/v1/predict", json={"text": s}, timeout=60)
            httpx.post(f"http://127.0.0.1:{port}/v1/explain", json={"text": SENTENCES[0]}, timeout=120)
            mix = {**MIX, **{k: float(v) for k, v in (kv.split("=") for kv in args.mix.split(",") if kv)}}
            res["mixed_load"] = load = mixed_load(proc, port, args.clients, args.duration, mix)
            res["mixed_load"]["server_counters"] = get_json(port, "/v1/model")["serving"]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        single, mem = load["kinds"]["single"], load["rss_mib"]
        res["targets"] = {"single_p99_ms_max": 200, "single_p99_ms": single["p99_ms"],
                          "single_p99_met": single["p99_ms"] is not None and single["p99_ms"] < 200,
                          "rss_after_over_idle_max": 1.5,
                          "rss_after_over_idle": round(mem["right_after"] / mem["idle_before"], 2),
                          "rss_met": mem["right_after"] <= 1.5 * mem["idle_before"],
                          "overload_answered_503": load["other_errors"] == 0}
        print(json.dumps(res["targets"]), flush=True)
    res["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp_out = args.out.with_suffix(".json.tmp")
        tmp_out.write_text(json.dumps(res, indent=1) + "\n")
        os.replace(tmp_out, args.out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", help="model bundle (default: the shipped model)")
    ap.add_argument("--levels", type=int, nargs="+", default=[1, 8, 64])
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per level")
    ap.add_argument("--no-sweep", action="store_true", help="skip the backend sweep")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--mixed", action="store_true", help="the audit's probes and the mixed load (no wrk)")
    ap.add_argument("--clients", type=int, default=64, help="--mixed: concurrent clients")
    ap.add_argument("--no-probes", action="store_true", help="--mixed: skip the probes")
    ap.add_argument("--no-load", action="store_true", help="--mixed: skip the mixed load")
    ap.add_argument("--mix", default="", help="--mixed: shares of the request kinds, e.g. explain=0,single=0.85 "
                    f"(default {','.join(f'{k}={v}' for k, v in MIX.items())})")
    ap.add_argument("--set", action="append", default=[], metavar="MODULE.NAME=VALUE",
                    help="--mixed: override a constant of sentiment_lab.serve in the server, e.g. "
                         "routes.CHUNK_CHARS=8000 (repeatable)")
    args = ap.parse_args()
    if args.mixed:
        if args.duration == 10.0:
            args.duration = 45.0
        main_mixed(args)
        return
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
