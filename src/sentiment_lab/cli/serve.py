"""`sentiment-lab serve [BUNDLE]`: the REST API and the web page, on 127.0.0.1 by default."""
from __future__ import annotations

import errno
import socket
from pathlib import Path
from typing import Any, Optional

import typer

from sentiment_lab.cli._options import llm_model_option, model_option, old_name, pick_model
from sentiment_lab.cli.app import app, panel
from sentiment_lab.cli.common import err_console, user_errors
from sentiment_lab.exceptions import SentimentLabError


def check_port(host: str, port: int) -> None:
    """Fail with one line before loading anything if the address cannot be bound (uvicorn
    would only log it after the model has loaded)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise SentimentLabError(f"cannot resolve host {host!r}: {exc.strerror}") from None
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(addr)
        except OSError as exc:
            why = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound ({exc.strerror})"
            raise SentimentLabError(f"{host}:{port} {why}; choose another with --port") from None


@app.command(rich_help_panel=panel("serve"))
@user_errors
def serve(
    bundle: Optional[str] = typer.Argument(None, metavar="[MODEL]", help="A shipped model (imdb, general) or a bundle folder (default: the default shipped model; or -m MODEL)."),
    model: Optional[str] = model_option(),
    old_bundle: Optional[str] = old_name("--bundle"),
    host: str = typer.Option("127.0.0.1", help="Address to listen on. The API has no authentication: "
                             "only use 0.0.0.0 behind a proxy you trust."),
    port: int = typer.Option(8000, min=0, max=65535, help="TCP port."),
    backend: str = typer.Option("auto", help="auto (NumPy for small batches, PyTorch for large), numpy, torch or onnx."),
    threads: Optional[int] = typer.Option(None, min=1, help="Compute threads (default: all cores but one)."),
    max_batch: int = typer.Option(64, min=1, max=1024, help="Most single-text requests scored in one forward pass."),
    batch_wait_ms: float = typer.Option(2.0, min=0, max=1000, help="How long to gather requests into a batch."),
    access_log: bool = typer.Option(True, help="Log every request (off for load tests)."),
    limit_concurrency: Optional[int] = typer.Option(None, min=1, help="Most connections served at once; more get "
                                                    "503 (uvicorn's limit; none by default, see docs/security.md)."),
    allowed_hosts: list[str] = typer.Option([], "--allowed-host", help="Another host name the server answers for "
                                            "(repeatable; localhost names and --host always are; '*' for any, only "
                                            "behind a proxy that checks it). Guards against DNS rebinding."),
    chat: bool = typer.Option(False, "--chat", help="Turn on the Chat tab and /v1/chat with Mistral's API "
                              "($MISTRAL_API_KEY, read here and never sent to the page)."),
    llm_base_url: Optional[str] = typer.Option(None, "--llm-base-url", help="Turn on the chat with an "
                                               "OpenAI-compatible server instead, e.g. http://127.0.0.1:11434/v1."),
    llm_model: Optional[str] = llm_model_option(),
) -> None:
    """Serve predictions and explanations: REST API under /v1 (docs at /docs) and a web page at /."""
    import uvicorn

    from sentiment_lab.inference.bundle import read_meta, resolve_model
    from sentiment_lab.serve import create_app
    from sentiment_lab.serve.hosts import LOCAL_HOSTS
    from sentiment_lab.serve.engine import SERVE_BACKENDS

    bundle = pick_model(bundle, model, old_bundle)
    if backend not in SERVE_BACKENDS:
        raise SentimentLabError(f"--backend must be one of {', '.join(SERVE_BACKENDS)}, not {backend!r}")
    path = resolve_model(bundle)
    read_meta(path)  # a missing or altered bundle: one line, now, not a traceback from the lifespan
    if backend == "onnx":
        from sentiment_lab.inference.onnx_backend import exported_file, onnxruntime_available

        if not onnxruntime_available() or exported_file(path) is None:
            raise SentimentLabError(f"--backend onnx needs onnxruntime and a model.onnx in {path} "
                                    "(make one with `sentiment-lab export`)")
    check_port(host, port)
    if host not in ("127.0.0.1", "localhost", "::1"):
        err_console.print(f"warning: listening on {host}: anyone who can reach this address can use the API",
                          highlight=False)
    hosts = [*LOCAL_HOSTS, *allowed_hosts] + ([host] if host not in ("0.0.0.0", "::") else [])
    application = create_app(bundle, backend=backend, threads=threads, max_batch=max_batch, max_wait_ms=batch_wait_ms,
                             allowed_hosts=hosts, chat=chat_settings(chat, llm_base_url, llm_model))
    uvicorn.run(application, host=host, port=port, access_log=access_log, log_level="info",
                timeout_graceful_shutdown=5, limit_concurrency=limit_concurrency)


def chat_settings(chat: bool, base_url: Optional[str], llm_model: Optional[str]) -> Any:
    """The chat's LLM, or None (off) when neither --chat nor --llm-base-url is given; a missing
    key or model is reported now, before the server starts."""
    if not chat and not base_url:
        return None
    from sentiment_lab.compare.llm import LLMClient, LLMSettings
    from sentiment_lab.serve.chat_routes import ChatSettings

    client = LLMClient(LLMSettings(provider="openai" if base_url else "mistral", base_url=base_url, model=llm_model,
                                   use_cache=False, json_mode=False, max_tokens=512, max_retries=2, concurrency=1))
    return ChatSettings(client=client)
