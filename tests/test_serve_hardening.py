"""The security audit's findings on the web API, in-process (issue: serve hardening):
uploads read within their limits (rows, characters, lines; Parquet from its footer), queued
work capped with 503 + Retry-After and single texts never stuck behind lists, texts echoed
only on request, no server paths in /v1/model, body-read timeouts (BodyLimit), and the CSV
download neutralising formula-like cells. The real-server checks (RSS, sockets, the page) are
in test_serve_hardening_server.py."""
from __future__ import annotations

import asyncio
import csv
import io
import json
import shutil
import threading
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import app_client

from sentiment_lab.serve import schemas
from sentiment_lab.serve.batcher import MicroBatcher, Overloaded
from sentiment_lab.serve.uploads import (MAX_LINE_BYTES, UploadError, csv_cell, predictions_csv, read_upload)


@pytest.fixture(scope="module")
def client(tiny_bundle):
    with app_client(tiny_bundle, max_wait_ms=5) as c:
        yield c


def parquet(table: dict, **kw) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table(table), buf, **kw)
    return buf.getvalue()


class CountingReader(io.BytesIO):
    """A file that counts the bytes read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.read_bytes = 0

    def read(self, n: int = -1) -> bytes:
        out = super().read(n)
        self.read_bytes += len(out)
        return out

    def readline(self, n: int = -1) -> bytes:
        out = super().readline(n)
        self.read_bytes += len(out)
        return out


# ---------------------------------------------------------------- 1. uploads within their limits

def test_a_small_parquet_file_of_many_rows_is_refused_from_its_footer(client, monkeypatch):
    """The audit's probe: 300,000 rows of a 1,000-character string compress to 33 KB; the
    whole table (~1 GB of strings) was decoded before the row limit was checked."""
    data = parquet({"text": [("a great film " * 80)[:1000]] * 300_000})
    assert len(data) < 40_000
    decoded = []
    monkeypatch.setattr(pq.ParquetFile, "iter_batches", lambda *a, **k: decoded.append(1) or iter(()))
    monkeypatch.setattr(pq, "read_table", lambda *a, **k: decoded.append(1) or pa.table({}))
    r = client.post("/v1/predict/file", files={"file": ("probe.parquet", data)})
    assert r.status_code == 413
    assert r.json()["detail"] == "the file has 300,000 rows; the limit is 10,000"
    assert decoded == []  # not a value was decoded


def test_a_dictionary_encoded_parquet_column_is_counted_before_it_is_decoded(client):
    """Within the row limit, but 501 rows of 20,000 characters: 10 million characters from
    one stored value. Refused (413) from the dictionary's lengths, before any Python string."""
    data = parquet({"text": ["good " * 4000] * 501})
    assert len(data) < 20_000
    t0 = time.perf_counter()
    r = client.post("/v1/predict/file", files={"file": ("wide.parquet", data)})
    assert r.status_code == 413
    assert r.json()["detail"] == "the file holds more than 10,000,000 characters of text; the limit is 10,000,000"
    assert time.perf_counter() - t0 < 10  # was: 2,000 such rows scored for 20 s and a 40 MB answer


def test_parquet_reads_only_the_text_column(monkeypatch):
    seen = []
    real = pq.ParquetFile.iter_batches

    def spy(self, *a, **k):
        seen.append(k.get("columns"))
        return real(self, *a, **k)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    data = parquet({"id": list(range(3)), "review": ["great", None, "awful"], "blob": [b"x" * 100] * 3})
    with pytest.raises(UploadError, match="row 2: text is empty"):
        read_upload(io.BytesIO(data), "r.parquet", "review")
    assert seen == [["review"]]
    texts, column = read_upload(io.BytesIO(parquet({"review": ["great", "awful"]})), "r.parquet", "review")
    assert (texts, column) == (["great", "awful"], "review")


@pytest.mark.parametrize("table, column, status, message", [
    ({"id": [1], "review": ["x"]}, "text", 400, "no column 'text' in the file; its columns are: id, review"),
    ({"text": [1, 2]}, "text", 400, "column 'text' holds int64 values, not text"),
    ({"text": ["fine", ""]}, "text", 400, "row 2: text is empty or only whitespace"),
    ({"text": ["x" * 20_001]}, "text", 400, "row 1: text has 20,001 characters; the limit is 20,000"),
    ({"text": ["ok"] * 10_001}, "text", 413, "the file has 10,001 rows; the limit is 10,000"),
])
def test_bad_parquet_uploads(table, column, status, message):
    with pytest.raises(UploadError) as e:
        read_upload(io.BytesIO(parquet(table)), "r.parquet", column)
    assert (e.value.status, e.value.detail) == (status, message)


def test_a_pandas_index_is_not_a_column():
    import pandas as pd

    buf = io.BytesIO()
    pd.DataFrame({"review": ["great"]}, index=[7]).to_parquet(buf)
    with pytest.raises(UploadError, match="its columns are: review$"):
        read_upload(io.BytesIO(buf.getvalue()), "r.parquet", "text")


def test_a_parquet_column_too_large_uncompressed_is_refused_from_the_footer(monkeypatch):
    from sentiment_lab.serve import uploads

    monkeypatch.setattr(uploads, "MAX_PARQUET_COLUMN_BYTES", 1000)
    data = parquet({"text": [f"review number {i} " * 10 for i in range(50)]}, use_dictionary=False)
    with pytest.raises(UploadError, match=r"column 'text' is \d+ MB uncompressed") as e:
        read_upload(io.BytesIO(data), "r.parquet")
    assert e.value.status == 413


@pytest.mark.parametrize("name, header", [("r.csv", b"text\n"), ("r.tsv", b"text\n"), ("r.txt", b""),
                                          ("r.jsonl", None)])
def test_text_formats_stop_reading_at_the_row_limit(name, header):
    rows = 50_000
    body = (b"".join(b'{"text": "great"}\n' for _ in range(rows)) if header is None
            else header + b"great film\n" * rows)
    f = CountingReader(body)
    with pytest.raises(UploadError, match="more than 10,000 rows; the limit is 10,000") as e:
        read_upload(f, name)
    assert e.value.status == 413
    assert f.read_bytes < len(body) / 4  # stopped at row 10,001 of 50,000


@pytest.mark.parametrize("name", ["r.csv", "r.jsonl", "r.txt"])
def test_text_formats_count_characters(name):
    text = "great film " * 100
    row = {"r.csv": text + "\n", "r.jsonl": json.dumps({"text": text}) + "\n", "r.txt": text + "\n"}[name]
    body = (b"text\n" if name == "r.csv" else b"") + row.encode() * 6  # 6,600 characters
    with pytest.raises(UploadError, match="holds more than 5,000 characters of text; the limit is 5,000") as e:
        read_upload(io.BytesIO(body), name, max_chars=5_000)
    assert e.value.status == 413
    texts, _ = read_upload(io.BytesIO(body), name, max_chars=1_000_000)
    assert texts[0] == text


def test_a_line_over_the_line_cap_is_refused_before_it_is_read_whole():
    body = b"text\ngreat\n" + b"x" * (2 * MAX_LINE_BYTES) + b"\n"
    f = CountingReader(body)
    with pytest.raises(UploadError, match="line 3 is longer than 1 MB") as e:
        read_upload(f, "r.csv")
    assert e.value.status == 413 and f.read_bytes < MAX_LINE_BYTES + 100


@pytest.mark.parametrize("name, body, column, texts", [
    ("r.csv", '\ufeffid,review\n1,"great, really"\n\n2,"two\nlines"\n3\n'.encode(), "review",
     None),  # row 3 has no review cell: empty
    ("r.csv", b"id,review\r\n1,great\r\n2,\"say \"\"awful\"\"\"\r\n", "review", ["great", 'say "awful"']),
    ("r.tsv", b"review\tid\n\"quoted\" as is\t1\n", "review", ['"quoted" as is']),
    ("r.jsonl", b'{"review": "great"}\n\n{"review": "awful", "id": 2}\n', "review", ["great", "awful"]),
    ("r.txt", b"great\r\n  \nawful\n", "ignored", ["great", "awful"]),
])
def test_text_formats_read_like_pandas(name, body, column, texts):
    if texts is None:
        with pytest.raises(UploadError, match="row 3: text is empty"):
            read_upload(io.BytesIO(body), name, column)
        return
    assert read_upload(io.BytesIO(body), name, column)[0] == texts


@pytest.mark.parametrize("name, body, message", [
    ("r.csv", b"a,text\n1,great,extra\n", "expected 2 fields in line 2, saw 3"),
    ("r.csv", b"", "the file is empty"),
    ("r.jsonl", b'{"text": "great"}\n[1, 2]\n', "line 2 is not a JSON object"),
    ("r.jsonl", b'{"text": "great"}\n{"text": \n', "cannot parse as jsonl: line 2"),
    ("r.jsonl", b'{"id": 1}\n{"id": 2}\n', "no column 'text' in the file; its columns are: id"),
    ("r.parquet", b"not parquet at all", "cannot parse as parquet"),
])
def test_unreadable_uploads_are_400s(name, body, message):
    with pytest.raises(UploadError, match=message) as e:
        read_upload(io.BytesIO(body), name)
    assert e.value.status == 400


def test_the_upload_formats_are_those_of_the_data_stage():
    from sentiment_lab.data.tabular import FORMATS
    from sentiment_lab.serve import uploads

    assert uploads.FORMATS == FORMATS


def test_the_server_does_not_import_pandas():
    """pandas (via data.tabular) cost the server ~140 MB of RSS at startup."""
    import subprocess
    import sys

    code = "import sys, sentiment_lab.serve.routes; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ---------------------------------------------------------------- 2. bounded work per request

def test_lists_take_turns_with_single_texts():
    """Three lists waiting and one text: the text runs after the current chunk, not after all
    the lists (it waited 32 s behind 24 lists of 256 texts)."""
    order: list[str] = []

    def fn(items):
        order.append("+".join(items))
        time.sleep(0.05)
        return items

    async def main():
        b = MicroBatcher(fn, max_batch=64, max_wait_ms=0)
        await b.start()
        lists = [asyncio.create_task(b.run(fn, [f"L{i}"])) for i in range(3)]
        await asyncio.sleep(0.01)  # L0 runs, L1 and L2 wait
        single = asyncio.create_task(b.submit("S"))
        await asyncio.gather(single, *lists)
        await b.stop()

    asyncio.run(main())
    assert order == ["L0", "S", "L1", "L2"]


def test_a_stream_of_single_texts_does_not_starve_the_lists():
    order: list[str] = []

    def fn(items):
        order.append(items[0][0])
        time.sleep(0.01)
        return items

    async def main():
        b = MicroBatcher(fn, max_batch=1, max_wait_ms=0)
        await b.start()
        singles = [asyncio.create_task(b.submit(f"s{i}")) for i in range(6)]
        await asyncio.sleep(0.005)
        lists = [asyncio.create_task(b.run(fn, [f"L{i}"])) for i in range(2)]
        await asyncio.gather(*singles, *lists)
        await b.stop()

    asyncio.run(main())
    assert "".join(order).startswith("sLsLs")  # alternating while both wait


def test_admission_caps_queued_characters():
    async def main():
        b = MicroBatcher(lambda xs: xs, max_queued_chars=100)
        with b.admit(60) as done:
            with b.admit(70):  # 60 queued, under the cap: admitted, and the queue goes past it
                assert b.queued_chars == 130 and b.full()
                with pytest.raises(Overloaded, match="130 characters of lists and files are already queued "
                                                     r"\(the limit is 100\)"):
                    with b.admit(1):
                        pass
            done(50)  # a chunk of 50 characters scored: the queue shrinks as a file is scored
            assert b.queued_chars == 10
            with b.admit(1):
                assert b.queued_chars == 11
        assert b.queued_chars == 0 and b.refused == 1

    asyncio.run(main())


def test_overloaded_lists_get_503_with_retry_after_and_a_single_text_is_not_stuck(client, monkeypatch):
    state = client.app.state.serve
    real = state.engine.predict

    def slow(texts):  # lists and files only: the micro-batcher holds its own reference
        time.sleep(0.002 * len(texts))
        return real(texts)

    monkeypatch.setattr(state.engine, "predict", slow, raising=False)
    monkeypatch.setattr(state.batcher, "max_queued_chars", 30_000)
    body = {"text": [f"a great film number {i:03d} " * 4 for i in range(200)]}  # 20,000 characters
    results: list = [None] * 8

    def send(i):
        results[i] = client.post("/v1/predict", json=body)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    time.sleep(0.3)
    t0 = time.perf_counter()
    one = client.post("/v1/predict", json={"text": "great"})
    waited = time.perf_counter() - t0
    for th in threads:
        th.join()
    assert one.status_code == 200
    assert waited < 1.5  # 8 lists one after another: 3.2 s
    codes = sorted(r.status_code for r in results)
    assert 200 in codes and 503 in codes, codes
    refused = next(r for r in results if r.status_code == 503)
    assert refused.headers["retry-after"] == "1"
    assert "characters of lists and files are already queued" in refused.json()["detail"]
    ok = next(r for r in results if r.status_code == 200)
    assert len(ok.json()["predictions"]) == 200


def test_explanations_over_the_cap_get_retry_after(client, monkeypatch):
    from sentiment_lab.serve.routes import MAX_EXPLAIN_PENDING

    monkeypatch.setattr(client.app.state.serve, "explain_pending", MAX_EXPLAIN_PENDING)
    r = client.post("/v1/explain", json={"text": "great"})
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert "explanations are already in progress" in r.json()["detail"]


def test_an_upload_is_refused_before_parsing_when_the_queue_is_full(client, monkeypatch):
    from sentiment_lab.serve import routes

    parsed = []
    monkeypatch.setattr(routes, "read_upload", lambda *a: parsed.append(1))
    monkeypatch.setattr(client.app.state.serve.batcher, "queued_chars", 10**9)
    r = client.post("/v1/predict/file", files={"file": ("r.csv", b"text\ngreat\n")})
    assert r.status_code == 503 and r.headers["retry-after"] == "1" and parsed == []


def test_the_explain_thread_runs_at_a_lower_priority(client):
    """Explanations keep a core busy for a while: at the same priority they doubled the
    single-text p99 of the mixed load (benchmarks/results/serve_mixed_load_cpu.json)."""
    import os

    from sentiment_lab.serve.routes import EXPLAIN_NICE

    assert client.post("/v1/explain", json={"text": "great film"}).status_code == 200
    state = client.app.state.serve
    nice = state.explain_executor.submit(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    assert nice.result() == os.getpriority(os.PRIO_PROCESS, 0) + EXPLAIN_NICE or nice.result() == 19


def test_when_the_queue_is_full_uploads_and_large_lists_are_refused_unread(client, monkeypatch):
    """Refused after reading, each cost the event loop the parsing of up to 10 MB; a single
    text still goes through."""
    monkeypatch.setattr(client.app.state.serve.batcher, "queued_chars", 10**9)
    not_json = b"[" * 200_000  # a 422 if it were read
    r = client.post("/v1/predict", content=not_json, headers={"content-type": "application/json"})
    assert r.status_code == 503 and r.headers["retry-after"] == "1" and "queue of lists and files is full" in r.text
    r = client.post("/v1/predict/file", files={"file": ("r.csv", b"text\ngreat\n")})
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert client.post("/v1/predict", json={"text": "great"}).status_code == 200
    small_list = client.post("/v1/predict", json={"text": ["great", "awful"]})  # read, then refused
    assert small_list.status_code == 503 and small_list.headers["retry-after"] == "1"


def test_file_texts_are_echoed_only_on_request(client):
    csv_bytes = b"text\ngreat film\nawful film\n"
    default = client.post("/v1/predict/file", files={"file": ("r.csv", csv_bytes)}).json()
    assert [p["text"] for p in default["predictions"]] == ["great film", "awful film"]
    bare = client.post("/v1/predict/file", files={"file": ("r.csv", csv_bytes)}, data={"include_text": "false"})
    assert bare.status_code == 200
    preds = bare.json()["predictions"]
    assert all("text" not in p for p in preds) and [p["label"] for p in preds] == \
        [p["label"] for p in default["predictions"]]


def test_long_lists_are_scored_in_chunks_in_order(client):
    from sentiment_lab.serve.routes import CHUNK_CHARS, FILE_CHUNK, chunks

    texts = ["x" * 100] * 300 + ["y" * (CHUNK_CHARS + 5)] + ["z"] * 3
    pieces = chunks(texts)
    assert [t for p in pieces for t in p] == texts
    assert all(len(p) <= FILE_CHUNK and (sum(map(len, p)) <= CHUNK_CHARS or len(p) == 1) for p in pieces)
    rows = "\n".join(f"review {i} great" if i % 2 else f"review {i} awful" for i in range(700))
    r = client.post("/v1/predict/file", files={"file": ("r.txt", rows.encode())})
    alone = client.post("/v1/predict", json={"text": ["review 0 awful", "review 699 great"]}).json()["predictions"]
    preds = r.json()["predictions"]
    assert len(preds) == 700 and preds[0]["text"] == "review 0 awful" and preds[-1]["text"] == "review 699 great"
    assert [preds[0]["label"], preds[-1]["label"]] == [a["label"] for a in alone]


# ---------------------------------------------------------------- 3. no server paths in /v1/model

def test_model_info_names_no_server_path(tmp_path, tiny_bundle):
    bundle = tmp_path / "bundle"
    shutil.copytree(tiny_bundle, bundle)
    meta = json.loads((bundle / "config.json").read_text())
    meta["config"]["data"]["path"] = "/home/alice/secret-project/data/reviews_2026.parquet"
    meta["config"]["data"]["test_path"] = "C:\\Users\\alice\\test.csv"
    if "manifest_sha256" in meta:  # a manifest that checks itself: sealed again, as anyone could
        from sentiment_lab.inference.bundle import LAYOUT
        from sentiment_lab.inference.integrity import seal

        meta = seal(meta, LAYOUT)
    (bundle / "config.json").write_text(json.dumps(meta))
    card = (bundle / "README.md").read_text()
    (bundle / "README.md").write_text(card + "\nTrained on /home/alice/secret-project/data/reviews_2026.parquet "
                                             "(see https://example.org/a/b).\n")
    with app_client(bundle) as c:
        r = c.get("/v1/model")
    info = r.json()
    assert info["config"]["data"]["path"] == "reviews_2026.parquet"
    assert info["config"]["data"]["test_path"] == "test.csv"
    assert "alice" not in r.text and str(tmp_path) not in r.text
    assert "Trained on reviews_2026.parquet (see https://example.org/a/b)" in info["card"]
    assert info["limits"]["max_upload_chars"] == schemas.MAX_UPLOAD_CHARS


def test_without_paths():
    from sentiment_lab.serve.routes import without_paths

    assert without_paths({"a": ["/x/y.txt", "plain", "delete,swap", 3], "u": "https://h/p"}) == \
        {"a": ["y.txt", "plain", "delete,swap", 3], "u": "https://h/p"}


# ---------------------------------------------------------------- 4. body-read timeouts

def run_body_limit(messages, idle=0.2, total=1.0):
    """Drive BodyLimit around an app that reads the whole body; `messages` are (delay, message)
    pairs the fake client sends. Returns (status, body) of the answer."""
    from fastapi import HTTPException

    from sentiment_lab.serve.limits import BodyLimit

    sent: list[dict] = []

    async def app(scope, receive, send):
        try:
            while True:
                m = await receive()
                if not m.get("more_body"):
                    break
        except HTTPException as exc:  # what FastAPI's handler does: JSON + the exception's headers
            await send({"type": "http.response.start", "status": exc.status_code,
                        "headers": [(k.encode(), v.encode()) for k, v in (exc.headers or {}).items()]})
            await send({"type": "http.response.body", "body": json.dumps({"detail": exc.detail}).encode()})
            return
        m = await receive()  # after the body: waits for the disconnect, with no timeout
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": m["type"].encode()})

    async def main():
        queue = list(messages)

        async def receive():
            if not queue:
                await asyncio.sleep(1.5 * total)
                return {"type": "http.disconnect"}
            delay, m = queue.pop(0)
            await asyncio.sleep(delay)
            return m

        async def send(m):
            sent.append(m)

        mw = BodyLimit(app, default=1000, idle_timeout=idle, total_timeout=total)
        await mw({"type": "http", "path": "/v1/predict", "headers": []}, receive, send)

    asyncio.run(main())
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], dict(start["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


def chunk(data: bytes, more: bool = True) -> dict:
    return {"type": "http.request", "body": data, "more_body": more}


def test_a_stalled_body_gets_408_and_a_closed_connection():
    status, headers, body = run_body_limit([(0, chunk(b"{"))])  # then nothing
    assert status == 408 and headers[b"connection"] == b"close"
    assert "the rest of the request body did not arrive in time" in json.loads(body)["detail"]


def test_a_trickled_body_gets_408_at_the_total_deadline():
    t0 = time.perf_counter()
    status, _, _ = run_body_limit([(0.1, chunk(b"x")) for _ in range(40)], idle=0.5, total=1.0)
    assert status == 408 and time.perf_counter() - t0 < 2.5  # each byte within the idle timeout


def test_a_prompt_body_passes_and_later_receives_have_no_timeout():
    status, _, body = run_body_limit([(0.05, chunk(b"{")), (0.05, chunk(b"}", more=False))], idle=0.2, total=0.5)
    assert (status, body) == (200, b"http.disconnect")  # waited 0.75 s for the disconnect


# ---------------------------------------------------------------- 5. CSV download

@pytest.mark.parametrize("value, expected", [
    ("=HYPERLINK(\"http://evil\",\"x\")", "'=HYPERLINK(\"http://evil\",\"x\")"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("a great film", "a great film"), ("it's = fine", "it's = fine"), ("", ""),
])
def test_csv_cell_neutralises_formulas(value, expected):
    assert csv_cell(value) == expected


def test_predictions_csv():
    preds = [{"label": "positive", "score": 0.91234567, "p_positive": 0.91234567, "unknown_words": ["-zorg"]},
             {"label": "negative", "score": 0.8, "p_positive": 0.2, "unknown_words": []}]
    data = predictions_csv(['=1+1, "quoted"; with ; semicolons\nand a line', "fine"], preds)
    assert data.startswith("\ufeff".encode()) and b"\r\n" in data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == {"text": '\'=1+1, "quoted"; with ; semicolons\nand a line', "label": "positive",
                       "score": "0.912346", "p_positive": "0.912346", "unknown_words": "'-zorg"}
    assert rows[1]["text"] == "fine" and rows[1]["unknown_words"] == ""
    assert data.decode("utf-8-sig").splitlines()[0] == '"text","label","score","p_positive","unknown_words"'


def test_file_predictions_as_csv(client):
    body = b"text\n=HYPERLINK(\"http://x\")\n@good film\nplain\n"
    r = client.post("/v1/predict/file?format=csv", files={"file": ("r.csv", body)})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    assert [row["text"] for row in rows] == ["'=HYPERLINK(\"http://x\")", "'@good film", "plain"]
    js = client.post("/v1/predict/file", files={"file": ("r.csv", body)}).json()["predictions"]
    assert [row["label"] for row in rows] == [p["label"] for p in js]
    assert client.post("/v1/predict/file?format=xml", files={"file": ("r.csv", body)}).status_code == 422
