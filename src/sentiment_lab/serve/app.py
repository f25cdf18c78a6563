"""The FastAPI application: `create_app(bundle)` builds it, the lifespan loads the model.

    from sentiment_lab.serve import create_app
    app = create_app("runs/seed/bundle")          # nothing is loaded yet
    uvicorn.run(app, host="127.0.0.1", port=8000)  # the lifespan loads the bundle, then serves

Importing this module loads no model and no torch: the bundle is read when the server
starts (the lifespan), so tests and tools can build apps cheaply and a broken bundle fails
the startup with one message.
"""
from __future__ import annotations

import asyncio
import gc
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, AsyncIterator, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from sentiment_lab import __version__
from sentiment_lab.serve import schemas
from sentiment_lab.serve.batcher import MicroBatcher
from sentiment_lab.serve.hosts import LOCAL_HOSTS, HostGuard
from sentiment_lab.serve.limits import BodyLimit
from sentiment_lab.serve.engine import Engines, SMALL_BATCH, default_threads
from sentiment_lab.serve.routes import ServeState, router
from sentiment_lab.serve.chat_routes import ChatSettings, chat_router

STATIC = Path(str(resources.files("sentiment_lab").joinpath("serve", "static")))

DESCRIPTION = """Sentiment of reviews with a recurrent network (sentiment-lab).

- `POST /v1/predict`: one text or a list (up to 256) -> label, score, P(positive), unknown words.
  Concurrent one-text requests are micro-batched into one forward pass.
- `POST /v1/explain`: token attributions and the running prediction of one text.
- `POST /v1/predict/file`: every row of an uploaded table (up to 10 MB).
- `GET /v1/models`: the models this server answers with (the one it started with and the shipped
  ones); predict and explain take an optional `model` (a name from this list), and every answer
  says which model answered.
- `GET /v1/model`: the model card, metrics and configuration (`?model=NAME` for another one).
- `POST /v1/chat`: one turn with the configured LLM, streamed as server-sent events, each message
  scored by the model (404 unless the server was started with an LLM: `serve --chat`).

Limits: 20,000 characters per text, 256 texts per request, 2 MB per JSON body. The web page is at `/`.
"""


def _set_threads(n: int) -> Any:
    """Limit torch and BLAS threads to `n`; returns what restores the previous settings."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    limiter = threadpool_limits(limits=n)  # NumPy's BLAS (the small-batch runtime)

    def restore() -> None:
        torch.set_num_threads(before)
        limiter.restore_original_limits()
    return restore


def create_app(bundle: str | Path | None = None, *, backend: str = "auto", threads: int | None = None,
               max_batch: int = 64, max_wait_ms: float = 2.0, small_batch: int = SMALL_BATCH,
               allowed_hosts: Sequence[str] = LOCAL_HOSTS, chat: ChatSettings | None = None) -> FastAPI:
    """A FastAPI app serving `bundle` (a shipped name, a folder; default: the default shipped
    model) and, on request, the other shipped models. Nothing is loaded until the app starts;
    `threads` = compute threads (default: all cores but one); `allowed_hosts`: the host names it
    answers for (hosts.HostGuard; "*" for any, behind a proxy that checks); `chat`: the LLM behind
    /v1/chat and the page's Chat tab (None: off, 404)."""
    threads = threads or default_threads()
    settings = {"backend": backend, "threads": threads, "max_batch": max_batch, "max_wait_ms": max_wait_ms,
                "small_batch": small_batch if backend == "auto" else 0}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        restore = _set_threads(threads)
        engines = await asyncio.to_thread(Engines, bundle, backend, small_batch)
        engine = engines.get()
        await asyncio.to_thread(engine.warm_up)  # before gc.freeze below: see Engine.warm_up
        settings["backends"] = {"small_batches": engine.small.backend, "large_batches": engine.large.backend}
        # one queue for single texts of every model: (model name, text) pairs, one forward pass per model
        batcher = MicroBatcher(engines.predict_items, max_batch=max_batch, max_wait_ms=max_wait_ms)
        explain_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="explain")
        await batcher.start()
        # The model, torch and the app are long-lived: move them out of the garbage
        # collector's view, or every collection re-scans them (measured: ~12% of the event
        # loop's time under load went to gc before this).
        gc.collect()
        gc.freeze()
        app.state.serve = ServeState(engine=engine, engines=engines, batcher=batcher, explain_executor=explain_pool,
                                     settings=settings, ready=True)
        try:
            yield
        finally:
            app.state.serve.ready = False
            await batcher.stop()
            explain_pool.shutdown(wait=True)
            gc.unfreeze()
            restore()

    app = FastAPI(title="sentiment-lab", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url="/docs", redoc_url=None)
    app.include_router(router)
    app.include_router(chat_router)
    app.state.chat = chat
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-cache"})

    app.add_middleware(BodyLimit, default=schemas.MAX_JSON_BYTES, per_path={"/v1/predict/file": schemas.MAX_UPLOAD_BYTES})
    app.add_middleware(HostGuard, allowed_hosts=tuple(allowed_hosts))  # outermost: checked first

    return app


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 body (a list of errors with locations), plus `message`: the first error
    as one readable line, e.g. "text: text is empty or only whitespace"."""
    errors = exc.errors()
    lines = []
    for e in errors:
        msg = str(e.get("msg", "invalid"))
        if e.get("type") == "json_invalid":
            lines.append(f"the body is not valid JSON ({e.get('ctx', {}).get('error', msg)})")
            continue
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
        lines.append(f"{loc}: {msg}" if loc and not msg.startswith(loc) else msg)
    detail = [{k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in errors]
    return JSONResponse({"detail": detail, "message": "; ".join(lines[:3]) or "invalid request"}, status_code=422)
