"""`sentiment-lab chat`: a conversation with an LLM in the terminal, the reply streamed token by
token, every message scored by the sentiment model, the transcript written after each turn.

In the conversation: /reset, /save FILE, /system TEXT, /quit (or Ctrl-D); Ctrl-C stops a reply
without ending the conversation (the partial reply is kept, marked interrupted).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.markup import escape

from sentiment_lab.cli._options import llm_model_option, old_name, output_option, renamed
from sentiment_lab.cli.app import app, panel
from sentiment_lab.cli.common import console, err_console, user_errors
from sentiment_lab.cli.generate import PROVIDER_HELP, llm_settings
from sentiment_lab.exceptions import SentimentLabError

HELP = "/reset (start over)  /save FILE  /system TEXT  /quit  -  Ctrl-C stops a reply"


@app.command(rich_help_panel=panel("chat"))
@user_errors
def chat(
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1 (default: Mistral's API, $MISTRAL_API_KEY)."),
    llm_model: Optional[str] = llm_model_option(),
    old_model: Optional[str] = old_name("--model"),
    provider: Optional[str] = typer.Option(None, "--provider", help=PROVIDER_HELP),
    api_key_env: Optional[str] = typer.Option(None, "--api-key-env", help="Environment variable holding the key."),
    persona: Optional[str] = typer.Option(None, "--persona", help="tutor-fr | tutor-en | plain | FILE (default: the tutor in the interface language)."),
    sentiment_model: Optional[str] = typer.Option(None, "--sentiment-model", help="A shipped model (general, imdb) or a bundle folder that scores each message (default: the default shipped model)."),
    no_monitor: bool = typer.Option(False, "--no-monitor", help="Score nothing (no sentiment model is loaded)."),
    output: Optional[Path] = output_option(help="Transcript (JSONL) written after each turn."),
    old_save: Optional[Path] = old_name("--save"),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue the conversation of a transcript (and write to it)."),
    max_context_tokens: int = typer.Option(8192, "--max-context-tokens", help="Context budget: history + reply room, in tokens."),
    reply_tokens: int = typer.Option(512, "--reply-tokens", help="Most tokens a reply may have (kept free in the budget)."),
    summarize: bool = typer.Option(False, "--summarize", help="Replace dropped turns by a summary the LLM writes."),
    temperature: float = typer.Option(0.7, "--temperature", help="Sampling temperature."),
    frustration_window: int = typer.Option(3, "--frustration-window", help="The user's last N messages the mood rule reads."),
    frustrated_after: int = typer.Option(2, "--frustrated-after", help="Negative messages among them that trigger the encouragement note."),
    flag_threshold: float = typer.Option(0.8, "--flag-threshold", help="A reply scored negative at this confidence or more is flagged."),
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds per request attempt (and between tokens)."),
    max_retries: int = typer.Option(4, "--max-retries", help="Retries with backoff on 429/5xx before the first token."),
) -> None:
    """Talk with an LLM (Mistral or any OpenAI-compatible server), a sentiment monitor beside it."""
    from sentiment_lab.chat import Chat, Monitor, MonitorRules, load_persona, load_scorer
    from sentiment_lab.compare.llm import LLMClient

    output = renamed(output, old_save, "--output", "--save")
    settings = llm_settings(provider, base_url, renamed(llm_model, old_model, "--llm-model", "--model"), api_key_env,
                            timeout, max_retries, 1, None, None, None, True, json_mode=False)
    settings.max_tokens = reply_tokens
    client = LLMClient(settings)
    rules = MonitorRules(window=frustration_window, frustrated_after=frustrated_after, flag_threshold=flag_threshold)
    options: dict[str, Any] = {"max_context_tokens": max_context_tokens, "reply_tokens": reply_tokens,
                               "summarize": summarize, "temperature": temperature}
    the_persona = load_persona(persona) if persona or not resume else None
    monitor = Monitor(None if no_monitor else load_scorer(sentiment_model), rules)
    if resume:
        conversation = Chat.load(resume, client, monitor=monitor, persona=the_persona,
                                 **({"path": output} if output else {}), **options)
    else:
        conversation = Chat(client, persona=the_persona, monitor=monitor, path=output, **options)
    converse(conversation)


def converse(conversation: Any) -> None:
    """The read-reply loop, until /quit, Ctrl-D or Ctrl-C at the prompt."""
    where = f", transcript: {conversation.path}" if conversation.path else ""
    console.print(f"[dim]{escape(conversation.client.name)}, persona {escape(conversation.persona.name)}{escape(where)}. "
                  f"{HELP}[/dim]", highlight=False)
    for m in conversation.context()[1:]:
        show(m)
    while True:
        try:
            line = console.input("[bold cyan]you>[/bold cyan] ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            break
        if line.strip().startswith("/"):
            if not command(conversation, line.strip()):
                break
        elif line.strip():
            turn(conversation, line)


def command(conversation: Any, line: str) -> bool:
    """Run a /command; False ends the conversation."""
    name, _, arg = line.partition(" ")
    try:
        if name in ("/quit", "/exit"):
            return False
        if name == "/reset":
            conversation.reset()
            console.print("[dim]conversation reset (the transcript keeps what came before)[/dim]")
        elif name == "/save":
            if not arg.strip():
                raise SentimentLabError("/save needs a file name: /save chat.jsonl")
            console.print(f"[dim]saved to {escape(str(conversation.save(arg.strip())))}[/dim]", highlight=False)
        elif name == "/system":
            conversation.set_system(arg)
            console.print("[dim]system prompt replaced[/dim]")
        else:
            console.print(f"[yellow]unknown command {escape(name)}[/yellow]: {HELP}", highlight=False)
    except SentimentLabError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
    return True


def turn(conversation: Any, text: str) -> None:
    """One turn: the user's sentiment, the reply as it streams, then its sentiment and the mood."""
    pieces = conversation.stream(text)
    started = False
    try:
        for piece in pieces:
            if not started:
                show_sentiment(conversation.messages[-1])
                console.print("[bold green]assistant>[/bold green] ", end="")
                started = True
            write(piece)
    except KeyboardInterrupt:
        pieces.close()
    except SentimentLabError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return
    finally:
        for notice in conversation.notices:
            err_console.print(f"[yellow]note:[/yellow] {escape(notice)}", highlight=False, soft_wrap=True)
        conversation.notices.clear()
    reply = conversation.messages[-1]
    if not started:
        show_sentiment(conversation.messages[-2])
        console.print("[bold green]assistant>[/bold green] ", end="")
    console.print()
    if reply.interrupted:
        console.print(f"[yellow]{escape('[' + (reply.error or 'interrupted') + ']')}[/yellow]", highlight=False)
    show_sentiment(reply)
    mood = conversation.monitor.mood(conversation.context())
    if mood:
        console.print(f"[dim]{escape(mood)}[/dim]", highlight=False)


def write(piece: str) -> None:
    """One piece of the reply, as it arrives (a test replaces it to press Ctrl-C midway)."""
    console.print(piece, end="", markup=False, highlight=False, soft_wrap=True)


def show(message: Any) -> None:
    """A message of a resumed conversation."""
    who = {"user": "you", "assistant": "assistant", "summary": "summary"}.get(message.role, message.role)
    console.print(f"[dim]{who}> {escape(message.text)}[/dim]", highlight=False, soft_wrap=True)


def show_sentiment(message: Any) -> None:
    s = message.sentiment
    if s:
        colour = "green" if s["label"] == "positive" else "red"
        console.print(f"  [{colour}]{s['label']} {s['score']:.2f}[/{colour}]", highlight=False)
    if message.flagged:
        console.print(f"  [bold red]flagged:[/bold red] {escape(message.flagged)}", highlight=False)
