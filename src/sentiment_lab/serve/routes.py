"""The versioned API (/v1/...) and the health probes. Model work never runs on the event
loop: single texts go through the micro-batcher, lists and files take turns on the same
worker thread, explanations run on their own thread (see engine.py for why)."""
from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass, field
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from pydantic_core import PydanticCustomError

from sentiment_lab.exceptions import SentimentLabError
from sentiment_lab.serve import schemas as s
from sentiment_lab.serve.batcher import MicroBatcher, Overloaded
from sentiment_lab.serve.engine import Engine

router = APIRouter()
MAX_EXPLAIN_PENDING = 8  # explanations waiting or running; more are refused with 503
FILE_CHUNK = 256  # rows of an uploaded file scored per turn on the worker thread


@dataclass
class ServeState:
    """What the lifespan builds and the routes use (app.state.serve)."""

    engine: Engine
    batcher: MicroBatcher
    explain_executor: ThreadPoolExecutor
    settings: dict[str, Any]
    explain_pending: int = 0
    ready: bool = False
    info_cache: dict[str, Any] = field(default_factory=dict)


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


@router.post("/v1/predict", response_model=s.PredictResponse, tags=["predict"],
             summary="Classify one text or a list of texts",
             responses={413: {"description": "request body over 2 MB"}, 503: {"description": "overloaded"}})
async def predict(body: s.PredictRequest, state: ServeState = Depends(get_state)) -> dict[str, Any]:
    try:
        if isinstance(body.text, str):  # one text: batched with other concurrent requests
            return {"predictions": [await state.batcher.submit(body.text)]}
        return {"predictions": await state.batcher.run(state.engine.predict, body.text)}
    except Overloaded as exc:
        raise HTTPException(503, f"server busy: {exc}; retry shortly") from None


@router.post("/v1/explain", response_model=s.ExplainResponse, tags=["explain"],
             summary="Token attributions (Integrated Gradients, occlusion) and the running prediction of one text",
             responses={503: {"description": "too many explanations in progress"}})
async def explain(body: s.ExplainRequest, state: ServeState = Depends(get_state)) -> dict[str, Any]:
    if state.explain_pending >= MAX_EXPLAIN_PENDING:
        raise HTTPException(503, f"{MAX_EXPLAIN_PENDING} explanations are already in progress; retry shortly")
    state.explain_pending += 1
    try:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(state.explain_executor, state.engine.explain, body.text, body.ig_steps,
                                          body.internals)
    except SentimentLabError as exc:
        raise HTTPException(400, str(exc)) from None
    finally:
        state.explain_pending -= 1


@router.post("/v1/predict/file", response_model=s.FilePredictResponse, tags=["predict"],
             summary="Classify every row of an uploaded table (CSV, TSV, JSONL, Parquet or TXT, up to 10 MB)",
             responses={400: {"description": "unreadable file, missing column, empty or too long text"},
                        413: {"description": "file over 10 MB or too many rows"}})
async def predict_file(file: UploadFile = File(..., description="the table; its extension picks the format"),
                       text_column: str = Form("text", description="column holding the texts"),
                       state: ServeState = Depends(get_state)) -> dict[str, Any]:
    texts, column = await asyncio.get_running_loop().run_in_executor(None, _read_upload, file, text_column)
    preds: list[dict[str, Any]] = []
    for i in range(0, len(texts), FILE_CHUNK):  # chunks: single-text requests get turns in between
        preds += await state.batcher.run(state.engine.predict, texts[i:i + FILE_CHUNK])
    return {"text_column": column, "count": len(texts),
            "predictions": [{"text": t, **p} for t, p in zip(texts, preds)]}


def _read_upload(file: UploadFile, text_column: str) -> tuple[list[str], str]:
    """Texts of the uploaded table, validated like /v1/predict; HTTPException 400 says why not."""
    from sentiment_lab.data.tabular import FORMATS, is_missing, read_table

    suffix = Path(file.filename or "upload.csv").suffix.lower() or ".csv"
    if suffix not in FORMATS:
        raise HTTPException(400, f"unknown file type {suffix!r}; use one of {', '.join(sorted(FORMATS))}")
    fd, tmp = tempfile.mkstemp(suffix=suffix, prefix="sentiment-lab-upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            file.file.seek(0)
            while chunk := file.file.read(1 << 20):
                out.write(chunk)
        df = read_table(tmp)
    except SentimentLabError as exc:
        raise HTTPException(400, str(exc).replace(tmp, file.filename or "upload")) from None
    finally:
        os.unlink(tmp)
    if text_column not in df.columns:
        if suffix == ".txt":
            text_column = "text"
        else:
            cols = ", ".join(map(str, df.columns)) or "none"
            raise HTTPException(400, f"no column {text_column!r} in the file; its columns are: {cols}")
    texts = list(df[text_column])
    if not texts:
        raise HTTPException(400, "the file has no rows")
    if len(texts) > s.MAX_FILE_ROWS:
        raise HTTPException(413, f"the file has {len(texts):,} rows; the limit is {s.MAX_FILE_ROWS:,}")
    for row, t in enumerate(texts, start=1):
        try:  # a JSONL null or missing key, a Parquet None/NaN: empty (str() made them the review "nan")
            s.check_text("" if is_missing(t) else t)
        except PydanticCustomError as exc:
            raise HTTPException(400, f"row {row}: {exc.message()}") from None
    return texts, text_column


@router.get("/v1/model", response_model=s.ModelInfo, tags=["model"],
            summary="The served model: card, metrics, configuration, serving settings")
async def model_info(state: ServeState = Depends(get_state)) -> dict[str, Any]:
    info = dict(state.info_cache) or _model_info(state)
    state.info_cache.update(info)
    return {**info, "serving": {**state.settings, "batching": state.batcher.stats.to_dict(),
                                "forward_calls": dict(state.engine.calls)}}


def _model_info(state: ServeState) -> dict[str, Any]:
    import json

    clf = state.engine.classifier
    path = state.engine.path
    metrics_file, card_file = path / "metrics.json", path / "README.md"
    metrics = json.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file.is_file() else {}
    card = card_file.read_text(encoding="utf-8") if card_file.is_file() else ""
    mc = clf.config.model
    return {"name": path.name, "labels": clf.labels, "max_len": clf.encoder.max_len,
            "vocab_size": clf.encoder.vocab_size, "created": clf.meta.get("created"),
            "sentiment_lab_version": clf.meta.get("sentiment_lab_version"),
            "architecture": {"arch": mc.arch, "embedding_dim": mc.embedding_dim, "hidden_size": mc.hidden_size,
                             "num_layers": mc.num_layers, "bidirectional": mc.bidirectional, "pooling": mc.pooling},
            "metrics": metrics, "config": clf.config.to_dict(), "card": card,
            "limits": {"max_text_chars": s.MAX_TEXT_CHARS, "max_batch": s.MAX_BATCH,
                       "max_json_bytes": s.MAX_JSON_BYTES, "max_upload_bytes": s.MAX_UPLOAD_BYTES,
                       "max_file_rows": s.MAX_FILE_ROWS}}
