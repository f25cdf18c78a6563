"""`sentiment-lab train`: train a preset (or a TOML config) and write a run directory."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sentiment_lab.cli._options import label_column_option, old_name, output_option, renamed, text_column_option
from sentiment_lab.cli.app import app, panel
from sentiment_lab.cli.common import console, err_console, user_errors
from sentiment_lab.exceptions import ConfigError

TABLES = (".csv", ".tsv", ".jsonl", ".json", ".parquet", ".pq")


def parse_overrides(extra: list[str], sets: list[str]) -> list[str]:
    """`--model.hidden_size 128`, `--model.hidden_size=128` and `--set model.hidden_size=128`."""
    out = list(sets)
    i = 0
    while i < len(extra):
        arg = extra[i]
        if not arg.startswith("--") or "." not in arg:
            raise ConfigError(f"unexpected argument {arg!r}; overrides look like --model.hidden_size 128")
        key = arg[2:]
        if "=" in key:
            out.append(key)
            i += 1
        elif i + 1 < len(extra):
            out.append(f"{key}={extra[i + 1]}")
            i += 2
        else:
            raise ConfigError(f"override {arg} needs a value")
    return out


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, rich_help_panel=panel("train"))
@user_errors
def train(
    ctx: typer.Context,
    preset: str = typer.Option("seed", "--preset", "-p", help="Preset name or a TOML config file."),
    data: Optional[str] = typer.Option(None, "--data", help="aclImdb archive or folder, a CSV/TSV/JSONL/Parquet file, or a "
                                       "named dataset or mixture (sst2, imdb+sst2+amazon-blitzer: sentiment-lab datasets; per-source caps and "
                                       "weights: --set data.caps=sst2=20000 --set data.weights=imdb=1,sst2=1,...). "
                                       "Default: the cached IMDB archive, downloaded if absent."),
    test_data: Optional[str] = typer.Option(None, "--test-data", help="Separate test table (for your own data)."),
    text_column: Optional[str] = text_column_option("the config's data.text_column, text in the presets"),
    label_column: Optional[str] = label_column_option("the config's data.label_column, label in the presets"),
    rating_threshold: Optional[float] = typer.Option(None, help="Star ratings >= this are positive."),
    output: Optional[Path] = output_option(help="Run directory to write (default: runs/PRESET)."),
    old_run_dir: Optional[Path] = old_name("--run-dir"),
    limit: Optional[int] = typer.Option(None, help="Use at most N train and N test rows (quick runs)."),
    epochs: Optional[int] = typer.Option(None, help="Override train.epochs."),
    seed: Optional[int] = typer.Option(None, help="Override train.seed."),
    device: Optional[str] = typer.Option(None, help="auto | cpu | cuda | mps."),
    sets: list[str] = typer.Option([], "--set", help="Override any setting: --set model.hidden_size=128 (repeatable). "
                                   "`--model.hidden_size 128` works too."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue an interrupted run directory."),
    progress: bool = typer.Option(True, help="Show progress bars."),
) -> None:
    """Train a model; writes config, tokenizer, checkpoint, history, metrics and a bundle."""
    from sentiment_lab.config import load_config
    from sentiment_lab.data import is_dataset_spec
    from sentiment_lab.training.loop import resume_training, train as run_train

    output = renamed(output, old_run_dir, "--output", "--run-dir")
    overrides = parse_overrides(ctx.args, sets)
    if data is not None:
        named = is_dataset_spec(data) and data.lower() != "imdb"  # "sst2", "imdb+sst2+amazon-blitzer", a typo
        overrides.append(f"data.source={data}" if named or data.lower().endswith(TABLES) else f"data.path={data}")
    for key, value in (("data.test_path", test_data), ("data.text_column", text_column),
                       ("data.label_column", label_column), ("data.rating_threshold", rating_threshold),
                       ("data.limit", limit), ("train.epochs", epochs), ("train.seed", seed), ("train.device", device)):
        if value is not None:
            overrides.append(f"{key}={value}")
    # progress bars only on a terminal: in a log file they are noise (the epoch lines say it all)
    show = progress and err_console.is_terminal
    if resume is not None:
        if overrides or output is not None:
            raise ConfigError("--resume continues a run with the settings it was started with; "
                              "drop the other options (or start a new run to change them)")
        out = resume
        result = resume_training(resume, progress=show, console=err_console)
    else:
        out = output or Path("runs") / Path(preset).stem
        result = run_train(load_config(preset, overrides), out, progress=show, console=err_console)
    from sentiment_lab.training.distributed import launched_rank

    if launched_rank() != 0:  # torchrun: the other ranks hold no metrics; rank 0 reports
        return
    test = result.metrics.get("test")
    if test:
        console.print(f"test accuracy {test['accuracy']:.4f}, macro F1 {test['f1_macro']:.4f} "
                      f"(epoch {result.best_epoch} kept); bundle: {out / 'bundle'}", markup=False)
    elif "val" in result.metrics:
        console.print(f"validation accuracy {result.metrics['val']['accuracy']:.4f}; bundle: {out / 'bundle'}",
                      markup=False)
    else:
        console.print(f"trained for {result.best_epoch} epoch(s), no validation or test split; bundle: {out / 'bundle'}",
                      markup=False)
    warning = one_class_warning(result.metrics)
    if warning:
        err_console.print(warning, markup=False, highlight=False)


def one_class_warning(metrics: dict) -> str | None:
    """A model that answers one label for everything reads as "69% accuracy" on a 69/31 set:
    say so, with the usual causes on small data."""
    for split in ("test", "val"):
        m = metrics.get(split)
        if not m or "per_class" not in m:
            continue
        for name, other in (("negative", "positive"), ("positive", "negative")):
            if m["per_class"][name]["support"] and not m["per_class"][name]["recall"]:
                return (f"warning: the model predicts {other} for every {split} review ({name} recall 0; "
                        f"{m['per_class'][other]['support'] / m['n']:.0%} of them are {other}). On small data: more "
                        "epochs, --set train.ema=0 (weight averaging needs ~100 steps) or a smaller train.batch_size")
        return None
    return None
