"""Model registry: versioned architecture names -> constructors, so a bundle saved today
keeps loading after new architectures are added."""
from __future__ import annotations

from typing import Callable

from torch import nn

from sentiment_lab.config import ModelConfig
from sentiment_lab.exceptions import ConfigError
from sentiment_lab.models.mkl_warmup import warm_up_vml
from sentiment_lab.models.rnn import RNNClassifier

warm_up_vml()  # before any model runs on several threads (mkl_warmup.py)

REGISTRY: dict[str, Callable[[ModelConfig, int], nn.Module]] = {
    "lstm.v1": lambda cfg, vocab: RNNClassifier(cfg, vocab, cell="lstm"),
    "gru.v1": lambda cfg, vocab: RNNClassifier(cfg, vocab, cell="gru"),
    "rnn.v1": lambda cfg, vocab: RNNClassifier(cfg, vocab, cell="rnn"),
}


def build_model(cfg: ModelConfig, vocab_size: int) -> nn.Module:
    if cfg.arch not in REGISTRY:
        raise ConfigError(f"unknown architecture {cfg.arch!r}; valid: {', '.join(REGISTRY)}")
    return REGISTRY[cfg.arch](cfg, vocab_size)


__all__ = ["REGISTRY", "build_model", "RNNClassifier"]
