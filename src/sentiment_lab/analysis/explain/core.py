"""Why did the model say that? Token attributions, a running prediction and the RNN's
internals for one text, all computed on the tokens the model actually reads.

- Integrated Gradients (Sundararajan et al. 2017, via Captum's LayerIntegratedGradients)
  on the embedding layer, explaining the positive-class *logit*: attributions add up to
  logit(text) - logit(baseline) (completeness), Captum's convergence delta measures how far
  the numerical integral is from that.
- Leave-one-out occlusion as a model-agnostic cross-check: how much P(positive) drops when
  token i is removed from the sequence.
- The running prediction: P(positive) of every prefix, computed by running the model on
  each prefix. Reading the last hidden state would be wrong for bidirectional, pooled or
  attention models; a prefix run is right for all of them.
"""
from __future__ import annotations

import warnings
import weakref
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from sentiment_lab.exceptions import SentimentLabError
from sentiment_lab.inference.postprocess import confidence, label_of
from sentiment_lab.text.tokenizer import PAD_ID, UNK_ID, check_text, pad_batch, truncate

if TYPE_CHECKING:
    import torch

    from sentiment_lab.inference.classifier import SentimentClassifier

# Captum runs ig_steps copies of each sequence through the network with gradients; this caps
# the token-steps of one forward/backward pass (memory ~ 4 KB per token-step for a BiLSTM(128)).
_IG_TOKEN_BUDGET = 100_000
_TORCH_COPIES: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


@dataclass
class Explanation:
    """Everything `explain` found about one text; `to_dict()` is the JSON the web API returns."""

    text: str
    label: str  # "positive" / "negative"
    score: float  # P(positive) of the full text
    tokens: list[str]  # tokens the model reads (normalized, truncated), in order
    unknown: list[bool]  # token is out of vocabulary (read as [UNK])
    attributions: list[float]  # Integrated Gradients per token, logit units, >0 pushes towards positive
    occlusion: list[float]  # P(pos | full) - P(pos | without token i)
    trajectory: list[float]  # P(positive) after reading tokens[:i+1]
    attention: list[float] | None  # attention-pooling weights per token, else None
    gates: dict[str, list[list[float]]] | None  # layer 0 forward direction, T x H (cell_norm T x 1)
    hidden: list[list[float]] | None  # layer 0 forward direction hidden states, T x H
    ig_delta: float = 0.0  # Captum's convergence delta: sum(attributions) - (logit(text) - logit(baseline))
    baseline_score: float = 0.5  # P(positive) of the IG baseline (all-[PAD] sequence of the same length)
    truncated: bool = False  # the text had more tokens than the model reads (max_len)
    meta: dict[str, Any] = field(default_factory=dict)  # architecture, ig_steps, baseline description

    @property
    def p_positive(self) -> float:
        """P(positive) of the full text (the field `score`). As everywhere else, `to_dict()` names
        it p_positive and writes `score` as the confidence in the label."""
        return self.score

    @property
    def ig_converged(self) -> bool:
        """False when the IG integral is visibly off: |delta| above 0.05 logit and above 5% of
        the logit difference it should add up to. Long texts read through max pooling need more
        steps; raise ig_steps then."""
        target = abs(sum(self.attributions) - self.ig_delta)
        return abs(self.ig_delta) <= max(0.05, 0.05 * target)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable; probabilities and attributions to 4 decimals, internals to 3."""
        d = asdict(self)
        d["ig_converged"] = self.ig_converged
        for key in ("score", "baseline_score", "ig_delta"):
            d[key] = round(float(d[key]), 4)
        # as in `predict --json` and the web API: "score" is the confidence in the label,
        # "p_positive" the model's P(positive) (the attribute `score` here)
        d["p_positive"], d["score"] = d["score"], round(confidence(self.score), 4)
        for key in ("attributions", "occlusion", "trajectory", "attention"):
            if d[key] is not None:
                d[key] = [round(float(v), 4) for v in d[key]]
        if d["hidden"] is not None:
            d["hidden"] = _round2(d["hidden"], 3)
        if d["gates"] is not None:
            d["gates"] = {k: _round2(v, 3) for k, v in d["gates"].items()}
        return d


def _round2(rows: list[list[float]], digits: int) -> list[list[float]]:
    return [[round(float(v), digits) for v in row] for row in rows]


def read_tokens(clf: "SentimentClassifier", text: str) -> tuple[np.ndarray, list[str], list[bool], bool]:
    """(ids, tokens, unknown, truncated) exactly as the classifier reads `text`.

    The ids equal `clf.encoder.encode([text])[0]` (tested). An unknown word is shown as the
    normalized word that was written, not as "[UNK]", so a reader sees what the model missed."""
    enc = clf.encoder
    e = enc.tokenizer.encode(text, add_special_tokens=False)
    keep = truncate(list(range(len(e.ids))), enc.max_len, enc.truncation)
    if not keep:  # nothing left after dropping punctuation: the encoder reads one [UNK]
        return np.array([UNK_ID], dtype=np.int64), ["[UNK]"], [True], False
    norm = enc.tokenizer.normalizer
    tokens, unknown = [], []
    for i in keep:
        unk = e.ids[i] == UNK_ID
        surface = text[slice(*e.offsets[i])]
        tokens.append(norm.normalize_str(surface) if (unk or enc.tokenizer.decoder) and norm else e.tokens[i])
        unknown.append(unk)
    return np.array([e.ids[i] for i in keep], dtype=np.int64), tokens, unknown, len(keep) < len(e.ids)


def torch_model(clf: "SentimentClassifier") -> tuple["torch.nn.Module", "torch.device"]:
    """The classifier's PyTorch network; for the numpy backend a PyTorch copy reloaded from
    `clf.path` once per classifier (gradients need PyTorch)."""
    import torch

    if clf.backend == "torch":
        return clf.model, torch.device(clf.device)
    if clf not in _TORCH_COPIES:
        if getattr(clf, "path", None) is None:
            raise SentimentLabError("cannot explain with this numpy-backend classifier: it has no bundle path "
                                    "(load it with SentimentClassifier.from_pretrained)")
        from sentiment_lab.inference.bundle import load_pretrained

        _TORCH_COPIES[clf] = load_pretrained(clf.path, "torch")[0]
    return _TORCH_COPIES[clf], torch.device("cpu")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def integrated_gradients(model: "torch.nn.Module", ids: "torch.Tensor", lengths: "torch.Tensor",
                         steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-token IG of the positive logit w.r.t. the embedding output, summed over the
    embedding dimensions: (attributions (B, T), convergence delta (B,), baseline logits (B,)).

    Baseline: the same number of [PAD] tokens. The [PAD] row of the embedding is all zeros
    (padding_idx: initialised to zero and never updated), so this is the usual zero-embedding
    baseline, and it keeps the sequence length, so the path runs through inputs of the same
    shape as the text and pooling sees the same number of steps. A neutral-word baseline
    would smuggle that word's own sentiment into every attribution. Padding positions of a
    batch get exactly zero (input and baseline embeddings are equal there)."""
    import torch
    from captum.attr import LayerIntegratedGradients

    from sentiment_lab.models.rnn import real_steps

    was_training = model.training
    model.eval()  # no dropout, no DropConnect: the network that predicts is the one explained
    baseline = torch.full_like(ids, PAD_ID)
    B, T = ids.shape
    per_chunk = max(1, _IG_TOKEN_BUDGET // (B * T))  # steps per forward/backward pass: memory stays bounded
    # cuDNN's RNN backward refuses eval mode; the native CUDA kernels give the same numbers.
    flags = torch.backends.cudnn.flags(enabled=False) if ids.device.type == "cuda" else nullcontext()
    try:
        with flags:
            # With n-gram vectors both input layers are interpolated together; a token's
            # attribution is its word vector's plus that of the n-grams ending at it.
            layers = [model.embedding] + ([model.ngrams] if model.ngrams is not None else [])
            with warnings.catch_warnings():  # its "multiple layers" caution: both read the ids only
                warnings.filterwarnings("ignore", message="Multiple layers provided")
                lig = LayerIntegratedGradients(model, layers)  # a list in, one attribution per layer out
            attrs, delta = lig.attribute(ids, baselines=baseline, additional_forward_args=(lengths,),
                                         n_steps=steps, return_convergence_delta=True,
                                         internal_batch_size=B * per_chunk if per_chunk < steps else None)
            with torch.no_grad():
                base_logit = model(baseline, lengths)
    finally:
        model.train(was_training)
    attr = sum(a.sum(-1) for a in attrs)  # (B, T): over the embedding dimensions, then the layers
    if getattr(model, "bag", None) is not None:
        # The bag-of-n-grams term reads the ids, not the interpolated vectors, so IG sees it as a
        # constant and the completeness gap would be exactly its change from the baseline. It is
        # linear: add its exact split over the tokens, minus the all-[PAD] baseline's term spread
        # evenly, and the attributions again sum to logit - baseline logit.
        with torch.no_grad():
            bag = model.bag.contributions(ids, lengths) - (model.bag(baseline, lengths) / lengths)[:, None]
            bag = bag * real_steps(lengths, T, ids.device).to(bag.dtype)
        attr = attr + bag
        delta = delta + bag.sum(dim=1)
    return (attr.detach().float().cpu().numpy(), delta.detach().float().cpu().numpy(),
            base_logit.float().cpu().numpy())


def _check_steps(ig_steps: int) -> None:
    if not isinstance(ig_steps, int) or not 1 <= ig_steps <= 1024:
        raise SentimentLabError(f"ig_steps must be an integer from 1 to 1024, got {ig_steps!r}")


def explain(clf: "SentimentClassifier", text: str, *, ig_steps: int = 32, internals: bool = True) -> Explanation:
    """Explain one prediction (see the module docstring). `internals=False` skips the gate and
    hidden-state recurrence (gates and hidden are then None)."""
    import torch

    from sentiment_lab.text.batching import predict_logits
    from sentiment_lab.analysis.explain.internals import layer0_forward

    if not hasattr(clf, "encoder") or not hasattr(clf, "backend"):
        raise SentimentLabError(f"explain needs a SentimentClassifier (an RNN bundle), not {type(clf).__name__}")
    text = check_text(text)
    _check_steps(ig_steps)
    model, device = torch_model(clf)
    ids, tokens, unknown, truncated = read_tokens(clf, text)
    T = len(ids)
    prefixes = [ids[:i + 1] for i in range(T)]
    without = [np.delete(ids, i) if T > 1 else np.array([UNK_ID]) for i in range(T)]  # [UNK]: as encode() reads ""
    # One batched pass over every prefix and every leave-one-out sequence (length-sorted batches).
    logits = predict_logits(model, prefixes + without, clf.batch_size, device)
    p = _sigmoid(logits)
    trajectory, p_without = p[:T], p[T:]
    score = float(trajectory[-1])  # the last prefix is the whole text
    t_ids = torch.from_numpy(ids)[None].to(device)
    t_len = torch.tensor([T], device=device)
    attr, delta, base_logit = integrated_gradients(model, t_ids, t_len, ig_steps)
    attention = None
    if getattr(model, "attention", None) is not None:
        with torch.inference_mode():
            attention = model.attention_weights(t_ids, t_len)[0].float().cpu().tolist()
    gates = hidden = None
    if internals:
        hidden_arr, gate_arrs = layer0_forward(model, t_ids[0])
        hidden = hidden_arr.tolist()
        gates = {k: v.tolist() for k, v in gate_arrs.items()} if gate_arrs is not None else None
    mc = model.cfg
    meta = {"arch": mc.arch, "bidirectional": mc.bidirectional, "num_layers": mc.num_layers, "pooling": mc.pooling,
            "hidden_size": mc.hidden_size, "max_len": clf.encoder.max_len, "ig_steps": ig_steps,
            "ig_target": "positive-class logit",
            "ig_baseline": "[PAD] (zero) embeddings, same length", "internals": "first layer (layer 0), forward direction"}
    return Explanation(text=text, label=label_of(score), score=score, tokens=tokens,
                       unknown=unknown, attributions=attr[0].tolist(), occlusion=(score - p_without).tolist(),
                       trajectory=trajectory.tolist(), attention=attention, gates=gates, hidden=hidden,
                       ig_delta=float(delta[0]), baseline_score=float(_sigmoid(base_logit[0])),
                       truncated=truncated, meta=meta)


def attributions(clf: "SentimentClassifier", texts: Sequence[str], ig_steps: int = 32) -> list[list[float]]:
    """Integrated Gradients per token for many texts (one list per text, one value per token
    read, in `read_tokens` order), batched: texts are sorted by length and run in chunks of
    similar lengths, each chunk one Captum call."""
    import torch

    from sentiment_lab.text.batching import sorted_batches

    _check_steps(ig_steps)
    model, device = torch_model(clf)
    seqs = clf.encoder.encode([check_text(t) for t in texts])
    out: list[list[float]] = [[] for _ in seqs]
    longest = max((len(s) for s in seqs), default=1)
    chunk = max(1, _IG_TOKEN_BUDGET // (ig_steps * longest))  # sized for the longest: simple and safe
    for idx in sorted_batches(seqs, chunk):
        ids, lengths = pad_batch([seqs[i] for i in idx])
        attr, _, _ = integrated_gradients(model, torch.from_numpy(ids).to(device),
                                          torch.from_numpy(lengths).to(device), ig_steps)
        for row, i in enumerate(idx):
            out[i] = attr[row, : len(seqs[i])].tolist()
    return out
