"""`sentiment-lab generate`: synthetic reviews from an LLM, as JSONL training data.

Also home of the LLM options that `compare` shares (provider, base URL, model, key
variable, timeout, retries, concurrency, prices, cache).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from sentiment_lab.cli._options import llm_model_option, old_name, output_option, renamed
from sentiment_lab.cli.app import app, panel
from sentiment_lab.cli.common import console, err_console, user_errors

PROVIDER_HELP = "mistral (Mistral's API, $MISTRAL_API_KEY) or openai (any OpenAI-compatible server at --base-url)."


def llm_settings(provider: Optional[str], base_url: Optional[str], model: Optional[str], api_key_env: Optional[str],
                 timeout: float, max_retries: int, concurrency: int, price_in: Optional[float],
                 price_out: Optional[float], cache_dir: Optional[Path], no_cache: bool, json_mode: bool = True):
    """Settings from CLI options; a --base-url alone means an OpenAI-compatible server."""
    from sentiment_lab.compare.llm import LLMSettings

    provider = provider or ("openai" if base_url else "mistral")
    return LLMSettings(provider=provider, model=model, base_url=base_url, api_key_env=api_key_env, timeout=timeout,
                       max_retries=max_retries, concurrency=concurrency, price_in=price_in, price_out=price_out,
                       cache_dir=str(cache_dir) if cache_dir else None, use_cache=not no_cache, json_mode=json_mode)


def usage_line(usage: dict, cost_known: bool) -> str:
    cost = f"${usage['cost_usd']:.4f}" if cost_known and usage["cost_usd"] is not None else "cost unknown (no price)"
    return (f"{usage['requests']} requests ({usage['cache_hits']} from cache, {usage['retries']} retries, "
            f"{usage['errors']} errors), {usage['prompt_tokens']:,} prompt + {usage['completion_tokens']:,} "
            f"completion tokens, {cost}")


@app.command(rich_help_panel=panel("generate"))
@user_errors
def generate(
    sentiment: str = typer.Option(..., "--sentiment", help="positive | negative."),
    n: int = typer.Option(20, "--n", help="How many reviews (one request each)."),
    topic: str = typer.Option("a film", "--topic", help='What the reviews are about, e.g. "a science-fiction film".'),
    output: Path = output_option(Path("synthetic.jsonl"), help="JSONL file to write (text, label, ...)."),
    append: bool = typer.Option(False, "--append", help="Add to the file instead of replacing it."),
    words: int = typer.Option(120, "--words", help="Approximate length of each review."),
    temperature: float = typer.Option(0.9, "--temperature", help="Sampling temperature (variety)."),
    provider: Optional[str] = typer.Option(None, "--provider", help=PROVIDER_HELP),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1."),
    llm_model: Optional[str] = llm_model_option(),
    old_model: Optional[str] = old_name("--model"),
    api_key_env: Optional[str] = typer.Option(None, "--api-key-env", help="Environment variable holding the key."),
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds per request attempt."),
    max_retries: int = typer.Option(4, "--max-retries", help="Retries with backoff on 429/5xx/timeouts."),
    concurrency: int = typer.Option(4, "--concurrency", help="Requests in flight at most."),
    price_in: Optional[float] = typer.Option(None, "--price-in", help="USD per 1M input tokens (default: estimate table)."),
    price_out: Optional[float] = typer.Option(None, "--price-out", help="USD per 1M output tokens."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Answer cache (default: $SENTIMENT_LAB_HOME/llm-cache)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the answer cache."),
    check: bool = typer.Option(False, "--check", help="Score each review with the sentiment model and report the share "
                                                      "that reads as --sentiment (controllability)."),
    sentiment_model: Optional[Path] = typer.Option(None, "--sentiment-model", help="Bundle for --check (default: the shipped model)."),
) -> None:
    """Write synthetic reviews with an LLM (Mistral or any OpenAI-compatible server) to JSONL."""
    from sentiment_lab.compare.llm import LLMClient, check_reviews, generate_reviews, sentiment_scorer, write_jsonl

    llm_model = renamed(llm_model, old_model, "--llm-model", "--model")
    client = LLMClient(llm_settings(provider, base_url, llm_model, api_key_env, timeout, max_retries, concurrency,
                                    price_in, price_out, cache_dir, no_cache))
    scorer = sentiment_scorer(sentiment_model) if check else None  # a wrong bundle fails before any request
    rows, problems = generate_reviews(client, sentiment, n, topic, words=words, temperature=temperature)
    if scorer is not None and rows:
        c = check_reviews(rows, scorer)
        console.print(f"controllability: {c['matching']} of {c['reviews']} reviews ({c['share']:.0%}) read as "
                      f"{sentiment} by the sentiment model ({sentiment_model or 'the shipped model'})", highlight=False)
    for p in problems:
        err_console.print(f"[yellow]skipped[/yellow] {escape(str(p))}", highlight=False, soft_wrap=True)
    if rows:
        write_jsonl(rows, output, append=append)
    console.print(f"{len(rows)} of {n} {sentiment} reviews from {client.name} written to {output}"
                  if rows else f"no review could be generated by {client.name}; nothing written", highlight=False)
    console.print(usage_line(client.usage.as_dict(), client.prices is not None), highlight=False)
    if not rows:
        raise typer.Exit(1)
