"""`sentiment-lab compare`: every available method side by side on the same texts."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape
from rich.table import Table

from sentiment_lab.cli._options import llm_model_option, model_option, old_name, output_option, pick_model
from sentiment_lab.cli.app import app, panel
from sentiment_lab.cli.common import console, user_errors
from sentiment_lab.cli.generate import PROVIDER_HELP, llm_settings, usage_line
from sentiment_lab.exceptions import ConfigError


def _rich(title: str, table: list[list[str]]) -> Table:
    t = Table(title=title, show_lines=False)
    for i, col in enumerate(table[0]):
        t.add_column(escape(col), justify="left" if i == 0 else "right", overflow="fold",
                     max_width=48 if i == 0 else None)
    for row in table[1:]:
        t.add_row(*(escape(c) for c in row))
    return t


def _baseline_dirs(specs: list[str]) -> dict[str, str]:
    from sentiment_lab.exceptions import ConfigError

    out = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise ConfigError(f"--baseline expects NAME=DIR (e.g. tfidf=runs/tfidf), got {spec!r}")
        out[name.strip()] = path.strip()
    return out


def _imdb(data: Optional[str], no_imdb: bool) -> tuple[list, list, Optional[str]]:
    """(train, test, reason when absent). Never downloads: compare is for what is at hand."""
    from sentiment_lab.data.imdb import ARCHIVE_NAME, home, load_imdb

    if no_imdb:
        return [], [], "--no-imdb"
    path = data or (str(home() / ARCHIVE_NAME) if (home() / ARCHIVE_NAME).exists() else None)
    if path is None:
        return [], [], "no IMDB data here: pass --data PATH or run `sentiment-lab download`"
    records = load_imdb(path, progress=False)
    return [r for r in records if r.split == "train"], [r for r in records if r.split == "test"], None


@app.command(rich_help_panel=panel("compare"))
@user_errors
def compare(
    sentences: Optional[List[str]] = typer.Argument(None, help="Sentences for the side-by-side table (default: the notebook's)."),
    methods: str = typer.Option(",".join(("rnn", "vader", "tfidf", "nbsvm", "fasttext", "sentence-embeddings", "llm-0shot", "llm-kshot")),
                                "--methods", help="Comma-separated methods to run."),
    model: Optional[str] = model_option("RNN: a shipped model (imdb, general) or a bundle folder (default: the default shipped model)."),
    old_bundle: Optional[str] = old_name("--bundle"),
    baseline: Optional[List[str]] = typer.Option(None, "--baseline", help="NAME=DIR: a saved baseline (repeatable)."),
    data: Optional[str] = typer.Option(None, "--data", help="aclImdb archive/folder (default: the cached download)."),
    n: int = typer.Option(200, "--n", help="Test reviews in the IMDB sample, or in each --datasets sample (seeded, stratified)."),
    seed: int = typer.Option(42, "--seed", help="Seed of the IMDB sample, training subsets and k-shot examples."),
    train_limit: int = typer.Option(2000, "--train-limit", help="IMDB train reviews for baselines trained on the fly."),
    no_imdb: bool = typer.Option(False, "--no-imdb", help="Leave the IMDB sample out."),
    datasets: Optional[str] = typer.Option(None, "--datasets", help="Named datasets or a mixture, e.g. "
                                           "imdb+sst2+amazon-blitzer: --n test rows of each, reported per dataset; "
                                           "baselines trained here on the mixture's training rows (replaces --data)."),
    no_challenge: bool = typer.Option(False, "--no-challenge", help="Leave the challenge suite out."),
    k_shot: int = typer.Option(4, "--k-shot", help="Demonstrations for llm-kshot."),
    provider: Optional[str] = typer.Option(None, "--provider", help=PROVIDER_HELP),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1."),
    llm_model: Optional[str] = llm_model_option(),
    api_key_env: Optional[str] = typer.Option(None, "--api-key-env", help="Environment variable holding the key."),
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds per LLM request attempt."),
    max_retries: int = typer.Option(4, "--max-retries", help="Retries with backoff on 429/5xx/timeouts."),
    concurrency: int = typer.Option(4, "--concurrency", help="LLM requests in flight at most."),
    price_in: Optional[float] = typer.Option(None, "--price-in", help="USD per 1M input tokens (default: estimate table)."),
    price_out: Optional[float] = typer.Option(None, "--price-out", help="USD per 1M output tokens."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="LLM answer cache (default: $SENTIMENT_LAB_HOME/llm-cache)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the LLM answer cache."),
    output: Path = output_option(Path("runs/compare"), help="Directory for compare.json/.md and CSV tables."),
) -> None:
    """RNN vs lexicon, TF-IDF, NBSVM, sentence embeddings and LLMs on the same texts."""
    from sentiment_lab.compare.side_by_side import build_methods, build_samples, run_compare, write_outputs
    from sentiment_lab.text.tokenizer import check_text

    model = pick_model(None, model, old_bundle)
    names = [m.strip() for m in methods.split(",") if m.strip()]
    if not names:
        raise ConfigError("--methods is empty; give a comma-separated list, e.g. rnn,vader,nbsvm")
    if n < 1 or train_limit < 1:
        raise ConfigError("--n and --train-limit must be at least 1")
    for s in sentences or []:
        check_text(s)
    per_dataset, train_name = [], "IMDB train reviews"
    if datasets:
        from sentiment_lab.compare.by_dataset import dataset_samples

        with console.status(f"loading {datasets}..."):
            per_dataset, train = dataset_samples(datasets, n=n, seed=seed, train_limit=train_limit)
        test, imdb_reason, train_name = [], None, f"training texts of {datasets}"
    else:
        train, test, imdb_reason = _imdb(data, no_imdb)
    samples = per_dataset + build_samples(test, n=n, seed=seed, challenge=not no_challenge, sentences=sentences or [])
    settings = llm_settings(provider, base_url, llm_model, api_key_env, timeout, max_retries, concurrency,
                            price_in, price_out, cache_dir, no_cache)
    found, skipped, notes = build_methods(names, model, _baseline_dirs(baseline or []), train, train_limit, seed,
                                          settings, k_shot, train_name)
    if not found:
        from sentiment_lab.exceptions import SentimentLabError

        raise SentimentLabError("no method could run: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    with console.status("predicting..."):
        result = run_compare(found, samples, skipped, notes)
    if imdb_reason:
        result["imdb_sample"] = f"left out ({imdb_reason})"
    _print(result)
    for name, m in found.items():
        if hasattr(m, "client"):
            result.setdefault("llm_usage", {})[name] = m.client.usage.as_dict()
    for name, usage in result.get("llm_usage", {}).items():
        console.print(f"{name}: {usage_line(usage, found[name].client.prices is not None)}", highlight=False)
    written = write_outputs(result, output)
    console.print(f"tables written to {output}/ ({', '.join(p.name for p in written)})", highlight=False, markup=False)


def _print(result: dict) -> None:
    from sentiment_lab.compare.side_by_side import agreement_table, groups_table, metrics_table, sentence_table

    for m in result["methods"]:
        console.print(f"[bold]{escape(m)}[/bold]: {escape(result['notes'].get(m, ''))}", highlight=False)
    for m, why in result["skipped"].items():
        console.print(f"[yellow]skipped[/yellow] [bold]{escape(m)}[/bold]: {escape(why)}", highlight=False, soft_wrap=True)
    if "imdb_sample" in result:
        console.print(f"IMDB sample {result['imdb_sample']}", highlight=False)
    console.print(_rich("Metrics (an invalid LLM answer counts as wrong)", metrics_table(result)))
    for title, table in (("Sentences side by side", sentence_table(result)),
                         ("Challenge suite accuracy by group", groups_table(result)),
                         ("Pairwise agreement", agreement_table(result))):
        if table:
            console.print(_rich(title, table))
