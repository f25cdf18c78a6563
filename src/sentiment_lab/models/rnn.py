"""Embedding -> (bi)(stacked) LSTM/GRU/RNN -> pooling -> dropout -> linear, over
variable-length batches, never reading a padding step into a kept state.

Two equivalent ways to run the recurrence, chosen by `run_mode`:
- "packed": `pack_padded_sequence`; works for every configuration.
- "padded": right-padded batch, outputs read at each sequence's last real step (or masked
  for max/mean pooling). For a unidirectional network the outputs at real steps depend only
  on earlier real steps, so the result equals the packed one exactly; on CPU it runs through
  oneDNN's fused LSTM, measured 10x faster for training than packed (benchmarks/). With
  length-bucketed batches the padding computed and thrown away stays small.
Bidirectional networks run padded too, one direction at a time: the backward direction reads
each sequence reversed within its own length (padding stays at the end), so it never starts
from padding either; tested equal to packed.

Training noise (dropout masks, DropConnect masks) is drawn up front by `sample_noise` and can be
passed to the forward pass: a batch split across threads (cpu_shards.py) then trains exactly as
the whole batch would, with every mask drawn in one thread, in one order, from one seed.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.func import functional_call
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from sentiment_lab.config import ModelConfig
from sentiment_lab.text.ngrams import NGRAM_PRIMES

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


def dropout_mask(shape: tuple[int, ...], p: float, like: torch.Tensor) -> torch.Tensor | None:
    """Inverted-dropout mask (kept entries 1/(1-p), dropped 0), or None when p is 0."""
    if p == 0.0:
        return None
    return like.new_empty(shape).bernoulli_(1 - p) / (1 - p)


def real_steps(lengths: torch.Tensor, steps: int, device: torch.device) -> torch.Tensor:
    """(B, steps) True at each review's real tokens, False on its right padding."""
    return torch.arange(steps, device=device)[None, :] < lengths.to(device)[:, None]


@dataclass
class Noise:
    """One training step's random masks, drawn before the forward pass.

    input:  (B, 1, E) one mask per review over its input vectors, shared by all its time steps
            (Gal & Ghahramani 2016), like Keras's LSTM `dropout`;
    output: (B, D) dropout on the pooled features before the classifier (Keras's Dropout(0.5));
    hh:     DropConnect masks of the hidden-to-hidden matrices, one per matrix for the batch.
    """
    input: torch.Tensor | None = None
    output: torch.Tensor | None = None
    hh: dict[str, torch.Tensor] = field(default_factory=dict)

    def rows(self, index: torch.Tensor | slice) -> "Noise":
        """The masks of some of the batch's reviews (a shard); DropConnect masks are shared."""
        return Noise(None if self.input is None else self.input[index],
                     None if self.output is None else self.output[index], self.hh)


_THREAD = threading.local()  # per-thread structure-only RNN modules for functional_call


def _template(cell: str, input_size: int, hidden: int, layers: int, bidirectional: bool, dropout: float) -> nn.Module:
    """An RNN module of the given shape, private to the calling thread. It is only ever run
    through functional_call with another module's weights, which swaps parameters in place
    for the call: sharing one module between threads would race. Created uninitialised: an
    initialisation would draw from the global generator, at a moment that depends on thread
    timing, and change every later dropout mask."""
    cache = _THREAD.__dict__.setdefault("modules", {})
    key = (cell, input_size, hidden, layers, bidirectional, dropout)
    if key not in cache:
        cache[key] = CELLS[cell](input_size, hidden, num_layers=layers, bidirectional=bidirectional,
                                 batch_first=True, dropout=dropout, device="meta").to_empty(device="cpu")
    return cache[key]


def ngram_hashes(ids: torch.Tensor, buckets: int, order: int) -> torch.Tensor:
    """Bucket ids (B, T, order - 1): the bigram (and trigram) ending at each step; the steps
    before the first token count as [PAD] (id 0), so the opening word has its own. The torch
    twin of text.ngrams.ngram_hashes (same primes), used by both n-gram modules below."""
    p = NGRAM_PRIMES
    prev = nn.functional.pad(ids, (1, 0))[:, :-1]
    h2 = ids * p[0] + prev * p[1]
    out = [torch.remainder(h2, buckets)]
    if order >= 3:
        prev2 = nn.functional.pad(ids, (2, 0))[:, :-2]
        out.append(torch.remainder(h2 + prev2 * p[2] + p[3], buckets))
    return torch.stack(out, dim=-1)


class NgramEmbedding(nn.Module):
    """Vectors of the n-grams ending at each token, hashed into a fixed table (fastText's
    hashing trick; Joulin et al. 2017) and appended to the token's word vector. The recurrence
    then reads "not good" as a unit as well as "not" and "good": Johnson & Zhang (2016) show
    LSTMs over such region embeddings closing the gap to bag-of-n-gram models on IMDB.

    The n-grams are computed here from the word ids, so the tokenizer, the bundle format and
    the augmentation stay as they are; hashing is integer arithmetic, identical on every
    platform. Small vectors (a bigram mostly adds a polarity, or flips one) keep the table
    and the bundle small. The table starts at zero: training begins from the words-only model.
    """

    def __init__(self, buckets: int, dim: int, order: int) -> None:
        super().__init__()
        self.buckets = buckets
        self.order = order
        self.table = nn.Embedding(buckets, dim)
        nn.init.zeros_(self.table.weight)

    def hashes(self, ids: torch.Tensor) -> torch.Tensor:
        return ngram_hashes(ids, self.buckets, self.order)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:  # (B, T) -> (B, T, ngram_dim)
        return self.table(self.hashes(ids)).sum(dim=2)


class BagOfNgrams(nn.Module):
    """A linear term over the review's distinct hashed n-grams (words, bigrams, optionally
    trigrams), added to the network's logit: a "wide and deep" model (Cheng et al. 2016).

    Why: on IMDB a linear model over word and bigram presence (NBSVM, Wang & Manning 2012)
    beats LSTMs trained from scratch, because it weighs every phrase of a long review at once,
    while the recurrence must carry evidence across hundreds of steps. With this term the
    network only has to learn what the bag misses (order, negation scope, contrast). Both are
    trained together by the same loss and optimiser.

    Presence, not counts (NBSVM's binarisation), scaled by 1/sqrt(number of distinct n-grams)
    so long and short reviews give logits of one size; `scale` multiplies the stored weights so
    that Adam, whose steps do not depend on the gradient's size, moves them faster than the
    network's. The table starts at zero. The hash is text.ngrams.bag_hashes's, in torch.
    """

    def __init__(self, buckets: int, order: int, scale: float) -> None:
        super().__init__()
        self.buckets, self.order, self.scale = buckets, order, scale
        self.table = nn.Embedding(buckets, 1)
        nn.init.zeros_(self.table.weight)

    def hashes(self, ids: torch.Tensor) -> torch.Tensor:
        """Bucket ids (B, T, order) of the word, bigram and trigram ending at each step; words
        get their own offset, so a word and the bigram ([PAD], word) stay apart."""
        p = NGRAM_PRIMES
        words = torch.remainder(ids * p[2] + 3 * p[3], self.buckets)[..., None]
        if self.order == 1:
            return words
        return torch.cat([words, ngram_hashes(ids, self.buckets, self.order)], dim=-1)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:  # -> (B,)
        mask = real_steps(lengths, ids.size(1), ids.device)[..., None].expand(-1, -1, self.order)
        h = self.hashes(ids).masked_fill(~mask, -1).flatten(1).sort(dim=1).values  # padding first
        first = torch.cat([torch.ones_like(h[:, :1], dtype=torch.bool), h[:, 1:] != h[:, :-1]], dim=1)
        keep = first & (h >= 0)  # each distinct n-gram once (no in-place write: ONNX tracing)
        w = self.table(h.clamp_min(0)).squeeze(-1) * keep
        return self.scale * w.sum(dim=1) / keep.sum(dim=1).to(w.dtype).sqrt()

    @torch.no_grad()
    def contributions(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The term split over the tokens (B, T), summing to forward(): each distinct n-gram's
        share goes, in equal parts, to the real tokens of its first occurrence. The term is
        linear, so this split is exact (explanations add it to the network's attributions)."""
        h, w = self.hashes(ids).tolist(), self.table.weight[:, 0]
        out = torch.zeros(ids.shape, dtype=w.dtype, device=ids.device)
        for b, n in enumerate(lengths.tolist()):
            firsts: dict[int, tuple[int, int]] = {}  # n-gram -> (position, order - 1) where it first ends
            for t, grams in enumerate(h[b][:n]):
                for k, g in enumerate(grams):
                    firsts.setdefault(g, (t, k))
            share = self.scale / len(firsts) ** 0.5
            for g, (t, k) in firsts.items():
                start = max(0, t - k)  # order k + 1 ends at t; [PAD] before the start gets none
                out[b, start:t + 1] += share * w[g] / (t + 1 - start)
        return out


class AdditiveAttention(nn.Module):
    """Additive self-attention pooling (Bahdanau et al. 2015; Yang et al. 2016):
    score_t = v . tanh(W h_t + b), softmax over the real steps only, pooled = sum_t a_t h_t.
    The weights come back too: they are what the explanation tools show."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.score = nn.Linear(dim, 1, bias=False)

    def forward(self, out: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = self.score(torch.tanh(self.proj(out))).squeeze(-1).masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=1)  # (B, T), zero on padding
        return torch.bmm(weights.unsqueeze(1), out).squeeze(1), weights


class RNNClassifier(nn.Module):
    def __init__(self, cfg: ModelConfig, vocab_size: int, cell: str = "lstm") -> None:
        super().__init__()
        self.cfg = cfg
        self.cell = cell
        self.run_mode = "auto"  # auto | packed | padded
        self.embedding = nn.Embedding(vocab_size, cfg.embedding_dim, padding_idx=0)
        self.ngrams = (NgramEmbedding(cfg.ngram_buckets, cfg.ngram_dim, cfg.ngram_order)
                       if cfg.ngram_buckets else None)
        input_size = cfg.embedding_dim + (cfg.ngram_dim if self.ngrams is not None else 0)
        self.rnn = CELLS[cell](input_size, cfg.hidden_size, num_layers=cfg.num_layers,
                               bidirectional=cfg.bidirectional, batch_first=True,
                               dropout=cfg.layer_dropout if cfg.num_layers > 1 else 0.0)
        out_dim = cfg.hidden_size * (2 if cfg.bidirectional else 1)
        self.attention = AdditiveAttention(out_dim) if cfg.pooling == "attention" else None
        self.head = nn.Linear(out_dim, 1)
        self.bag = BagOfNgrams(cfg.bag_buckets, cfg.bag_order, cfg.bag_scale) if cfg.bag_buckets else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Keras's initialisation, which the notebook relied on: small uniform embeddings
        (PyTorch's N(0, 1) rows learn ~20x slower relative to their scale under Adam),
        Glorot input weights, orthogonal recurrent weights, zero biases and, for LSTMs,
        forget-gate bias 1 (Jozefowicz et al. 2015) so that memory is kept from the start."""
        nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
        with torch.no_grad():
            self.embedding.weight[0].zero_()
        h = self.cfg.hidden_size
        for name, w in self.rnn.named_parameters():
            if name.startswith("weight_ih"):
                nn.init.xavier_uniform_(w)  # over all gates at once, as Keras does for its kernel
            elif name.startswith("weight_hh"):
                nn.init.orthogonal_(w)
            else:
                nn.init.zeros_(w)
                if self.cell == "lstm" and name.startswith("bias_ih"):
                    w.data[h:2 * h] = 1.0  # PyTorch gate order: input, forget, cell, output

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Input vectors (B, T, E): word vectors, then hashed n-gram vectors when configured."""
        x = self.embedding(ids)
        return x if self.ngrams is None else torch.cat([x, self.ngrams(ids)], dim=-1)

    @property
    def shardable(self) -> bool:
        """Whether all of a training step's randomness is in `sample_noise`: dropout between
        stacked layers is drawn inside the RNN kernel, from the global generator."""
        return self.cfg.num_layers == 1 or self.cfg.layer_dropout == 0.0

    def sample_noise(self, batch_size: int) -> Noise:
        """The masks of one training step for a batch of `batch_size` reviews.

        DropConnect (Wan et al. 2013; AWD-LSTM) on the hidden-to-hidden matrices: the weights
        are dropped, not the activations, so the fused cuDNN/oneDNN kernels still run. Keras's
        recurrent_dropout instead masks h_{t-1} per sample; here one mask per batch drops
        individual recurrent connections for every sample and step."""
        like = self.head.weight
        cfg = self.cfg
        hh = {}
        if cfg.recurrent_dropout:
            hh = {n: dropout_mask(tuple(w.shape), cfg.recurrent_dropout, w)
                  for n, w in self.rnn.named_parameters() if n.startswith("weight_hh")}
        return Noise(dropout_mask((batch_size, 1, self.rnn.input_size), cfg.input_dropout, like),
                     dropout_mask((batch_size, self.head.in_features), cfg.dropout, like), hh)

    def _rnn_weights(self, noise: Noise | None) -> dict[str, torch.Tensor] | None:
        if not self.training or noise is None or not noise.hh:
            return None
        return {n: w * noise.hh[n] for n, w in self.rnn.named_parameters() if n in noise.hh}

    def mode(self, device: torch.device) -> str:
        if self.run_mode != "auto":
            return self.run_mode
        return "packed" if device.type == "cuda" else "padded"

    def _run_padded_bidirectional(self, x: torch.Tensor, lengths: torch.Tensor,
                                  weights: dict[str, torch.Tensor] | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Outputs (B, T, 2H) and final states (B, 2H) of a (stacked) bidirectional RNN over a
        right-padded batch, equal to the packed result at every real step."""
        T = x.size(1)
        steps = torch.arange(T, device=x.device)[None, :]
        rev = lengths.to(x.device)[:, None] - 1 - steps
        rev = torch.where(rev >= 0, rev, steps)  # reverse the real part, leave the padding in place

        def flip(t: torch.Tensor) -> torch.Tensor:
            return t.gather(1, rev[..., None].expand(-1, -1, t.size(2)))

        params = dict(self.rnn.named_parameters())
        if weights:
            params.update(weights)
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        for layer in range(self.cfg.num_layers):
            if layer and self.training and self.rnn.dropout:
                x = nn.functional.dropout(x, self.rnn.dropout)
            helper = _template(self.cell, x.size(2), self.cfg.hidden_size, 1, False, 0.0)
            fwd, _ = functional_call(helper, {f"{n}_l0": params[f"{n}_l{layer}"] for n in names}, (x,))
            bwd, _ = functional_call(helper, {f"{n}_l0": params[f"{n}_l{layer}_reverse"] for n in names}, (flip(x),))
            x = torch.cat([fwd, flip(bwd)], dim=2)
        h = self.cfg.hidden_size  # backward final state: its output at the first real token
        last = torch.cat([fwd[torch.arange(x.size(0), device=x.device), lengths.to(x.device) - 1], x[:, 0, h:]], dim=1)
        return x, last

    def encode(self, ids: torch.Tensor, lengths: torch.Tensor, noise: Noise | None = None,
               perturb: torch.Tensor | None = None) -> torch.Tensor:
        """Pooled features (B, D) of right-padded ids (B, T) with true lengths (B,); `perturb`
        (B, T, input size) is added to the input vectors (adversarial training, adversarial.py)."""
        return self._encode(ids, lengths, noise, perturb)[0]

    def attention_weights(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Attention weights (B, T) over the tokens (zero on padding); attention pooling only."""
        if self.attention is None:
            raise ValueError(f"pooling is {self.cfg.pooling!r}, not 'attention': this model has no attention weights")
        return self._encode(ids, lengths)[1]

    def outputs(self, ids: torch.Tensor, lengths: torch.Tensor, noise: Noise | None = None) -> torch.Tensor:
        """The last layer's outputs (B, T, D) at every step, before pooling; only the real
        steps are meaningful. For a bidirectional network the first H features are the
        left-to-right direction's. Language-model pretraining (pretrain.py) reads them."""
        if self.training and noise is None:
            noise = self.sample_noise(ids.size(0))
        return self._recurrence(ids, lengths, noise, None, need_outputs=True)[0]

    def _recurrence(self, ids: torch.Tensor, lengths: torch.Tensor, noise: Noise | None,
                    perturb: torch.Tensor | None, need_outputs: bool) -> tuple[torch.Tensor | None, torch.Tensor]:
        """(outputs (B, T, D) or None, final states (B, D)) of the recurrence over the input
        vectors. Packed runs skip unpacking the outputs when only the final states are needed."""
        x = self.embed(ids)  # (B, T, E)
        if perturb is not None:
            x = x + perturb
        if self.training and noise.input is not None:
            x = x * noise.input
        weights = self._rnn_weights(noise)
        run = r = self.rnn
        if weights:
            template = _template(self.cell, r.input_size, r.hidden_size, r.num_layers, r.bidirectional, r.dropout)
            params = dict(r.named_parameters()) | weights
            run = lambda inp: functional_call(template, params, (inp,))  # noqa: E731
        if self.mode(ids.device) == "packed":
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, h = run(packed)
            h = h[0] if isinstance(h, tuple) else h  # (layers*dirs, B, H)
            last = torch.cat([h[-2], h[-1]], dim=1) if self.cfg.bidirectional else h[-1]
            if not need_outputs:
                return None, last
            return pad_packed_sequence(out, batch_first=True, total_length=ids.size(1))[0], last
        if self.cfg.bidirectional:
            return self._run_padded_bidirectional(x, lengths, weights)
        out, _ = run(x)  # (B, T, H)
        return out, out[torch.arange(out.size(0), device=out.device), lengths.to(out.device) - 1]

    def _encode(self, ids: torch.Tensor, lengths: torch.Tensor, noise: Noise | None = None,
                perturb: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.training and noise is None:
            noise = self.sample_noise(ids.size(0))
        pooling = self.cfg.pooling
        out, last = self._recurrence(ids, lengths, noise, perturb, need_outputs=pooling != "last")
        if pooling == "last":
            return last, None
        mask = real_steps(lengths, out.size(1), out.device)
        if pooling == "max":
            return out.masked_fill(~mask[..., None], float("-inf")).amax(dim=1), None
        if pooling == "attention":
            return self.attention(out, mask)
        return (out * mask[..., None]).sum(dim=1) / lengths.to(out.device)[:, None].to(out.dtype), None

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor, noise: Noise | None = None,
                perturb: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B,) of the positive class. In training mode `noise` holds the step's masks
        (drawn here when None); in eval mode there is none. `perturb`: see `encode`."""
        if self.training and noise is None:
            noise = self.sample_noise(ids.size(0))
        z = self.encode(ids, lengths, noise, perturb)
        if self.training and noise.output is not None:
            z = z * noise.output
        logits = self.head(z).squeeze(-1)
        return logits if self.bag is None else logits + self.bag(ids, lengths).to(logits.dtype)
