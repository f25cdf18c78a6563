"""Training: `train(cfg, run_dir)` loads the configured data and calls `fit`, which runs in a
few named parts, each a screen long:

    start_run          seed, device, precision, DDP, the run folder
    prepare_data       the tokenizer (fitted on train only, or reloaded to resume), token ids
    build              the model (word vectors, frozen embeddings, LM pretraining), augmenter
    init_state         optimiser, weight average, and the loop state (or the checkpoint's)
    train_epoch        one pass over shuffled, length-bucketed batches (TRAIN)
    end_epoch          validation, selection, history and checkpoint (VALIDATE)
    finish_run         best weights back, val/test metrics, predictions, bundle, plots

Options are chosen once, outside the loop: the step (plain, adversarial or split across CPU
threads: steps.py) and the weight average (optim.WeightAverage) have one interface each.
"""
from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sentiment_lab.config import Config, TextConfig
from sentiment_lab.data import Mixture, Splits, load_splits
from sentiment_lab.data.checks import overlap_report, positive_share
from sentiment_lab.exceptions import ConfigError, SentimentLabError
from sentiment_lab.fileio import write_json
from sentiment_lab.models import REGISTRY, build_model
from sentiment_lab.text.augment import Augmenter
from sentiment_lab.text.counterfactual import CounterfactualTable
from sentiment_lab.text.batching import bucket_batches, collate, predict_logits
from sentiment_lab.text.token_cache import encode_with_lengths
from sentiment_lab.text.proper_nouns import proper_nouns, without_words
from sentiment_lab.text.tokenizer import TextEncoder
from sentiment_lab.training.checkpoint import (TrainState, find_checkpoint, load_checkpoint, save_checkpoint,
                                                write_history)
from sentiment_lab.training.cpu_shards import shard_count
from sentiment_lab.training.distributed import DistContext, launched_rank, setup_distributed
from sentiment_lab.training.finish import TrainResult, finish_run, labels, probabilities
from sentiment_lab.training.optim import WeightAverage, lr_factor, optimizer_step
from sentiment_lab.training.steps import TrainStep, make_train_step
from sentiment_lab.analysis.metrics import compute_metrics


def pick_device(name: str = "auto") -> torch.device:
    if name != "auto":
        if name == "cuda" and not torch.cuda.is_available():
            raise SentimentLabError("train.device=cuda but no CUDA device is available")
        if name == "mps" and not torch.backends.mps.is_available():
            raise SentimentLabError("train.device=mps but MPS is not available")
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def preflight(cfg: Config, run_dir: str | Path) -> Path:
    """Check what would otherwise fail after the data is loaded and the run folder exists."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"{run_dir} is a file; give a folder for the run")
    if cfg.model.arch not in REGISTRY:
        raise ConfigError(f"unknown architecture {cfg.model.arch!r}; valid: {', '.join(REGISTRY)}")
    pick_device(cfg.train.device)
    return run_dir


def pick_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """bf16 autocast where it pays: CUDA. On CPU "auto" stays fp32: on CPUs without AMX,
    oneDNN's bf16 LSTM measured 7-10x slower than fp32 (benchmarks/results)."""
    if precision == "bf16" or (precision == "auto" and device.type == "cuda"):
        return torch.bfloat16
    return None


def seed_everything(seed: int) -> np.random.Generator:
    random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


@dataclass
class Run:
    """Where and how a run trains: settings, folder, device, precision, processes, log."""
    cfg: Config
    run_dir: Path
    dist: DistContext
    dtype: torch.dtype | None
    console: Console
    progress: bool
    resume: bool

    @property
    def device(self) -> torch.device:
        return self.dist.device

    @property
    def ckdir(self) -> Path:
        return self.run_dir / "checkpoint"


@dataclass
class RunData:
    """Token ids (one array per review, encoded once and reused every epoch) and labels."""
    x_tr: list[np.ndarray]
    y_tr: np.ndarray
    lengths: np.ndarray
    x_va: list[np.ndarray]
    y_va: np.ndarray
    encode_s: float


def start_run(cfg: Config, run_dir: str | Path, resume: bool, progress: bool, console: Console) -> tuple[Run, np.random.Generator]:
    """Seed everything, pick the device and precision, start DDP under torchrun (else a no-op)."""
    run_dir = preflight(cfg, run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    rng = seed_everything(cfg.train.seed)
    dist = setup_distributed(pick_device(cfg.train.device))
    if not dist.is_main:  # rank 0 alone talks and writes
        console, progress = Console(quiet=True), False
    run = Run(cfg, run_dir, dist, pick_dtype(cfg.train.precision, dist.device), console, progress, resume)
    if resume and find_checkpoint(run.ckdir) is None:
        raise SentimentLabError(f"nothing to resume in {run_dir}: no checkpoint/state.json")
    return run, rng


def fit_encoder(tx: TextConfig, texts: list[str]) -> tuple[TextEncoder, int]:
    """The tokenizer fitted on the training texts; with text.proper_nouns = "unknown", without
    the words those texts write as proper nouns (and how many it would have held)."""
    nouns = proper_nouns(texts) if tx.proper_nouns == "unknown" else set()
    encoder = TextEncoder.fit(texts, tx.vocab_size + len(nouns), tx.max_len, tx.truncation, tx.level,
                              tx.min_frequency, tx.stopwords, tx.language)
    return without_words(encoder, nouns, tx.vocab_size) if nouns else (encoder, 0)


def prepare_data(run: Run, splits: Splits) -> tuple[TextEncoder, RunData]:
    """The tokenizer, fitted on the training texts only (or the run's own, to resume), and the
    token ids of train and val, cached on disk for later runs (token_cache.py)."""
    cfg, tx = run.cfg, run.cfg.text
    train_texts = [r.text for r in splits.train]  # fitted on (proper nouns counted too), then encoded
    if run.resume:
        if json.loads((run.run_dir / "config.json").read_text()) != cfg.to_dict():
            raise SentimentLabError(f"{run.run_dir} was started with another config; resume with the same settings")
        encoder = TextEncoder.load(run.run_dir / "tokenizer.json", tx.max_len, tx.truncation)
    else:
        if run.dist.is_main:
            write_json(run.run_dir / "config.json", cfg.to_dict())
        t0 = time.perf_counter()
        encoder, unlisted = run.dist.from_main(lambda: fit_encoder(tx, train_texts))
        if run.dist.is_main:
            encoder.save(run.run_dir / "tokenizer.json")
        run.console.log(f"tokenizer fitted on {len(splits.train):,} training texts in {time.perf_counter() - t0:.1f}s "
                        f"({encoder.vocab_size:,} ids)" + (f"; {unlisted:,} proper nouns read as [UNK] (text.proper_nouns)"
                                                         if tx.proper_nouns == "unknown" else ""))
    t0 = time.perf_counter()
    x_tr, _ = encode_with_lengths(encoder, train_texts)
    x_va, _ = encode_with_lengths(encoder, [r.text for r in splits.val])
    y_tr, y_va = labels(splits.train), labels(splits.val)
    encode_s = time.perf_counter() - t0
    lengths = np.fromiter((len(s) for s in x_tr), dtype=np.int64, count=len(x_tr))
    return encoder, RunData(x_tr, y_tr, lengths, x_va, y_va, encode_s)


def build(run: Run, splits: Splits, encoder: TextEncoder, data: RunData,
          rng: np.random.Generator) -> tuple[torch.nn.Module, Augmenter | None]:
    """The model on its device (word vectors, frozen embeddings and LM pretraining when set) and
    the augmenter (None without augmentation)."""
    cfg, tc = run.cfg, run.cfg.train
    model = build_model(cfg.model, encoder.vocab_size)
    needs_vectors = cfg.model.pretrained_vectors != "none" or any(op in tc.augment.split(",") for op in ("insert", "synonym"))
    neighbours = None
    if needs_vectors:
        from sentiment_lab.training.vectors import run_word_vectors

        vectors, neighbours = run.dist.from_main(lambda: run_word_vectors(cfg, splits, encoder, run.run_dir, run.resume,
                                                                          run.console))
        if cfg.model.pretrained_vectors != "none" and not run.resume:
            with torch.no_grad():
                model.embedding.weight.copy_(torch.from_numpy(vectors))
    if cfg.model.freeze_embeddings:
        model.embedding.weight.requires_grad_(False)
    counterfactual = None
    if "counterfactual" in tc.augment.split(","):  # the word lists of the config's language (en without one)
        counterfactual = CounterfactualTable.build(encoder, getattr(cfg.text, "language", None))
    augmenter = None if tc.augment == "none" else Augmenter(tc.augment, tc.augment_alpha, cfg.text.max_len,
                                                            cfg.text.truncation, neighbours, counterfactual)
    model = model.to(run.device)
    if tc.pretrain_epochs and not run.resume:  # a resumed run's checkpoint already holds the pretrained weights
        from sentiment_lab.training.pretrain import pretrain

        lm_history = pretrain(model, data.x_tr, tc.pretrain_epochs, tc.lr, tc.batch_size, rng, run.device, tc.grad_clip,
                              tc.max_steps, run.console.log)
        if run.dist.is_main:
            write_json(run.run_dir / "pretrain_history.json", lm_history)
    return model, augmenter


def init_state(run: Run, model: torch.nn.Module, rng: np.random.Generator
               ) -> tuple[torch.optim.Optimizer, WeightAverage, TrainState]:
    """Adam over the trainable parameters, the weight average, and a fresh loop state or the
    checkpoint's (which also restores the tensors and torch's RNG)."""
    tc = run.cfg.train
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=tc.lr, weight_decay=tc.weight_decay)
    average = WeightAverage(model, tc.ema)
    state = TrainState(rng=rng)
    if run.resume:
        state = load_checkpoint(run.ckdir, model, opt, average.averaged)
        run.console.log(f"resuming {run.run_dir} after epoch {state.start_epoch - 1}")
    return opt, average, state


def train_epoch(run: Run, data: RunData, epoch: int, step_fn: TrainStep, opt: torch.optim.Optimizer,
                model: torch.nn.Module, average: WeightAverage, augmenter: Augmenter | None,
                state: TrainState, bar: Progress) -> dict[str, float]:
    """TRAIN: one pass over shuffled, length-bucketed batches; returns the epoch's training row."""
    tc = run.cfg.train
    epoch_seed = int(state.rng.integers(2**31))
    batches = run.dist.shard(bucket_batches(data.lengths, tc.batch_size, np.random.default_rng(epoch_seed)))
    # the steps the run plans, for the learning-rate schedule (early stopping may end it sooner)
    planned_steps = min(tc.epochs * len(batches), tc.max_steps or math.inf)
    aug_rng = np.random.default_rng(epoch_seed + 1)
    task = bar.add_task("train", total=len(batches), epoch=epoch, loss=float("nan"))
    model.train()
    t0 = time.perf_counter()
    tot_loss, tot_correct, seen, real_tokens, padded_tokens = 0.0, 0, 0, 0, 0
    for idx in batches:
        if augmenter is None:
            ids, lens = collate(data.x_tr, idx, run.device)
        else:
            ids_np, lens_np = augmenter.batch([data.x_tr[i] for i in idx], aug_rng)
            ids, lens = torch.from_numpy(ids_np).to(run.device), torch.from_numpy(lens_np).to(run.device)
        y = torch.from_numpy(data.y_tr[idx]).to(run.device)
        opt.zero_grad(set_to_none=True)
        logits, loss = step_fn(ids, lens, y)
        optimizer_step(opt, model.parameters(), tc.grad_clip, tc.lr * lr_factor(tc.lr_schedule, state.step, planned_steps))
        average.update(model)
        state.step += 1
        tot_loss += loss.item() * len(idx)
        tot_correct += int(((logits > 0).float() == y).sum())
        seen += len(idx)
        real_tokens += int(lens.sum())
        padded_tokens += ids.numel()
        bar.update(task, advance=1, loss=tot_loss / seen)
        if tc.max_steps and state.step >= tc.max_steps:
            break
    train_s = time.perf_counter() - t0
    tot_loss, tot_correct, seen, real_tokens, padded_tokens = run.dist.all_sum(
        [tot_loss, tot_correct, seen, real_tokens, padded_tokens])
    bar.remove_task(task)
    return {"epoch": epoch, "train_loss": tot_loss / seen, "train_accuracy": tot_correct / seen,
            "train_s": train_s, "padding_share": 1 - real_tokens / padded_tokens}


def end_epoch(run: Run, data: RunData, row: dict[str, Any], model: torch.nn.Module, opt: torch.optim.Optimizer,
              average: WeightAverage, state: TrainState) -> dict[str, Any]:
    """VALIDATE the kept weights, select the best epoch, log, and save history and checkpoint.
    Returns the epoch's full history row."""
    tc = run.cfg.train
    t1 = time.perf_counter()
    val_loss = val_acc = None
    if len(data.x_va):
        p_va = probabilities(run.dist.sharded_logits(
            lambda s: predict_logits(average.kept, s, tc.eval_batch_size, run.device, run.dtype), data.x_va))
        vm = compute_metrics(data.y_va, p_va)
        val_loss, val_acc = vm["loss"], vm["accuracy"]
    row = {"epoch": row["epoch"], "train_loss": row["train_loss"], "train_accuracy": row["train_accuracy"],
           "val_loss": val_loss, "val_accuracy": val_acc, "train_s": row["train_s"],
           "val_s": time.perf_counter() - t1, "padding_share": row["padding_share"], "steps": state.step}
    state.history.append(row)
    # without a validation split (a final refit on all of train) the last epoch is kept
    improved = val_loss is None or val_loss < state.best["val_loss"]
    if improved:
        state.best = {"val_loss": val_loss, "epoch": row["epoch"]}  # None without validation: JSON has no inf
        state.best_state = {k: v.detach().cpu().clone() for k, v in average.kept.state_dict().items()}
    run.console.log(f"epoch {row['epoch']}: train loss {row['train_loss']:.4f} acc {row['train_accuracy']:.4f} | "
                    + ("no validation" if val_loss is None else f"val loss {val_loss:.4f} acc {val_acc:.4f}")
                    + f" | {row['train_s']:.1f}s" + (" *" if improved and val_loss is not None else ""))
    next_seed = int(state.rng.integers(2**31))  # reseeding each epoch makes a resumed run identical
    state.rng = np.random.default_rng(next_seed)
    if run.dist.is_main:
        write_history(run.run_dir, state.history)
        save_checkpoint(run.ckdir, model, opt, state, row["epoch"], next_seed, average.averaged)
    return row


def fit(cfg: Config, splits: Splits, run_dir: str | Path, resume: bool = False, progress: bool = True,
        console: Console | None = None, on_epoch: Callable[[dict], None] | None = None) -> TrainResult:
    """Train on splits.train, select on splits.val, report on splits.test (if any).

    The log goes to `console` (stderr by default; `Console(quiet=True)` silences it, e.g. in a
    notebook); `progress=False` hides only the progress bars. The returned model is in eval mode."""
    run, rng = start_run(cfg, run_dir, resume, progress, console or Console(stderr=True, log_path=False))
    encoder, data = prepare_data(run, splits)
    model, augmenter = build(run, splits, encoder, data, rng)
    opt, average, state = init_state(run, model, rng)
    tc = cfg.train
    run.console.log(f"training {cfg.model.arch} on {run.device.type}{' (bf16)' if run.dtype else ''}: "
                    f"{sum(p.numel() for p in model.parameters()):,} parameters, "
                    f"{len(data.x_tr):,} train / {len(data.x_va):,} val")
    net = run.dist.wrap(model, tc.seed + state.start_epoch)  # DDP when distributed; `model` is what gets saved
    shards = shard_count(tc.cpu_shards, model, run.device, run.dist.enabled)
    step_fn = make_train_step(net, model, torch.nn.BCEWithLogitsLoss(), run.dtype, shards, tc.adversarial,
                              tc.virtual_adversarial)
    if shards > 1:
        run.console.log(f"each batch split into {shards} parts trained in parallel threads")
    bar = Progress(TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("loss {task.fields[loss]:.4f}"), TimeElapsedColumn(), console=run.console,
                   disable=not run.progress, transient=True)
    try:
        with bar:
            for epoch in range(state.start_epoch, tc.epochs + 1):
                row = train_epoch(run, data, epoch, step_fn, opt, model, average, augmenter, state, bar)
                row = end_epoch(run, data, row, model, opt, average, state)
                if on_epoch and run.dist.is_main:
                    on_epoch(row)
                if epoch - state.best["epoch"] >= tc.patience:
                    run.console.log(f"early stopping: no validation improvement for {tc.patience} epochs")
                    break
                if tc.max_steps and state.step >= tc.max_steps:
                    break
    except KeyboardInterrupt:
        done = state.history[-1]["epoch"] if state.history else 0
        run.console.print(f"[yellow]interrupted; {done} epoch(s) saved in {run.ckdir}. "
                          f"Continue with: sentiment-lab train --resume {run.run_dir}[/yellow]")
        raise
    finally:
        step_fn.close()
    return finish_run(run, splits, encoder, data, model, state)


def train(cfg: Config, run_dir: str | Path, resume: bool = False, progress: bool = True,
          console: Console | None = None) -> TrainResult:
    """Load the configured data and fit: what `sentiment-lab train` runs (`console`, `progress`:
    as for `fit`)."""
    console = console or Console(stderr=True, log_path=False)
    if launched_rank() != 0:  # under torchrun rank 0 alone talks (as in fit)
        console = Console(quiet=True)
    preflight(cfg, run_dir)  # a setting that cannot work fails now, before minutes of loading, and writes nothing
    t0 = time.perf_counter()
    splits = load_splits(cfg.data, seed=cfg.train.seed, progress=progress)
    console.log(f"data: {len(splits.train):,} train{positive_share(splits.train)}, {len(splits.val):,} val, "
                f"{len(splits.test):,} test{positive_share(splits.test)} ({time.perf_counter() - t0:.1f}s)")
    for line in (splits.report() if isinstance(splits, Mixture) else []) + overlap_report(splits):  # per source, then pooled
        console.log(line)
    return fit(cfg, splits, run_dir, resume=resume, progress=progress, console=console)


def resume_training(run_dir: str | Path, progress: bool = True, console: Console | None = None) -> TrainResult:
    """Continue an interrupted run with the settings it was started with (its config.json), from
    its last finished epoch: what `sentiment-lab train --resume RUN_DIR` runs."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise ConfigError(f"nothing to resume in {run_dir}: no config.json")
    cfg = Config.from_dict(json.loads((run_dir / "config.json").read_text()))
    return train(cfg, run_dir, resume=True, progress=progress, console=console)

