"""The end of a run: the best epoch's weights back, validation and test metrics, per-review
test predictions, the bundle, and the learning-curve and evaluation plots."""
from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from sentiment_lab.analysis.metrics import compute_metrics, metrics_by_source
from sentiment_lab.data import Record, Splits
from sentiment_lab.data.negation import is_copy
from sentiment_lab.fileio import write_json
from sentiment_lab.inference.bundle import save_pretrained
from sentiment_lab.text.batching import predict_logits
from sentiment_lab.text.token_cache import encode_with_lengths
from sentiment_lab.text.tokenizer import TextEncoder
from sentiment_lab.training.checkpoint import TrainState

if TYPE_CHECKING:
    from sentiment_lab.training.loop import Run, RunData


@dataclass
class TrainResult:
    model: torch.nn.Module
    encoder: TextEncoder
    history: list[dict[str, float]]
    metrics: dict[str, Any]
    run_dir: Path
    best_epoch: int
    interrupted: bool = False
    timings: dict[str, float] = field(default_factory=dict)


def labels(records: list[Record]) -> np.ndarray:
    return np.fromiter((r.label for r in records), dtype=np.float32, count=len(records))


def probabilities(logits: np.ndarray) -> np.ndarray:
    """P(positive) from logits."""
    return 1 / (1 + np.exp(-logits))


def split_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """The metrics of one split for metrics.json (without the text report)."""
    m = compute_metrics(y, p)
    m.pop("classification_report")
    return m


def write_predictions(path: Path, records: list[Record], y: np.ndarray, p: np.ndarray,
                      seqs: list[np.ndarray], full: np.ndarray) -> None:
    """Per-review test predictions (id, label, P(positive), tokens read, tokens before
    truncation, star rating): the input of the evaluation plots, the report's length
    histogram and error analysis (n_tokens stops at max_len, so only n_tokens_full shows
    how much of a review was cut)."""
    tmp = path.with_suffix(".part")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "label", "p_positive", "n_tokens", "n_tokens_full", "rating"])
        for r, yi, pi, s, n in zip(records, y, p, seqs, full):
            w.writerow([r.id, int(yi), f"{pi:.6f}", len(s), int(n), "" if r.rating is None else r.rating])
    tmp.replace(path)


def invariance_figures(run: "Run", encoder: TextEncoder, model: torch.nn.Module) -> dict[str, Any] | None:
    """Flip rates of the invariance groups (analysis/challenge/invariance.py) in the config's
    language, for metrics.json and the model card; None when they cannot be measured (the figures
    are a convenience: a finished run is never lost over them)."""
    try:
        from sentiment_lab.analysis.challenge import config_language
        from sentiment_lab.analysis.challenge.invariance import run_invariance, summary

        def p_positive(texts: list[str]) -> np.ndarray:
            return probabilities(predict_logits(model, encoder.encode(texts), run.cfg.train.eval_batch_size,
                                                run.device, run.dtype))

        return summary(run_invariance(p_positive, config_language(run.cfg)))
    except Exception as exc:  # noqa: BLE001
        run.console.log(f"[yellow]invariance groups skipped: {exc}[/yellow]")
        return None


def finish_run(run: "Run", splits: Splits, encoder: TextEncoder, data: "RunData", model: torch.nn.Module,
               state: TrainState) -> TrainResult:
    """Best weights back into `model`; on rank 0, metrics, test predictions, bundle and plots."""
    tc, run_dir = run.cfg.train, run.run_dir
    if state.best_state is not None:
        model.load_state_dict(state.best_state)
    best_epoch = state.best["epoch"]
    if not run.dist.is_main:  # rank 0 evaluates and writes the bundle
        run.dist.close()
        return TrainResult(model.eval(), encoder, state.history, {"best_epoch": best_epoch}, run_dir, best_epoch)
    metrics: dict[str, Any] = {"best_epoch": best_epoch}
    mixed = len({r.source for r in splits.train}) > 1  # a mixture: figures per source too, the card shows them
    if mixed:
        counts = Counter(r.source for r in splits.train)  # in the order the mixture names them
        metrics["train_rows_by_source"] = {s: counts[s] for s in getattr(splits, "sources", None) or counts}
    if run.cfg.data.negation:  # data/negation.py: how many training rows are made-up negations (the card says so)
        metrics["negated_train_rows"] = sum(map(is_copy, splits.train))
    for name, records, seqs in (("val", splits.val, data.x_va), ("test", splits.test, None)):
        if not records:
            continue
        full = None
        if seqs is None:
            seqs, full = encode_with_lengths(encoder, [r.text for r in records])
        y = labels(records)
        p = probabilities(predict_logits(model, seqs, tc.eval_batch_size, run.device, run.dtype))
        metrics[name] = split_metrics(y, p)
        if mixed or len({r.source for r in records}) > 1:  # (a source without a test split is missing here)
            metrics[f"{name}_by_source"] = metrics_by_source([r.source for r in records], y, p)
        if full is not None:
            write_predictions(run_dir / "test_predictions.csv", records, y, p, seqs, full)
    invariance = invariance_figures(run, encoder, model)
    if invariance is not None:
        metrics["invariance"] = invariance
    metrics["timings"] = {"encode_s": data.encode_s, "train_s": sum(h["train_s"] for h in state.history)}
    if tc.pretrain_epochs and (run_dir / "pretrain_history.json").exists():  # read back: a resumed run counts it too
        metrics["timings"]["pretrain_s"] = sum(r["s"] for r in json.loads((run_dir / "pretrain_history.json").read_text()))
    write_json(run_dir / "metrics.json", metrics)
    save_pretrained(run_dir / "bundle", model.cpu(), encoder, run.cfg, metrics, state.history)
    try:
        from sentiment_lab.analysis.plots import plot_run

        plot_run(run_dir)
    except Exception as exc:  # figures are a convenience: never lose a finished run over one
        run.console.log(f"[yellow]plots skipped: {exc}[/yellow]")
    run.dist.close()
    return TrainResult(model.eval(), encoder, state.history, metrics, run_dir, best_epoch)
