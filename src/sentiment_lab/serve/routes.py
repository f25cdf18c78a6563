"""The versioned API (/v1/...) and the health probes. Model work never runs on the event
loop: single texts go through the micro-batcher, lists and files are cut into chunks that
take turns with the batches on the same worker thread, explanations run on their own thread
(see engine.py for why). Queued work is capped: past the caps a request gets 503 with a
Retry-After header rather than a place in an unbounded queue (docs/security.md)."""
from __future__ import annotations

import asyncio
import os
import re
import threading
from dataclasses import dataclass, field
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, Callable, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response

from sentiment_lab.exceptions import SentimentLabError
from sentiment_lab.serve import schemas as s
from sentiment_lab.serve.batcher import MicroBatcher, Overloaded
from sentiment_lab.serve.engine import Engine, Engines, UnknownModel
from sentiment_lab.serve.limits import RETRY_AFTER_S
from sentiment_lab.serve.uploads import UploadError, predictions_csv, read_upload

router = APIRouter()
MAX_EXPLAIN_PENDING = 8  # explanations waiting or running; more are refused with 503
FILE_CHUNK = 64  # most texts of a list or file scored per turn on the worker thread...
CHUNK_CHARS = 8_000  # ...and most characters: ~20 ms of the shipped model on one core, which is
# what a single text may wait for; smaller chunks cost nothing (from 8 reviews of 1,000
# characters on, the model's time per text does not fall: benchmarks/results/serve_mixed_load_cpu.json)
MAX_PARSING = 2  # uploads parsed at once (each up to MAX_UPLOAD_CHARS of text in memory)
# a /v1/predict body larger than this cannot be one text (20,000 characters, 6 bytes each as
# JSON \uXXXX escapes): it is a list, refused unread when the list queue is full
ONE_TEXT_MAX_BYTES = 6 * s.MAX_TEXT_CHARS + 1024
# The explain thread's nice value (Linux: per thread; 0 = leave it): an explanation keeps a
# core busy for ~0.5 s, and at the same priority it took that core from the event loop and the
# prediction thread (mixed load, 2 cores: single-text p99 296 ms with explanations, 103 without).
EXPLAIN_NICE = 10


@dataclass
class ServeState:
    """What the lifespan builds and the routes use (app.state.serve)."""

    engine: Engine  # the served (default) model's
    engines: Engines  # every model this server answers with, by name
    batcher: MicroBatcher
    explain_executor: ThreadPoolExecutor
    settings: dict[str, Any]
    explain_pending: int = 0
    parsing: int = 0  # uploads being parsed now
    ready: bool = False
    info_cache: dict[str, Any] = field(default_factory=dict)

    def refuse_before_body(self, path: str, length: int | None) -> str | None:
        """Why to refuse a request before its body is read (limits.BodyLimit answers 503 with
        Retry-After), or None: an upload, or a list too large to be one text, while the list
        and file queue is full. Refused after reading, they cost the event loop the parsing
        and validation of up to 10 MB each (a client retrying every second, many times over)."""
        if not self.ready:
            return None
        upload = path == "/v1/predict/file"
        large_list = path == "/v1/predict" and length is not None and length > ONE_TEXT_MAX_BYTES
        if (upload and self.parsing >= MAX_PARSING) or ((upload or large_list) and self.batcher.full()):
            self.batcher.refused += 1
            return ("server busy: the queue of lists and files is full "
                    f"({self.batcher.queued_chars:,} characters); retry shortly")
        return None


async def get_state(request: Request) -> ServeState:
    # async: a plain def dependency would cost a thread-pool hop on every request
    state = getattr(request.app.state, "serve", None)
    if state is None or not state.ready:
        raise HTTPException(503, "the model is not loaded yet")
    return state


@router.get("/healthz", response_model=s.Health, tags=["health"], summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=s.Health, tags=["health"], summary="Readiness: the model is loaded and serving",
            responses={503: {"model": s.Health}})
async def readyz(request: Request):
    from fastapi.responses import JSONResponse

    state = getattr(request.app.state, "serve", None)
    if state is None or not state.ready:
        return JSONResponse({"status": "unavailable", "detail": "the model is not loaded"}, status_code=503)
    if not state.batcher.running:
        return JSONResponse({"status": "unavailable", "detail": "the prediction worker stopped"}, status_code=503)
    return {"status": "ready"}


def model_name(state: ServeState, requested: str | None) -> str:
    """The model a request names (None: the served one), or 404 listing the names."""
    try:
        return state.engines.check(requested)
    except UnknownModel as exc:
        raise HTTPException(404, str(exc)) from None


def engine_call(state: ServeState, name: str, method: str) -> Callable[..., Any]:
    """The served model's Engine `method`; for another model, a call that loads it first, on
    the worker thread that runs the call (never on the event loop), once."""
    if name == state.engines.default:
        return getattr(state.engine, method)
    return lambda *args: getattr(state.engines.get(name), method)(*args)


def busy(message: str) -> HTTPException:
    """503 with Retry-After: the client should come back, not queue here."""
    return HTTPException(503, f"server busy: {message}; retry shortly", headers={"Retry-After": str(RETRY_AFTER_S)})


_BUSY = {"description": "overloaded; retry after the Retry-After header's seconds"}


@router.post("/v1/predict", response_model=s.PredictResponse, tags=["predict"],
             summary="Classify one text or a list of texts",
             responses={413: {"description": "request body over 2 MB"}, 503: _BUSY})
async def predict(body: s.PredictRequest, state: ServeState = Depends(get_state)) -> dict[str, Any]:
    name = model_name(state, body.model)
    try:
        if isinstance(body.text, str):  # one text: batched with other concurrent requests
            return {"model": name, "predictions": [await state.batcher.submit((name, body.text))]}
        return {"model": name, "predictions": await score(state, body.text, model=name)}
    except Overloaded as exc:
        raise busy(str(exc)) from None


def chunks(texts: list[str]) -> list[list[str]]:
    """Consecutive pieces of at most FILE_CHUNK texts and about CHUNK_CHARS characters (a
    longer text is a piece of its own): one turn on the worker thread each."""
    out: list[list[str]] = []
    piece: list[str] = []
    chars = 0
    for t in texts:
        if piece and (len(piece) >= FILE_CHUNK or chars + len(t) > CHUNK_CHARS):
            out.append(piece)
            piece, chars = [], 0
        piece.append(t)
        chars += len(t)
    if piece:
        out.append(piece)
    return out


async def score(state: ServeState, texts: list[str], request: Request | None = None,
                model: str | None = None) -> list[dict[str, Any]]:
    """Predictions for a list or a file's texts by `model` (None: the served one), admitted
    against the queued-characters cap (Overloaded if over it), scored chunk by chunk in turns
    with the micro-batches. Stops early when the client has gone away (`request` given)."""
    predict_fn = engine_call(state, model or state.engines.default, "predict")
    preds: list[dict[str, Any]] = []
    try:
        with state.batcher.admit(sum(map(len, texts))) as done:
            for piece in chunks(texts):
                preds += await state.batcher.run(predict_fn, piece)
                done(sum(map(len, piece)))
                if request is not None and await request.is_disconnected():
                    raise HTTPException(499, "the client closed the connection")
    finally:
        if state.batcher.queued_chars == 0 and state.explain_pending == 0:
            release_memory()
    return preds


_trim: dict[str, Any] = {"last": 0.0, "fn": None, "pending": False}
TRIM_EVERY_S = 5.0
TRIM_DELAY_S = 1.0


def release_memory() -> None:
    """Hand the C heap's free pages back to the OS (glibc's malloc_trim, in a pool thread):
    called when the last queued list, file or explanation is done, run TRIM_DELAY_S later (once
    the answer is sent and freed); at most one trim per TRIM_EVERY_S, a call inside that window
    deferred to its end, so the end of a burst always gets one.
    Each thread's malloc arena keeps the high-water mark of the requests it parsed and scored,
    and the process's RSS with it (mixed load, 2 cores: 601 MiB 10 s after the run without,
    511 MiB with; 414 MiB idle before). A no-op where there is no glibc."""
    import time

    if _trim["pending"]:
        return
    _trim["pending"] = True
    loop = asyncio.get_running_loop()
    # a second at least: the answer being sent now (its JSON, its texts) is freed by then
    loop.call_later(max(TRIM_DELAY_S, _trim["last"] + TRIM_EVERY_S - time.monotonic()), _trim_now, loop)


def _trim_now(loop: asyncio.AbstractEventLoop) -> None:
    import time

    _trim["pending"], _trim["last"] = False, time.monotonic()
    if _trim["fn"] is None:
        try:
            import ctypes

            _trim["fn"] = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _trim["fn"] = False
    if _trim["fn"] and not loop.is_closed():
        loop.run_in_executor(None, _trim["fn"], 0)


@router.post("/v1/explain", response_model=s.ExplainResponse, tags=["explain"],
             summary="Token attributions (Integrated Gradients, occlusion) and the running prediction of one text",
             responses={503: {"description": "too many explanations in progress; retry after Retry-After seconds"}})
async def explain(body: s.ExplainRequest, state: ServeState = Depends(get_state)) -> dict[str, Any]:
    name = model_name(state, body.model)
    if state.explain_pending >= MAX_EXPLAIN_PENDING:
        state.batcher.refused += 1
        raise busy(f"{MAX_EXPLAIN_PENDING} explanations are already in progress")
    state.explain_pending += 1
    try:
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(state.explain_executor, _background, engine_call(state, name, "explain"),
                                            body.text, body.ig_steps, body.internals)
        return {**answer, "model": name}
    except SentimentLabError as exc:
        raise HTTPException(400, str(exc)) from None
    finally:
        state.explain_pending -= 1
        if state.batcher.queued_chars == 0 and state.explain_pending == 0:
            release_memory()


_niced = threading.local()


def _background(fn: Callable[..., Any], *args: Any) -> Any:
    """Call fn on this (explain) thread after lowering the thread's priority, once: the OS
    then gives the cores to predictions and the event loop first."""
    if EXPLAIN_NICE and not getattr(_niced, "done", False):
        _niced.done = True
        try:  # Linux: setpriority on a thread id changes that thread only; raising nice needs no rights
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), EXPLAIN_NICE)
        except (AttributeError, OSError):
            pass
    return fn(*args)


@router.post("/v1/predict/file", response_model=s.FilePredictResponse, response_model_exclude_none=True,
             tags=["predict"],
             summary="Classify every row of an uploaded table (CSV, TSV, JSONL, Parquet or TXT, up to 10 MB)",
             responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                              "description": "JSON, or with format=csv a CSV file (text, label, score, p_positive, "
                                             "unknown_words) safe to open in a spreadsheet"},
                        400: {"description": "unreadable file, missing column, empty or too long text"},
                        413: {"description": f"file over 10 MB, over {s.MAX_FILE_ROWS:,} rows or over "
                                             f"{s.MAX_UPLOAD_CHARS:,} characters of text"},
                        503: _BUSY})
async def predict_file(request: Request,
                       file: UploadFile = File(..., description="the table; its extension picks the format"),
                       text_column: str = Form("text", description="column holding the texts"),
                       include_text: bool = Form(True, description="echo each row's text in the JSON answer "
                                                                   "(false: label and scores only, a smaller answer)"),
                       format: Literal["json", "csv"] = Query("json", description="json, or csv: the predictions "
                                                              "as a CSV download, formula-like cells neutralised"),
                       model: str | None = Form(None, description="the model to answer with (GET /v1/models; "
                                                                  "default: the served one)"),
                       state: ServeState = Depends(get_state)) -> Any:
    name = model_name(state, model)
    if state.batcher.full() or state.parsing >= MAX_PARSING:  # refused before the file is parsed
        state.batcher.refused += 1
        raise busy("the queue of lists and files is full")
    state.parsing += 1
    try:
        texts, column = await asyncio.get_running_loop().run_in_executor(
            None, read_upload, file.file, file.filename or "upload.csv", text_column)
    except UploadError as exc:
        raise HTTPException(exc.status, exc.detail) from None
    finally:
        state.parsing -= 1
    try:
        preds = await score(state, texts, request, name)
    except Overloaded as exc:
        raise busy(str(exc)) from None
    if format == "csv":
        return Response(predictions_csv(texts, preds), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": 'attachment; filename="sentiment-predictions.csv"'})
    if include_text:
        preds = [{"text": t, **p} for t, p in zip(texts, preds)]
    return {"model": name, "text_column": column, "count": len(texts), "predictions": preds}


@router.get("/v1/models", response_model=s.ModelList, tags=["model"],
            summary="The models this server answers with: name, language, training data, test accuracy, size")
async def models(state: ServeState = Depends(get_state)) -> dict[str, Any]:
    listed = await asyncio.to_thread(state.engines.describe)  # JSON files and sizes: off the event loop
    return {"default": state.engines.default, "models": listed}


@router.get("/v1/model", response_model=s.ModelInfo, tags=["model"],
            summary="A model's card, metrics and configuration (the served one by default), and the serving settings",
            responses={404: {"description": "no model of that name; the message lists the names"}})
async def model_info(model: str | None = Query(None, description="a name from GET /v1/models (default: the served one)"),
                     state: ServeState = Depends(get_state)) -> dict[str, Any]:
    name = model_name(state, model)
    if name not in state.info_cache:  # another model is loaded on the worker thread, in its turn
        engine = state.engine if name == state.engines.default else await state.batcher.run(state.engines.get, name)
        state.info_cache[name] = _model_info(engine, name, state.batcher.max_queued_chars)
    info = state.info_cache[name]
    b = state.batcher
    return {**info, "serving": {**state.settings, "batching": b.stats.to_dict(),
                                "forward_calls": dict(state.engine.calls),
                                "queue": {"queued_chars": b.queued_chars, "explanations_pending": state.explain_pending,
                                          "refused_503": b.refused}}}


def _model_info(engine: Engine, name: str, max_queued_chars: int) -> dict[str, Any]:
    import json

    clf = engine.classifier
    path = engine.path
    metrics_file, card_file = path / "metrics.json", path / "README.md"
    metrics = json.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file.is_file() else {}
    card = card_file.read_text(encoding="utf-8") if card_file.is_file() else ""
    mc = clf.config.model
    return {"name": name, "language": clf.meta["config"].get("text", {}).get("language") or "en",
            "labels": clf.labels, "max_len": clf.encoder.max_len,
            "vocab_size": clf.encoder.vocab_size, "created": clf.meta.get("created"),
            "sentiment_lab_version": clf.meta.get("sentiment_lab_version"),
            "architecture": {"arch": mc.arch, "embedding_dim": mc.embedding_dim, "hidden_size": mc.hidden_size,
                             "num_layers": mc.num_layers, "bidirectional": mc.bidirectional, "pooling": mc.pooling},
            "metrics": without_paths(metrics), "config": without_paths(clf.config.to_dict()),
            "card": _ABSOLUTE_PATH.sub(lambda m: m.group(1), card),
            "limits": {"max_text_chars": s.MAX_TEXT_CHARS, "max_batch": s.MAX_BATCH,
                       "max_json_bytes": s.MAX_JSON_BYTES, "max_upload_bytes": s.MAX_UPLOAD_BYTES,
                       "max_file_rows": s.MAX_FILE_ROWS, "max_upload_chars": s.MAX_UPLOAD_CHARS,
                       "max_queued_chars": max_queued_chars,
                       "max_explanations_pending": MAX_EXPLAIN_PENDING}}


# an absolute POSIX or Windows path in free text (not a URL's path): only its last part is kept
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/\\])(?:~|[A-Za-z]:)?[/\\](?:[^\s/\\`'\"]+[/\\])+([^\s/\\`'\"]+)")


def without_paths(value: Any) -> Any:
    """`value` (JSON-like) with every string that holds a file path cut to its file name: the
    API does not tell its clients where the training data or the model lives on the server
    (the bundle's config has data.path = /home/.../aclImdb_v1.tar.gz)."""
    if isinstance(value, dict):
        return {k: without_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_paths(v) for v in value]
    if isinstance(value, str) and ("/" in value or "\\" in value) and "://" not in value:
        return (PureWindowsPath(value) if "\\" in value else PurePosixPath(value)).name
    return value
