"""Data-parallel training over several processes, GPUs or machines: PyTorch
DistributedDataParallel, launched by torchrun, which sets RANK / WORLD_SIZE / LOCAL_RANK:

    torchrun --nproc_per_node 2 --no-python sentiment-lab train --preset default ...       # one machine
    torchrun --nnodes 2 --node_rank 0 --nproc_per_node 8 --rdzv_endpoint HOST:29500 \\
        --no-python sentiment-lab train ...                                                  # per machine

Without WORLD_SIZE > 1 every helper here is a no-op and `fit` runs exactly as before.
With it, `fit` (train.py):
- creates the process group (NCCL on CUDA, one GPU per process; gloo on CPU);
- lets rank 0 fit the tokenizer (and word vectors) and sends them to the others;
- wraps the model in DistributedDataParallel (gradients averaged every step);
- gives each rank every W-th of the same seeded, length-bucketed batches (the
  DistributedSampler idea applied to batches, keeping length bucketing; the last
  len % W batches of an epoch are dropped so that all ranks take the same number of steps);
- scores the validation split sharded too and all-reduces the logits, so every rank computes
  the same metrics and takes the same best-epoch and early-stopping decisions;
- writes the run directory, checkpoints, history, bundle and progress bar on rank 0 only.

The effective batch is W x train.batch_size (the learning rate is not rescaled). Resuming
reads the checkpoint on every rank, so the run directory must be on a shared filesystem
for multi-machine runs.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar

import numpy as np
import torch

T = TypeVar("T")


@dataclass
class DistContext:
    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")
    owns_group: bool = False  # this process created the group, so it destroys it

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def from_main(self, make: Callable[[], T]) -> T:
        """Rank 0 computes make(); every rank gets that very object (pickled over the group)."""
        if not self.enabled:
            return make()
        box = [make() if self.is_main else None]
        torch.distributed.broadcast_object_list(box, src=0, device=self._comm_device())
        return box[0]

    def wrap(self, model: torch.nn.Module, seed: int) -> torch.nn.Module:
        """The module to train through: DDP around `model` (which stays the one to save)."""
        if not self.enabled:
            return model
        from torch.nn.parallel import DistributedDataParallel

        torch.manual_seed(seed + 1009 * self.rank)  # own dropout masks per rank; DDP syncs the weights
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def shard(self, batches: Sequence[T]) -> list[T]:
        """Batches r, r+W, r+2W, ... of the list every rank built identically."""
        if not self.enabled:
            return list(batches)
        per_rank = len(batches) // self.world_size
        if per_rank == 0:
            raise ValueError(f"{len(batches)} batches cannot feed {self.world_size} processes; "
                             "lower train.batch_size or use fewer processes")
        return list(batches[self.rank:per_rank * self.world_size:self.world_size])

    def all_sum(self, values: Sequence[float]) -> list[float]:
        """Element-wise sums over ranks (training loss, correct counts, tokens)."""
        if not self.enabled:
            return list(values)
        t = torch.tensor(list(values), dtype=torch.float64, device=self._comm_device())
        torch.distributed.all_reduce(t)
        return t.cpu().tolist()

    def sharded_logits(self, predict: Callable[[list], np.ndarray], seqs: Sequence[Any]) -> np.ndarray:
        """predict() over all seqs, each rank scoring every W-th one; an all-reduce of the
        zero-filled vectors hands every rank all the logits."""
        if not self.enabled:
            return predict(list(seqs))
        idx = np.arange(self.rank, len(seqs), self.world_size)
        full = torch.zeros(len(seqs), dtype=torch.float64)
        if len(idx):
            full[torch.from_numpy(idx)] = torch.from_numpy(np.asarray(predict([seqs[i] for i in idx]), dtype=np.float64))
        full = full.to(self._comm_device())
        torch.distributed.all_reduce(full)
        return full.cpu().numpy().astype(np.float32)

    def close(self) -> None:
        if self.owns_group and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
            self.owns_group = False

    def _comm_device(self) -> torch.device:
        return self.device if self.device.type == "cuda" else torch.device("cpu")


def launched_rank() -> int:
    """This process's rank under torchrun (0 without it), from the environment: for code that
    must know before (or without) a DistContext, like the CLI's summary."""
    return int(os.environ["RANK"]) if int(os.environ.get("WORLD_SIZE", "1")) > 1 else 0


def setup_distributed(device: torch.device) -> DistContext:
    """A DistContext from torchrun's environment; one process (no-op) when WORLD_SIZE <= 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext(device=device)
    import torch.distributed as dist

    rank, local_rank = launched_rank(), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":  # one GPU per process
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    owns = not dist.is_initialized()
    if owns:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return DistContext(rank=rank, world_size=world, device=device, owns_group=owns)
