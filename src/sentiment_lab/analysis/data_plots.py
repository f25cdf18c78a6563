"""Look at the data before the model: review lengths against MAX_LEN, labels per split, and
how much of the training text a vocabulary of N words covers.

These answer the notebook's two silent choices, `maxlen=200` and `num_words=5000`: the
length histogram shows the share of reviews that get cut, the coverage curve the share of
running words that become [UNK]. Every figure is PNG + SVG through `plots._save`.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from sentiment_lab.analysis.plots import _plt, _save
from sentiment_lab.text.tokenizer import UNK_ID

if TYPE_CHECKING:
    from tokenizers import Tokenizer

    from sentiment_lab.data import Record
    from sentiment_lab.text.tokenizer import TextEncoder

NOTEBOOK_VOCAB = 5000  # keras.datasets.imdb.load_data(num_words=5000)
NOTEBOOK_MAX_LEN = 200  # pad_sequences(maxlen=200)
SPLIT_ORDER = ("train", "validation", "test")


def _word_tokenizer() -> "Tokenizer":
    from sentiment_lab.text.tokenizer import _normalizer, new_tokenizer

    tok, _ = new_tokenizer("word")
    tok.normalizer = _normalizer()
    return tok


def _same_words(encoder: "TextEncoder") -> bool:
    """True when `encoder` splits text exactly as the word counter does (any word-level bundle
    made by this package): its lengths are then the word counter's, no second pass needed."""
    import json

    mine, theirs = json.loads(_word_tokenizer().to_str()), json.loads(encoder.tokenizer.to_str())
    return theirs["model"]["type"] == "WordLevel" and all(mine[k] == theirs[k] for k in ("normalizer", "pre_tokenizer"))


def review_lengths(texts: Sequence[str], encoder: "TextEncoder | None" = None) -> np.ndarray:
    """Length of each review in model tokens (untruncated), or in whitespace words without a tokenizer."""
    if encoder is None:
        return np.fromiter((len(t.split()) for t in texts), dtype=np.int64, count=len(texts))
    encs = encoder.tokenizer.encode_batch(list(texts), add_special_tokens=False)
    return np.fromiter((len(e.ids) for e in encs), dtype=np.int64, count=len(encs))


def word_counts(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(occurrences of every distinct word, most frequent first; words per text), with the very
    normalizer and word splitter the models use, so ranks match a word-level vocabulary."""
    from tokenizers import trainers

    tok = _word_tokenizer()
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(vocab_size=10**8, special_tokens=["[UNK]"],
                                                             show_progress=False))
    encs = tok.encode_batch(list(texts), add_special_tokens=False)
    lengths = np.fromiter((len(e.ids) for e in encs), dtype=np.int64, count=len(encs))
    ids = np.concatenate([np.asarray(e.ids, dtype=np.int64) for e in encs] + [np.zeros(0, np.int64)])
    counts = np.bincount(ids, minlength=tok.get_vocab_size())[1:]  # id 0 is [UNK], never produced here
    return np.sort(counts[counts > 0])[::-1], lengths


def coverage_at(counts: np.ndarray, size: int) -> float:
    """Share of running words covered by the `size` most frequent words."""
    total = counts.sum()
    return float(counts[:size].sum() / total) if total else 0.0


def _thousands(axis: Any) -> None:
    """Tick labels like 12,500 rather than 12500 or 1e4."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def length_histogram(lengths: np.ndarray, max_len: int | None, out_dir: str | Path, unit: str = "tokens",
                     title: str = "Review length (training split)") -> Path:
    """Histogram of review lengths with the MAX_LEN cut and the share of reviews it truncates."""
    plt = _plt()
    lengths = np.asarray(lengths)
    cap = int(np.quantile(lengths, 0.99)) if len(lengths) else 1
    shown = np.minimum(lengths, cap)  # the longest 1% pile into the last bin rather than stretch the axis
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    ax.hist(shown, bins=min(60, max(5, len(np.unique(shown)))), color="tab:blue", alpha=0.8,
            label=f"{len(lengths):,} reviews (last bin: >= {cap:,})")
    med = float(np.median(lengths))
    ax.axvline(med, color="black", ls=":", label=f"median: {med:,.0f} {unit}")
    if max_len:
        cut = float(np.mean(lengths > max_len))
        ax.axvline(max_len, color="tab:red", lw=2, label=f"MAX_LEN = {max_len:,}: {cut:.1%} of reviews truncated")
        title = f"{title}: {cut:.1%} longer than MAX_LEN {max_len:,}"
    if max_len != NOTEBOOK_MAX_LEN and NOTEBOOK_MAX_LEN < cap:
        ax.axvline(NOTEBOOK_MAX_LEN, color="tab:orange", ls="--", lw=1.5,
                   label=f"notebook's maxlen = {NOTEBOOK_MAX_LEN}: {np.mean(lengths > NOTEBOOK_MAX_LEN):.1%} truncated")
    ax.set_xlabel(f"review length ({unit})")
    ax.set_ylabel("number of reviews")
    _thousands(ax.xaxis)
    _thousands(ax.yaxis)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right")
    return _save(fig, Path(out_dir), "review_lengths")


def label_distribution(labels_by_split: Mapping[str, Sequence[int]], out_dir: str | Path) -> Path:
    """Negative/positive counts per split, each bar labelled with its count and share."""
    plt = _plt()
    splits = [s for s in SPLIT_ORDER if s in labels_by_split] + [s for s in labels_by_split if s not in SPLIT_ORDER]
    x = np.arange(len(splits))
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    width = 0.38
    top = 0
    for k, (name, color) in enumerate((("negative", "tab:red"), ("positive", "tab:green"))):
        counts = [int(np.sum(np.asarray(labels_by_split[s]) == k)) for s in splits]
        totals = [max(len(labels_by_split[s]), 1) for s in splits]
        bars = ax.bar(x + (k - 0.5) * width, counts, width, color=color, label=name)
        ax.bar_label(bars, labels=[f"{c:,}\n({c / t:.1%})" for c, t in zip(counts, totals)], fontsize=8, padding=2)
        top = max(top, *counts)
    ax.set_ylim(0, top * 1.4 + 1)  # room for the bar labels and the legend
    ax.set_xticks(x, [f"{s}\n({len(labels_by_split[s]):,} reviews)" for s in splits])
    ax.set_xlabel("split")
    ax.set_ylabel("number of reviews")
    ax.set_title("Labels per split")
    _thousands(ax.yaxis)
    ax.legend(loc="upper center", ncol=2)
    return _save(fig, Path(out_dir), "label_distribution")


def coverage_curve(counts: np.ndarray, out_dir: str | Path, marks: Mapping[str, int] | None = None,
                   model_unk: float | None = None) -> Path:
    """Share of training words covered by the N most frequent words, for every N, with the
    notebook's and the model's vocabulary sizes marked. The curve counts plain words; a model's
    tokenizer may drop function words or split into subwords, so its own [UNK] share
    (`model_unk`, measured with that tokenizer) is stated apart rather than read off the curve."""
    plt = _plt()
    counts = np.asarray(counts)
    cum = np.cumsum(counts) / max(counts.sum(), 1)
    sizes = np.arange(1, len(counts) + 1)
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    ax.plot(sizes, 100 * cum, color="tab:blue", label="share of training words covered")
    styles = iter((("tab:red", "o", 10), ("tab:green", "D", 6), ("tab:purple", "s", 5), ("tab:orange", "^", 5)))
    for name, size in (marks or {}).items():  # shrinking markers: 5,000 and 4,998 stay both visible
        cov = coverage_at(counts, size)
        colour, marker, ms = next(styles)
        ax.plot([size], [100 * cov], marker, ms=ms, color=colour,
                label=f"{name}: the {size:,} most frequent words cover {cov:.1%} of the words")
    if model_unk is not None:
        ax.plot([], [], " ", label=f"this model's tokenizer reads {model_unk:.1%} of its tokens as [UNK] (measured)")
    ax.set_xscale("log")
    ax.set_xlabel(f"vocabulary size (most frequent words kept; {len(counts):,} distinct words in all)")
    ax.set_ylabel("training words covered (%)")
    ax.set_ylim(0, 101)
    _thousands(ax.xaxis)
    ax.set_title("Vocabulary coverage of the training split")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right")
    return _save(fig, Path(out_dir), "vocabulary_coverage")


def data_plots(train: Sequence["Record"], out_dir: str | Path, test: Sequence["Record"] = (),
               val: Sequence["Record"] = (), encoder: "TextEncoder | None" = None, max_len: int | None = None,
               model_vocab: int | None = None) -> dict[str, Any]:
    """All three figures plus the numbers behind them (returned and meant for data_summary.json).

    `train` is the split the vocabulary and the lengths are measured on; `val` (carved out
    of train by the caller, as `train` does) and `test` only appear in the label chart."""
    out_dir = Path(out_dir)
    texts = [r.text for r in train] + [r.text for r in val]
    unit = "tokens" if encoder is not None else "words"
    counts, words = word_counts(texts)
    lengths = words if encoder is not None and _same_words(encoder) else review_lengths(texts, encoder)
    marks = {"notebook": NOTEBOOK_VOCAB}
    if model_vocab:
        marks["this model"] = model_vocab
    model_unk = None
    if encoder is not None:  # the model's own [UNK] rate, with its own tokenizer (stop words, subwords)
        encs = encoder.tokenizer.encode_batch(texts, add_special_tokens=False)
        n_tokens = sum(len(e.ids) for e in encs)
        model_unk = sum(e.ids.count(UNK_ID) for e in encs) / max(n_tokens, 1)
    labels = {"train": [r.label for r in train], "validation": [r.label for r in val], "test": [r.label for r in test]}
    labels = {k: v for k, v in labels.items() if v}
    summary: dict[str, Any] = {
        "length_unit": unit, "max_len": max_len, "n_reviews": int(len(lengths)),
        "length": {q: float(np.quantile(lengths, p)) for q, p in (("min", 0), ("median", 0.5), ("p90", 0.9),
                                                                  ("p99", 0.99), ("max", 1))},
        "mean_length": float(lengths.mean()),
        "share_truncated": float(np.mean(lengths > max_len)) if max_len else None,
        f"share_truncated_at_notebook_max_len_{NOTEBOOK_MAX_LEN}": float(np.mean(lengths > NOTEBOOK_MAX_LEN)),
        "labels": {s: {"negative": int(np.sum(np.asarray(v) == 0)), "positive": int(np.sum(np.asarray(v) == 1))}
                   for s, v in labels.items()},
        "distinct_words": int(len(counts)), "running_words": int(counts.sum()),
        "coverage": {f"{name} ({size})": coverage_at(counts, size) for name, size in marks.items()},
        "model_unk_share": model_unk,
    }
    summary["figures"] = {
        "review_lengths": str(length_histogram(lengths, max_len, out_dir, unit)),
        "label_distribution": str(label_distribution(labels, out_dir)),
        "vocabulary_coverage": str(coverage_curve(counts, out_dir, marks, model_unk)),
    }
    return summary
