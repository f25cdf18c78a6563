"""Experiments: a grid of presets x overrides x seeds, one run directory per cell, a results
table (CSV and Markdown) and plots.

    OUT/runs/<preset>__<override>__...__seed<N>/   an ordinary run directory (see train.py)
    OUT/runs.csv                                   one row per finished run
    OUT/results.csv, OUT/results.md                mean and std over seeds per configuration
    OUT/accuracy_vs_max_len.png, OUT/accuracy_vs_train_time.png

Resumable by construction: a cell whose run directory holds metrics.json is read back, a
cell with a checkpoint continues from it, and only missing cells train. The tables cover
every finished run in OUT, so several commands (other presets, other grids) can fill one
experiment directory. Choices are made
on validation accuracy; test accuracy is reported, never used to choose.
"""
from __future__ import annotations

import itertools
import math
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from sentiment_lab.fileio import replacing, write_json, write_text
from sentiment_lab.config import Config, load_config
from sentiment_lab.exceptions import ConfigError


@dataclass(frozen=True)
class Cell:
    """One training run: a preset, the --set settings common to the command, the grid's
    overrides and a seed. All of them are in its name, so two commands that differ only in
    --set never share a run directory or a table row."""
    preset: str
    overrides: tuple[str, ...]
    seed: int
    common: tuple[str, ...] = ()

    @property
    def settings(self) -> tuple[str, ...]:
        return (*self.common, *self.overrides)

    @property
    def named(self) -> tuple[str, ...]:
        """The settings shown in names: where the data lives (--data) is left out to keep them
        readable; a run directory trained on other data is refused by its config check."""
        return tuple(o for o in self.settings if not o.startswith(("data.path=", "data.source=")))

    @property
    def config_name(self) -> str:
        return " ".join([Path(self.preset).stem, *self.named])

    @property
    def key(self) -> str:
        parts = [Path(self.preset).stem, *(o.split(".", 1)[1] for o in self.named), f"seed{self.seed}"]
        return re.sub(r"[^A-Za-z0-9_.=+-]", "_", "__".join(parts))


def parse_grid(items: list[str]) -> list[list[str]]:
    """["text.max_len=100,200", "model.hidden_size=64,128"] -> the list of override combinations."""
    axes = []
    for item in items:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise ConfigError(f"grid axis {item!r} must look like section.key=v1,v2,...")
        key, values = item.split("=", 1)
        axes.append([f"{key}={v.strip()}" for v in values.split(",") if v.strip()])
    return [list(combo) for combo in itertools.product(*axes)] if axes else [[]]


def plan(presets: list[str], grid: list[str], seeds: list[int], common: list[str] | None = None) -> list[tuple[Cell, Config]]:
    """Every cell with its resolved config; invalid settings fail here, before any training."""
    cells = []
    for preset in presets:
        for combo in parse_grid(grid):
            for seed in seeds:
                cfg = load_config(preset, [*(common or []), *combo, f"train.seed={seed}"])
                cells.append((Cell(preset, tuple(combo), seed, tuple(common or ())), cfg))
    return cells


def _run_row(cell: Cell, cfg: Config, run_dir: Path) -> dict[str, Any]:
    """The table row of a finished run, read from its run directory."""
    metrics = json.loads((run_dir / "metrics.json").read_text())
    history = json.loads((run_dir / "history.json").read_text())
    extra = json.loads((run_dir / "experiment.json").read_text()) if (run_dir / "experiment.json").exists() else {}
    test = metrics.get("test") or {}
    return {"config": cell.config_name, "preset": Path(cell.preset).stem, "overrides": " ".join(cell.overrides),
            "seed": cell.seed, "arch": cfg.model.arch, "bidirectional": cfg.model.bidirectional,
            "num_layers": cfg.model.num_layers, "pooling": cfg.model.pooling, "max_len": cfg.text.max_len,
            "vocab_size": cfg.text.vocab_size, "val_accuracy": (metrics.get("val") or {}).get("accuracy", math.nan),
            "test_accuracy": test.get("accuracy", math.nan), "test_f1_macro": test.get("f1_macro", math.nan),
            "epochs": len(history), "best_epoch": metrics.get("best_epoch"),
            "train_s": sum(h["train_s"] for h in history) + metrics.get("timings", {}).get("pretrain_s", 0.0),
            "epoch_s": float(np.mean([h["train_s"] for h in history])),
            "parameters": extra.get("parameters"), "predict_reviews_per_s": extra.get("predict_reviews_per_s"),
            "run_dir": str(run_dir)}


def _measure(run_dir: Path, texts: list[str]) -> dict[str, Any]:
    """Parameters and CPU batch prediction throughput on full-length reviews (from text)."""
    from sentiment_lab.inference.classifier import SentimentClassifier

    clf = SentimentClassifier.from_pretrained(run_dir / "bundle")
    clf.predict_proba(texts[:256])  # warm-up
    t0 = time.perf_counter()
    clf.predict_proba(texts)
    return {"parameters": sum(p.numel() for p in clf.model.parameters()),
            "predict_reviews_per_s": len(texts) / (time.perf_counter() - t0)}


def run_experiment(presets: list[str], grid: list[str], seeds: list[int], out: str | Path,
                   common: list[str] | None = None, throughput_reviews: int = 2000,
                   on_event: Callable[[str], None] = print, progress: bool = False) -> "Any":
    """Train every missing cell, then write the tables and plots. Returns the summary DataFrame."""
    from sentiment_lab.data import load_splits
    from sentiment_lab.training.loop import fit

    out = Path(out)
    cells = plan(presets, grid, seeds, common)
    rows = []
    for i, (cell, cfg) in enumerate(cells, 1):
        run_dir = out / "runs" / cell.key
        if (run_dir / "config.json").exists() and json.loads((run_dir / "config.json").read_text()) != cfg.to_dict():
            raise ConfigError(f"{run_dir} holds a run with other settings (was the preset file edited?); "
                              f"move it away or use another --out")
        if (run_dir / "metrics.json").exists():
            on_event(f"[{i}/{len(cells)}] {cell.key}: done earlier")
        else:
            resume = (run_dir / "checkpoint" / "state.json").exists()
            on_event(f"[{i}/{len(cells)}] {cell.key}: {'resuming' if resume else 'training'}")
            splits = load_splits(cfg.data, seed=cfg.train.seed, progress=False)
            result = fit(cfg, splits, run_dir, resume=resume, progress=progress)
            texts = [r.text for r in (splits.test or splits.val)][:throughput_reviews]

            write_json(run_dir / "experiment.json", {"cell": cell.key, "preset": cell.preset,
                                                     "overrides": list(cell.overrides), "seed": cell.seed,
                                                     "common": list(common or []), **_measure(run_dir, texts)})
            acc = result.metrics.get("test", result.metrics.get("val", {})).get("accuracy", math.nan)
            on_event(f"[{i}/{len(cells)}] {cell.key}: accuracy {acc:.4f}")
        rows.append(_run_row(cell, cfg, run_dir))
    return write_results(rows + _earlier_rows(out, {c.key for c, _ in cells}), out)


def _earlier_rows(out: Path, planned: set[str]) -> list[dict[str, Any]]:
    """Finished runs of earlier commands in the same directory (other presets or grids), so
    that several commands can fill one experiment and its table covers them all."""
    rows = []
    for info_path in sorted((out / "runs").glob("*/experiment.json")):
        info = json.loads(info_path.read_text())
        run_dir = info_path.parent
        if run_dir.name in planned or "preset" not in info or not (run_dir / "metrics.json").exists():
            continue
        cell = Cell(info["preset"], tuple(info["overrides"]), int(info["seed"]), tuple(info.get("common", ())))
        cfg = load_config(cell.preset, [*cell.settings, f"train.seed={cell.seed}"])
        rows.append(_run_row(cell, cfg, run_dir))
    return rows


def write_results(rows: list[dict[str, Any]], out: Path) -> "Any":
    """runs.csv, results.csv/.md (mean/std over seeds) and the two plots."""
    import pandas as pd

    runs = pd.DataFrame(rows)
    _atomic(out / "runs.csv", runs.to_csv(index=False))
    agg = runs.groupby("config", sort=False).agg(
        arch=("arch", "first"), bidirectional=("bidirectional", "first"), num_layers=("num_layers", "first"),
        pooling=("pooling", "first"), max_len=("max_len", "first"), vocab_size=("vocab_size", "first"),
        seeds=("seed", "count"), val_accuracy=("val_accuracy", "mean"),
        test_accuracy_mean=("test_accuracy", "mean"), test_accuracy_std=("test_accuracy", "std"),
        test_f1_macro=("test_f1_macro", "mean"), train_s=("train_s", "mean"), epoch_s=("epoch_s", "mean"),
        parameters=("parameters", "first"), predict_reviews_per_s=("predict_reviews_per_s", "median"),
    ).reset_index()
    agg["test_accuracy_std"] = agg["test_accuracy_std"].fillna(0.0)
    _atomic(out / "results.csv", agg.to_csv(index=False))
    _atomic(out / "results.md", markdown_table(agg))
    plot_results(runs, agg, out)
    return agg


def markdown_table(agg: "Any") -> str:
    lines = ["| config | test accuracy (mean ± std) | macro F1 | val accuracy | seeds | train time | s/epoch "
             "| parameters | predict reviews/s |", "|---|---|---|---|---|---|---|---|---|"]
    for r in agg.sort_values("val_accuracy", ascending=False).itertuples():
        params = f"{int(r.parameters):,}" if r.parameters == r.parameters and r.parameters is not None else "?"
        rps = f"{r.predict_reviews_per_s:,.0f}" if r.predict_reviews_per_s == r.predict_reviews_per_s else "?"
        val = "none" if math.isnan(r.val_accuracy) else f"{100 * r.val_accuracy:.2f}"  # refits have no validation
        lines.append(f"| {r.config} | {100 * r.test_accuracy_mean:.2f} ± {100 * r.test_accuracy_std:.2f} "
                     f"| {100 * r.test_f1_macro:.2f} | {val} | {r.seeds} | {r.train_s / 60:.1f} min "
                     f"| {r.epoch_s:.0f} | {params} | {rps} |")
    return "\n".join(lines) + "\n\nSorted by validation accuracy (the selection criterion); test shown, never used to choose.\n"


def plot_results(runs: "Any", agg: "Any", out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    family = agg["config"].str.replace(r"\s*text\.max_len=\S+", "", regex=True)
    for (name, grp), (color, marker) in zip(agg.assign(family=family).groupby("family"), plot_styles()):
        grp = grp.sort_values("max_len")
        ax.errorbar(grp["max_len"], 100 * grp["test_accuracy_mean"], yerr=100 * grp["test_accuracy_std"],
                    color=color, marker=marker, capsize=3, label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("max_len (tokens)")
    ax.set_ylabel("IMDB test accuracy (%)")
    _legend_below(ax)
    ax.grid(alpha=0.3)
    _save_fig(fig, out / "accuracy_vs_max_len.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    for (name, grp), (color, marker) in zip(runs.groupby("config"), plot_styles()):
        ax.scatter(grp["train_s"] / 60, 100 * grp["test_accuracy"], color=color, marker=marker, label=name, s=18)
    ax.set_xlabel("training time (min)")
    ax.set_ylabel("IMDB test accuracy (%)")
    _legend_below(ax)
    ax.grid(alpha=0.3)
    _save_fig(fig, out / "accuracy_vs_train_time.png")


def plot_styles() -> Iterator[tuple[str, str]]:
    """(colour, marker) pairs, all distinct for 70 configurations: matplotlib's colour
    cycle alone repeats after 10, and a grid easily has more cells than that."""
    markers = "osD^vP*"
    for i in itertools.count():
        yield f"C{i % 10}", markers[(i // 10) % len(markers)]


def _legend_below(ax: Any) -> None:
    """Legend under the axes, one configuration per line: names carry every setting and
    would cover the points inside the plot."""
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.2), frameon=False)


def _save_fig(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    with replacing(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")  # grows the page to the legend below the axes
    plt.close(fig)


def _atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, text)
