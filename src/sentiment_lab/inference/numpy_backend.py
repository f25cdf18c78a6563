"""A NumPy forward pass of a bundle's network, without importing PyTorch.

Why: importing torch takes well over a second on a small CPU, which dominated the cold
start of `sentiment-lab predict "one sentence"`. Scoring a few sentences needs only an
embedding lookup and a short recurrence, so the CLI's argument and interactive paths run
here; bulk scoring (`--input`), training and evaluation use PyTorch. The two are tested to
agree on every architecture (tests/test_runtime.py).

The equations are PyTorch's (gate order and biases included):
  LSTM: i, f, g, o = split(W_ih x + b_ih + W_hh h + b_hh); c = f c + i g; h = o tanh(c)
  GRU:  r, z = sigmoid(...); n = tanh(W_in x + b_in + r (W_hn h + b_hn)); h = (1 - z) n + z h
  RNN:  h = tanh(W_ih x + b_ih + W_hh h + b_hh)
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from sentiment_lab.config import ModelConfig
from sentiment_lab.inference.runners import sorted_batch_logits
from sentiment_lab.text.ngrams import bag_hashes, ngram_hashes


def bag_logits(table: np.ndarray, ids: np.ndarray, lengths: np.ndarray, buckets: int, order: int,
               scale: float) -> np.ndarray:
    """The bag-of-n-grams term (B,): scale * sum of the weights of each distinct n-gram of a
    review's real tokens, divided by the square root of their number."""
    h = bag_hashes(ids, buckets, order)
    out = np.zeros(len(ids), dtype=np.float32)
    for i, n in enumerate(lengths):
        distinct = np.unique(h[i, :n])
        out[i] = scale * table[distinct, 0].sum() / np.sqrt(len(distinct))
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free


class NumpyRNN:
    """Inference-only twin of models.rnn.RNNClassifier, built from its state dict."""

    def __init__(self, cfg: ModelConfig, state: dict[str, np.ndarray]) -> None:
        self.cfg = cfg
        self.cell = cfg.arch.split(".")[0]
        self.w = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in state.items()}

    @staticmethod
    def expected_shapes(cfg: ModelConfig, vocab_size: int) -> dict[str, tuple[int, ...]]:
        """The shape of every tensor this forward pass reads, from the config alone: a bundle
        whose weights do not match is refused at load time with the tensor's name, rather than
        failing mid-prediction with a NumPy broadcasting error (models.rnn builds the same
        state dict; tests/test_runtime.py checks the two agree for every architecture)."""
        H, gates = cfg.hidden_size, {"lstm": 4, "gru": 3, "rnn": 1}[cfg.arch.split(".")[0]]
        out_dim = H * (2 if cfg.bidirectional else 1)
        shapes: dict[str, tuple[int, ...]] = {"embedding.weight": (vocab_size, cfg.embedding_dim)}
        input_size = cfg.embedding_dim
        if cfg.ngram_buckets:
            shapes["ngrams.table.weight"] = (cfg.ngram_buckets, cfg.ngram_dim)
            input_size += cfg.ngram_dim
        for layer in range(cfg.num_layers):
            for suffix in [f"l{layer}"] + ([f"l{layer}_reverse"] if cfg.bidirectional else []):
                shapes |= {f"rnn.weight_ih_{suffix}": (gates * H, input_size), f"rnn.weight_hh_{suffix}": (gates * H, H),
                           f"rnn.bias_ih_{suffix}": (gates * H,), f"rnn.bias_hh_{suffix}": (gates * H,)}
            input_size = out_dim
        if cfg.pooling == "attention":
            shapes |= {"attention.proj.weight": (out_dim, out_dim), "attention.proj.bias": (out_dim,),
                       "attention.score.weight": (1, out_dim)}
        if cfg.bag_buckets:
            shapes["bag.table.weight"] = (cfg.bag_buckets, 1)
        return shapes | {"head.weight": (1, out_dim), "head.bias": (1,)}

    @classmethod
    def load(cls, cfg: ModelConfig, path: str | Path) -> "NumpyRNN":
        from safetensors.numpy import load_file

        return cls(cfg, load_file(str(path)))

    def _direction(self, x: np.ndarray, lengths: np.ndarray, suffix: str) -> np.ndarray:
        """Outputs (B, T, H) of one layer and direction over right-padded inputs (B, T, D)."""
        w_ih, w_hh = self.w[f"rnn.weight_ih_{suffix}"], self.w[f"rnn.weight_hh_{suffix}"]
        b_ih, b_hh = self.w[f"rnn.bias_ih_{suffix}"], self.w[f"rnn.bias_hh_{suffix}"]
        B, T, _ = x.shape
        H = w_hh.shape[1]
        gx = x @ w_ih.T + b_ih  # (B, T, G*H): all input projections at once
        h = np.zeros((B, H), dtype=np.float32)
        c = np.zeros((B, H), dtype=np.float32)
        out = np.zeros((B, T, H), dtype=np.float32)
        for t in range(int(lengths.max())):
            gh = h @ w_hh.T + b_hh
            if self.cell == "lstm":
                g = gx[:, t] + gh
                i, f, o = _sigmoid(g[:, :H]), _sigmoid(g[:, H:2 * H]), _sigmoid(g[:, 3 * H:])
                c = f * c + i * np.tanh(g[:, 2 * H:3 * H])
                h = o * np.tanh(c)
            elif self.cell == "gru":
                r = _sigmoid(gx[:, t, :H] + gh[:, :H])
                z = _sigmoid(gx[:, t, H:2 * H] + gh[:, H:2 * H])
                n = np.tanh(gx[:, t, 2 * H:] + r * gh[:, 2 * H:])
                h = (1 - z) * n + z * h
            else:
                h = np.tanh(gx[:, t] + gh)
            out[:, t] = h
        return out

    def logits(self, ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Positive-class logits (B,) of right-padded ids (B, T) with true lengths (B,)."""
        cfg = self.cfg
        B, T = ids.shape
        x = self.w["embedding.weight"][ids]
        if cfg.ngram_buckets:
            grams = self.w["ngrams.table.weight"][ngram_hashes(ids, cfg.ngram_buckets, cfg.ngram_order)].sum(axis=2)
            x = np.concatenate([x, grams], axis=2)
        steps = np.arange(T)[None, :]
        rev = lengths[:, None] - 1 - steps
        rev = np.where(rev >= 0, rev, steps)  # reverse each sequence within its length
        rows = np.arange(B)[:, None]
        for layer in range(cfg.num_layers):
            fwd = self._direction(x, lengths, f"l{layer}")
            if cfg.bidirectional:
                bwd = self._direction(x[rows, rev], lengths, f"l{layer}_reverse")[rows, rev]
                x = np.concatenate([fwd, bwd], axis=2)
            else:
                x = fwd
        last_idx = lengths - 1
        if cfg.pooling == "last":
            feats = fwd[np.arange(B), last_idx]
            if cfg.bidirectional:
                feats = np.concatenate([feats, x[:, 0, cfg.hidden_size:]], axis=1)
        else:
            mask = steps < lengths[:, None]
            if cfg.pooling == "max":
                feats = np.where(mask[..., None], x, -np.inf).max(axis=1)
            elif cfg.pooling == "mean":
                feats = (x * mask[..., None]).sum(axis=1) / lengths[:, None]
            else:  # additive attention
                a = np.tanh(x @ self.w["attention.proj.weight"].T + self.w["attention.proj.bias"])
                scores = (a @ self.w["attention.score.weight"].T)[..., 0]
                scores = np.where(mask, scores, -np.inf)
                weights = np.exp(scores - scores.max(axis=1, keepdims=True))
                weights /= weights.sum(axis=1, keepdims=True)
                feats = np.einsum("bt,bth->bh", weights, x)
        out = (feats @ self.w["head.weight"].T + self.w["head.bias"])[:, 0]
        if cfg.bag_buckets:
            out = out + bag_logits(self.w["bag.table.weight"], ids, lengths, cfg.bag_buckets, cfg.bag_order, cfg.bag_scale)
        return out

    def predict_logits(self, seqs: Sequence[np.ndarray], batch_size: int = 0) -> np.ndarray:
        """Logits for every id sequence, in input order (a runner: length-sorted batches of
        `batch_size`, 0 = 64)."""
        return sorted_batch_logits(seqs, batch_size or 64, self.logits)
