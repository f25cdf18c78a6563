"""Training: one explicit loop (TRAIN / VALIDATE per epoch), best checkpoint on validation
loss, early stopping, seeding, Ctrl-C-safe resumable checkpoints, and a run directory:

    RUN_DIR/config.json        resolved config
    RUN_DIR/tokenizer.json     fitted on the training split only
    RUN_DIR/checkpoint/        last finished epoch: model, optimizer, RNG and loop state
    RUN_DIR/history.json|csv   per-epoch loss, accuracy and time
    RUN_DIR/metrics.json       validation and test metrics of the best epoch
    RUN_DIR/bundle/            the model bundle (see bundle.py)
"""
from __future__ import annotations

import csv
import json
import math
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from safetensors.torch import load_file, save_file
from torch.optim.swa_utils import AveragedModel

from sentiment_lab.adversarial import adversarial_backward
from sentiment_lab.batching import bucket_batches, collate, predict_logits
from sentiment_lab.atomic import replacing, write_json
from sentiment_lab.bundle import save_pretrained
from sentiment_lab.config import Config
from sentiment_lab.cpu_shards import ShardedStep, shard_count
from sentiment_lab.data import Record, Splits, load_splits
from sentiment_lab.distributed import launched_rank, setup_distributed
from sentiment_lab.errors import ConfigError, SentimentLabError
from sentiment_lab.evaluate import compute_metrics
from sentiment_lab.models import REGISTRY, build_model
from sentiment_lab.augment import Augmenter
from sentiment_lab.text import TextEncoder
from sentiment_lab.token_cache import encode_with_lengths


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
class TrainResult:
    model: torch.nn.Module
    encoder: TextEncoder
    history: list[dict[str, float]]
    metrics: dict[str, Any]
    run_dir: Path
    best_epoch: int
    interrupted: bool = False
    timings: dict[str, float] = field(default_factory=dict)


def ema_multi_avg_fn(decay: float) -> Callable[[list[torch.Tensor], list[torch.Tensor], torch.Tensor], None]:
    """An exponential moving average that starts as the plain mean of the steps so far
    (decay n/(n+1) until that reaches `decay`). A fixed decay from the first step would keep
    most of the random initial weights in short runs: 0.99 over 40 steps leaves 67% of them,
    and the model predicts at chance. All tensors of a device in one foreach call, so the
    step count is read from the device once per step, not once per parameter (a CUDA sync)."""
    def avg(averaged: list[torch.Tensor], current: list[torch.Tensor], num_averaged: torch.Tensor) -> None:
        n = float(num_averaged)
        d = min(decay, n / (n + 1.0))
        torch._foreach_lerp_(averaged, current, 1.0 - d)
    return avg


def lr_factor(schedule: str, step: int, total: float) -> float:
    """Multiplier of the base learning rate at optimizer step `step` of `total` planned:
    constant, or a decay to zero (linear or cosine) that lets the last steps settle."""
    if schedule == "constant" or total <= 0:
        return 1.0
    progress = min(step / total, 1.0)
    if schedule == "linear":
        return 1.0 - progress
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def _labels(records: list[Record]) -> np.ndarray:
    return np.fromiter((r.label for r in records), dtype=np.float32, count=len(records))


def _save_checkpoint(ckdir: Path, model: torch.nn.Module, opt: torch.optim.Optimizer, state: dict,
                     best_state: dict[str, torch.Tensor] | None, ema: AveragedModel | None = None) -> None:
    """The state after a finished epoch, written to a temp dir and swapped in atomically."""
    tmp = ckdir.with_name(ckdir.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(tmp / "model.safetensors"))
    osd = opt.state_dict()
    tensors = {f"{i}.{k}": v.detach().cpu().contiguous().reshape(v.shape)
               for i, s in osd["state"].items() for k, v in s.items() if torch.is_tensor(v)}
    save_file(tensors, str(tmp / "optimizer.safetensors"))
    if best_state is not None:
        save_file(best_state, str(tmp / "best.safetensors"))
    if ema is not None:
        save_file({k: v.detach().cpu().contiguous() for k, v in ema.state_dict().items()}, str(tmp / "ema.safetensors"))
    state = dict(state, param_groups=osd["param_groups"], torch_rng=torch.get_rng_state().tolist())
    write_json(tmp / "state.json", state)
    if ckdir.exists():
        old = ckdir.with_name(ckdir.name + ".old")
        ckdir.rename(old)
        tmp.rename(ckdir)
        shutil.rmtree(old)
    else:
        tmp.rename(ckdir)


def _load_checkpoint(ckdir: Path, model: torch.nn.Module, opt: torch.optim.Optimizer,
                     ema: AveragedModel | None = None) -> dict:
    model.load_state_dict(load_file(str(ckdir / "model.safetensors")))
    if ema is not None:
        ema.load_state_dict(load_file(str(ckdir / "ema.safetensors")))
    state = json.loads((ckdir / "state.json").read_text())
    flat = load_file(str(ckdir / "optimizer.safetensors"))
    opt_state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in flat.items():
        i, k = key.split(".", 1)
        opt_state.setdefault(int(i), {})[k] = value
    opt.load_state_dict({"state": opt_state, "param_groups": state.pop("param_groups")})
    torch.set_rng_state(torch.tensor(state.pop("torch_rng"), dtype=torch.uint8))
    return state


def _write_history(run_dir: Path, history: list[dict]) -> None:
    write_json(run_dir / "history.json", history)
    if history:
        with replacing(run_dir / "history.csv") as tmp, open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(history[0]))
            w.writeheader()
            w.writerows(history)


def fit(cfg: Config, splits: Splits, run_dir: str | Path, resume: bool = False, progress: bool = True,
        console: Console | None = None, on_epoch: Callable[[dict], None] | None = None) -> TrainResult:
    """Train on splits.train, select on splits.val, report on splits.test (if any).

    The log goes to `console` (stderr by default; `Console(quiet=True)` silences it, e.g. in a
    notebook); `progress=False` hides only the progress bars. The returned model is in eval mode."""
    console = console or Console(stderr=True)
    run_dir = preflight(cfg, run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    tc = cfg.train
    rng = seed_everything(tc.seed)
    dist_ctx = setup_distributed(pick_device(tc.device))  # DDP under torchrun (distributed.py), else a no-op
    device = dist_ctx.device
    if not dist_ctx.is_main:  # rank 0 alone talks and writes
        console, progress = Console(quiet=True), False
    dtype = pick_dtype(tc.precision, device)
    ckdir = run_dir / "checkpoint"
    if resume and not (ckdir / "state.json").exists():
        raise SentimentLabError(f"nothing to resume in {run_dir}: no checkpoint/state.json")
    if resume:
        saved = json.loads((run_dir / "config.json").read_text())
        if saved != cfg.to_dict():
            raise SentimentLabError(f"{run_dir} was started with another config; resume with the same settings")
        encoder = TextEncoder.load(run_dir / "tokenizer.json", cfg.text.max_len, cfg.text.truncation)
    else:
        if dist_ctx.is_main:
            write_json(run_dir / "config.json", cfg.to_dict())
        t0 = time.perf_counter()
        encoder = dist_ctx.from_main(lambda: TextEncoder.fit(
            (r.text for r in splits.train), cfg.text.vocab_size, cfg.text.max_len, cfg.text.truncation,
            cfg.text.level, cfg.text.min_frequency, cfg.text.stopwords))
        if dist_ctx.is_main:
            encoder.save(run_dir / "tokenizer.json")
        console.log(f"tokenizer fitted on {len(splits.train):,} training texts in {time.perf_counter() - t0:.1f}s "
                    f"({encoder.vocab_size:,} ids)")
    t0 = time.perf_counter()
    # tokenized once, reused every epoch; and cached on disk for later runs (token_cache.py)
    x_tr, _ = encode_with_lengths(encoder, [r.text for r in splits.train])
    x_va, _ = encode_with_lengths(encoder, [r.text for r in splits.val])
    y_tr, y_va = _labels(splits.train), _labels(splits.val)
    encode_s = time.perf_counter() - t0
    lengths = np.fromiter((len(s) for s in x_tr), dtype=np.int64, count=len(x_tr))

    model = build_model(cfg.model, encoder.vocab_size)
    augmenter = None
    needs_vectors = cfg.model.pretrained_vectors != "none" or any(
        op in cfg.train.augment.split(",") for op in ("insert", "synonym"))
    if needs_vectors:
        vectors, neighbours = dist_ctx.from_main(lambda: _word_vectors(cfg, splits, encoder, run_dir, resume, console))
        if cfg.model.pretrained_vectors != "none" and not resume:
            with torch.no_grad():
                model.embedding.weight.copy_(torch.from_numpy(vectors))
    if cfg.model.freeze_embeddings:
        model.embedding.weight.requires_grad_(False)
    if cfg.train.augment != "none":
        augmenter = Augmenter(cfg.train.augment, cfg.train.augment_alpha, cfg.text.max_len, cfg.text.truncation,
                              neighbours if needs_vectors else None)
    model = model.to(device)
    if tc.pretrain_epochs and not resume:  # a resumed run's checkpoint already holds the pretrained weights
        from sentiment_lab.pretrain import pretrain

        lm_history = pretrain(model, x_tr, tc.pretrain_epochs, tc.lr, tc.batch_size, rng, device, tc.grad_clip,
                              tc.max_steps, console.log)
        if dist_ctx.is_main:
            write_json(run_dir / "pretrain_history.json", lm_history)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=tc.lr, weight_decay=tc.weight_decay)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    # Weight averaging: the average of the last few hundred steps' weights sits nearer the
    # middle of the loss valley than the last step's, which small-batch noise keeps moving.
    # When on, it is what gets validated, selected and shipped.
    ema = AveragedModel(model, multi_avg_fn=ema_multi_avg_fn(tc.ema), use_buffers=True) if tc.ema else None
    kept = ema.module if ema is not None else model  # the weights that are validated and kept
    history: list[dict] = []
    best = {"val_loss": math.inf, "epoch": 0}
    best_state: dict[str, torch.Tensor] | None = None
    start_epoch, step = 1, 0
    if resume:
        st = _load_checkpoint(ckdir, model, opt, ema)
        history, best, start_epoch, step = st["history"], st["best"], st["epoch"] + 1, st["step"]
        rng = np.random.default_rng(st["numpy_seed"])
        best_state = load_file(str(ckdir / "best.safetensors")) if (ckdir / "best.safetensors").exists() else None
        console.log(f"resuming {run_dir} after epoch {st['epoch']}")
    console.log(f"training {cfg.model.arch} on {device.type}{' (bf16)' if dtype else ''}: "
                f"{sum(p.numel() for p in model.parameters()):,} parameters, {len(x_tr):,} train / {len(x_va):,} val")

    net = dist_ctx.wrap(model, tc.seed + start_epoch)  # DDP when distributed; `model` is what gets saved
    shards = shard_count(tc.cpu_shards, model, device, dist_ctx.enabled)
    sharded = ShardedStep(shards) if shards > 1 else None  # parts of each batch trained in parallel (cpu_shards.py)
    if sharded is not None:
        console.log(f"each batch split into {shards} parts trained in parallel threads")
    interrupted = False
    bar = Progress(TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("loss {task.fields[loss]:.4f}"), TimeElapsedColumn(), console=console,
                   disable=not progress, transient=True)
    try:
        with bar:
            for epoch in range(start_epoch, tc.epochs + 1):
                # ---------------- TRAIN ----------------
                epoch_seed = int(rng.integers(2**31))
                batches = dist_ctx.shard(bucket_batches(lengths, tc.batch_size, np.random.default_rng(epoch_seed)))
                # the steps the run plans, for the learning-rate schedule (early stopping may end it sooner);
                # every epoch has as many batches
                planned_steps = min(tc.epochs * len(batches), tc.max_steps or math.inf)
                aug_rng = np.random.default_rng(epoch_seed + 1)
                task = bar.add_task("train", total=len(batches), epoch=epoch, loss=float("nan"))
                model.train()
                t0 = time.perf_counter()
                tot_loss, tot_correct, seen, real_tokens, padded_tokens = 0.0, 0, 0, 0, 0
                for idx in batches:
                    if augmenter is None:
                        ids, lens = collate(x_tr, idx, device)
                    else:
                        ids_np, lens_np = augmenter.batch([x_tr[i] for i in idx], aug_rng)
                        ids, lens = torch.from_numpy(ids_np).to(device), torch.from_numpy(lens_np).to(device)
                    y = torch.from_numpy(y_tr[idx]).to(device)
                    opt.zero_grad(set_to_none=True)
                    if sharded is not None:
                        logits, loss = sharded(model, ids, lens, y, loss_fn, dtype, tc.adversarial,
                                               tc.virtual_adversarial)
                    elif tc.adversarial or tc.virtual_adversarial:
                        logits, loss = adversarial_backward(net, model, ids, lens, y, loss_fn, tc.adversarial, dtype,
                                                            tc.virtual_adversarial)
                    else:
                        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                            logits = net(ids, lens).float()
                        loss = loss_fn(logits, y)
                        loss.backward()
                    if tc.grad_clip > 0:
                        torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
                    for group in opt.param_groups:
                        group["lr"] = tc.lr * lr_factor(tc.lr_schedule, step, planned_steps)
                    opt.step()
                    if ema is not None:
                        ema.update_parameters(model)
                    step += 1
                    n = len(idx)
                    tot_loss += loss.item() * n
                    tot_correct += int(((logits > 0).float() == y).sum())
                    seen += n
                    real_tokens += int(lens.sum())
                    padded_tokens += ids.numel()
                    bar.update(task, advance=1, loss=tot_loss / seen)
                    if tc.max_steps and step >= tc.max_steps:
                        break
                train_s = time.perf_counter() - t0
                tot_loss, tot_correct, seen, real_tokens, padded_tokens = dist_ctx.all_sum(
                    [tot_loss, tot_correct, seen, real_tokens, padded_tokens])
                bar.remove_task(task)
                # ---------------- VALIDATE ----------------
                t1 = time.perf_counter()
                val_loss = val_acc = None
                if len(x_va):
                    p_va = 1 / (1 + np.exp(-dist_ctx.sharded_logits(
                        lambda s: predict_logits(kept, s, tc.eval_batch_size, device, dtype), x_va)))
                    vm = compute_metrics(y_va, p_va)
                    val_loss, val_acc = vm["loss"], vm["accuracy"]
                row = {"epoch": epoch, "train_loss": tot_loss / seen, "train_accuracy": tot_correct / seen,
                       "val_loss": val_loss, "val_accuracy": val_acc, "train_s": train_s,
                       "val_s": time.perf_counter() - t1, "padding_share": 1 - real_tokens / padded_tokens,
                       "steps": step}
                history.append(row)
                # without a validation split (a final refit on all of train) the last epoch is kept
                improved = val_loss is None or val_loss < best["val_loss"]
                if improved:
                    best = {"val_loss": val_loss, "epoch": epoch}  # None without validation: JSON has no inf
                    best_state = {k: v.detach().cpu().clone() for k, v in kept.state_dict().items()}
                console.log(f"epoch {epoch}: train loss {row['train_loss']:.4f} acc {row['train_accuracy']:.4f} | "
                            + ("no validation" if val_loss is None else f"val loss {val_loss:.4f} acc {val_acc:.4f}")
                            + f" | {train_s:.1f}s" + (" *" if improved and val_loss is not None else ""))
                next_seed = int(rng.integers(2**31))  # reseeding each epoch makes a resumed run identical
                rng = np.random.default_rng(next_seed)
                if dist_ctx.is_main:
                    _write_history(run_dir, history)
                    _save_checkpoint(ckdir, model, opt, {"epoch": epoch, "step": step, "history": history,
                                                         "best": best, "numpy_seed": next_seed}, best_state, ema)
                if on_epoch and dist_ctx.is_main:
                    on_epoch(row)
                if epoch - best["epoch"] >= tc.patience:
                    console.log(f"early stopping: no validation improvement for {tc.patience} epochs")
                    break
                if tc.max_steps and step >= tc.max_steps:
                    break
    except KeyboardInterrupt:
        interrupted = True
        done = history[-1]["epoch"] if history else 0
        console.print(f"[yellow]interrupted; {done} epoch(s) saved in {ckdir}. "
                      f"Continue with: sentiment-lab train --resume {run_dir}[/yellow]")
        raise
    finally:
        if sharded is not None:
            sharded.close()

    if best_state is not None:
        model.load_state_dict(best_state)
    if not dist_ctx.is_main:  # rank 0 evaluates and writes the bundle
        dist_ctx.close()
        return TrainResult(model.eval(), encoder, history, {"best_epoch": best["epoch"]}, run_dir, best["epoch"],
                           interrupted)
    metrics: dict[str, Any] = {"best_epoch": best["epoch"]}
    if len(x_va):
        metrics["val"] = vm_of(model, x_va, y_va, tc.eval_batch_size, device, dtype)
    if splits.test:
        x_te, full_te = encode_with_lengths(encoder, [r.text for r in splits.test])
        y_te = _labels(splits.test)
        metrics["test"] = vm_of(model, x_te, y_te, tc.eval_batch_size, device, dtype)
        _write_predictions(run_dir / "test_predictions.csv", splits.test, y_te,
                           1 / (1 + np.exp(-predict_logits(model, x_te, tc.eval_batch_size, device, dtype))), x_te,
                           full_te)
    metrics["timings"] = {"encode_s": encode_s, "train_s": sum(h["train_s"] for h in history)}
    if tc.pretrain_epochs and (run_dir / "pretrain_history.json").exists():  # read back: a resumed run counts it too
        metrics["timings"]["pretrain_s"] = sum(r["s"] for r in json.loads((run_dir / "pretrain_history.json").read_text()))
    write_json(run_dir / "metrics.json", metrics)
    save_pretrained(run_dir / "bundle", model.cpu(), encoder, cfg, metrics, history)
    try:
        from sentiment_lab.plots import plot_run

        plot_run(run_dir)
    except Exception as exc:  # figures are a convenience: never lose a finished run over one
        console.log(f"[yellow]plots skipped: {exc}[/yellow]")
    dist_ctx.close()
    return TrainResult(model.eval(), encoder, history, metrics, run_dir, best["epoch"], interrupted)


def _word_vectors(cfg: Config, splits: Splits, encoder: TextEncoder, run_dir: Path, resume: bool,
                  console: Console) -> tuple[np.ndarray, np.ndarray]:
    """Word vectors trained on the training split and their neighbour table, saved in the run
    directory (safetensors) so that a resumed run uses the very same ones."""
    from safetensors.numpy import load_file as load_np, save_file as save_np

    path = run_dir / "word_vectors.safetensors"
    if resume and path.exists():
        saved = load_np(str(path))
        return saved["vectors"], saved["neighbours"]
    from sentiment_lab.vectors import nearest_neighbours, train_word_vectors

    t0 = time.perf_counter()
    kind = cfg.model.pretrained_vectors if cfg.model.pretrained_vectors != "none" else "word2vec"
    vectors = train_word_vectors([r.text for r in splits.train], encoder, cfg.model.embedding_dim, kind,
                                 seed=cfg.train.seed)
    neighbours = nearest_neighbours(vectors)
    tmp = path.with_suffix(".part")
    save_np({"vectors": vectors, "neighbours": neighbours}, str(tmp))
    tmp.replace(path)
    console.log(f"{kind} vectors trained on the training split in {time.perf_counter() - t0:.1f}s")
    return vectors, neighbours


def _write_predictions(path: Path, records: list[Record], y: np.ndarray, p: np.ndarray,
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


def vm_of(model: torch.nn.Module, seqs: list[np.ndarray], y: np.ndarray, batch_size: int, device: torch.device,
          dtype: torch.dtype | None) -> dict[str, Any]:
    p = 1 / (1 + np.exp(-predict_logits(model, seqs, batch_size, device, dtype)))
    m = compute_metrics(y, p)
    m.pop("classification_report")
    return m


def _positive_share(records: list[Record]) -> str:
    """Class balance for the log: on a 69%-positive set, 69% accuracy is what one label gets."""
    return f" ({sum(r.label for r in records) / len(records):.0%} positive)" if records else ""


def overlap_report(splits: Splits, warn_share: float = 0.01) -> list[str]:
    """Repeated texts, said out loud: a test review that is also a training review measures
    memory, not generalisation (IMDB itself: 96 repeats in train, 123 test reviews in train)."""
    seen = {r.text.strip() for r in splits.train}
    lines = []
    repeats = len(splits.train) - len(seen)
    parts = [f"{repeats:,} repeated texts in train"] if repeats else []
    for name, records in (("val", splits.val), ("test", splits.test)):
        n = sum(r.text.strip() in seen for r in records)
        if n:
            parts.append(f"{n:,} {name} texts ({n / len(records):.1%}) also in train")
            if n / len(records) > warn_share:
                lines.append(f"warning: {n / len(records):.0%} of the {name} texts also appear in the training data: "
                             f"{name} accuracy overstates what new texts will get; remove the repeats")
    return ([f"data check: {'; '.join(parts)}"] if parts else []) + lines


def train(cfg: Config, run_dir: str | Path, resume: bool = False, progress: bool = True,
          console: Console | None = None) -> TrainResult:
    """Load the configured data and fit: what `sentiment-lab train` runs (`console`, `progress`:
    as for `fit`)."""
    console = console or Console(stderr=True)
    if launched_rank() != 0:  # under torchrun rank 0 alone talks (as in fit)
        console = Console(quiet=True)
    preflight(cfg, run_dir)  # a setting that cannot work fails now, before minutes of loading, and writes nothing
    t0 = time.perf_counter()
    splits = load_splits(cfg.data, seed=cfg.train.seed, progress=progress)
    console.log(f"data: {len(splits.train):,} train{_positive_share(splits.train)}, {len(splits.val):,} val, "
                f"{len(splits.test):,} test{_positive_share(splits.test)} ({time.perf_counter() - t0:.1f}s)")
    for line in overlap_report(splits):
        console.log(line)
    return fit(cfg, splits, run_dir, resume=resume, progress=progress, console=console)
