"""What survives an interrupted run: after each epoch the model, optimiser, weight average,
best weights and loop state are written to a temporary folder and swapped in atomically
(`sentiment-lab train --resume RUN_DIR` continues from there, identically)."""
from __future__ import annotations

import csv
import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save
from torch.optim.swa_utils import AveragedModel

from sentiment_lab.fileio import replacing, write_bytes, write_json


@dataclass
class TrainState:
    """The loop's state between epochs: what a checkpoint holds besides tensors."""
    history: list[dict] = field(default_factory=list)
    best: dict = field(default_factory=lambda: {"val_loss": math.inf, "epoch": 0})
    best_state: dict[str, torch.Tensor] | None = None  # the kept weights of the best epoch, on CPU
    start_epoch: int = 1
    step: int = 0  # optimizer steps taken
    rng: np.random.Generator = field(default_factory=np.random.default_rng)


def _cpu(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}


def _save_tensors(tensors: dict[str, torch.Tensor], path: Path) -> None:
    """safetensors bytes written through fileio: a full disk is a plain OSError (ENOSPC), which
    the CLI reports in one line, not safetensors' own SafetensorError."""
    write_bytes(path, save(tensors))


def save_checkpoint(ckdir: Path, model: torch.nn.Module, opt: torch.optim.Optimizer, state: TrainState,
                    epoch: int, numpy_seed: int, ema: AveragedModel | None = None) -> None:
    """The state after a finished epoch, written to CKDIR.tmp and swapped in (CKDIR -> CKDIR.old,
    CKDIR.tmp -> CKDIR). state.json is written last, atomically: a folder holding one is whole.
    A process killed at any point leaves at least one whole checkpoint (find_checkpoint)."""
    tmp, old = ckdir.with_name(ckdir.name + ".tmp"), ckdir.with_name(ckdir.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)  # a write cut short by a kill: never mixed with this one
    tmp.mkdir(parents=True)
    _save_tensors(_cpu(model), tmp / "model.safetensors")
    osd = opt.state_dict()
    tensors = {f"{i}.{k}": v.detach().cpu().contiguous().reshape(v.shape)
               for i, s in osd["state"].items() for k, v in s.items() if torch.is_tensor(v)}
    _save_tensors(tensors, tmp / "optimizer.safetensors")
    if state.best_state is not None:
        _save_tensors(state.best_state, tmp / "best.safetensors")
    if ema is not None:
        _save_tensors(_cpu(ema), tmp / "ema.safetensors")
    write_json(tmp / "state.json", {"epoch": epoch, "step": state.step, "history": state.history, "best": state.best,
                                    "numpy_seed": numpy_seed, "param_groups": osd["param_groups"],
                                    "torch_rng": torch.get_rng_state().tolist()})
    if ckdir.exists():
        shutil.rmtree(old, ignore_errors=True)
        ckdir.rename(old)
    tmp.rename(ckdir)
    shutil.rmtree(old, ignore_errors=True)


def find_checkpoint(ckdir: Path) -> Path | None:
    """The newest whole checkpoint among CKDIR, CKDIR.tmp and CKDIR.old (a kill between the two
    renames of save_checkpoint leaves only the latter two), or None."""
    whole = [d for d in (ckdir, ckdir.with_name(ckdir.name + ".tmp"), ckdir.with_name(ckdir.name + ".old"))
             if (d / "state.json").is_file()]
    return max(whole, key=lambda d: json.loads((d / "state.json").read_text())["epoch"], default=None)


def load_checkpoint(ckdir: Path, model: torch.nn.Module, opt: torch.optim.Optimizer,
                    ema: AveragedModel | None = None) -> TrainState:
    """Restore the tensors in place (model, optimiser, average, torch's RNG) from the newest whole
    checkpoint (find_checkpoint); return the loop state."""
    ckdir = find_checkpoint(ckdir) or ckdir
    model.load_state_dict(load_file(str(ckdir / "model.safetensors")))
    if ema is not None:
        ema.load_state_dict(load_file(str(ckdir / "ema.safetensors")))
    saved = json.loads((ckdir / "state.json").read_text())
    opt_state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in load_file(str(ckdir / "optimizer.safetensors")).items():
        i, k = key.split(".", 1)
        opt_state.setdefault(int(i), {})[k] = value
    opt.load_state_dict({"state": opt_state, "param_groups": saved["param_groups"]})
    torch.set_rng_state(torch.tensor(saved["torch_rng"], dtype=torch.uint8))
    best = ckdir / "best.safetensors"
    return TrainState(saved["history"], saved["best"], load_file(str(best)) if best.exists() else None,
                      saved["epoch"] + 1, saved["step"], np.random.default_rng(saved["numpy_seed"]))


def write_history(run_dir: Path, history: list[dict]) -> None:
    """history.json and history.csv: one row per epoch (losses, accuracies, timings)."""
    write_json(run_dir / "history.json", history)
    if history:
        with replacing(run_dir / "history.csv") as tmp, open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(history[0]))
            w.writeheader()
            w.writerows(history)
