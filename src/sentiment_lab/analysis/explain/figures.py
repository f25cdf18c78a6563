"""The explanation as one matplotlib figure, one row per view, sharing the token axis:

    trajectory   P(positive) after each token (the model run on every prefix)
    attributions IG and occlusion per token, each scaled to its own largest magnitude
    hidden       hidden states of layer 0's forward direction, units x tokens
    gates        LSTM input/forget/output (GRU reset/update) gates: mean over units, IQR band
    cell_norm    LSTM: L2 norm of the cell state c_t
    attention    attention-pooling weight of each token (attention models only)

Token labels sit on the bottom row only, rotated; long texts show `max_tokens` consecutive
tokens with a note (the window whose Integrated Gradients weigh most: where the "why" is),
because more labels than that cannot be read on any page width.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sentiment_lab.analysis.explain.core import Explanation

ROWS = ("trajectory", "attributions", "hidden", "gates", "cell_norm", "attention")
_HEIGHT = {"trajectory": 2.4, "attributions": 2.2, "hidden": 3.0, "gates": 2.3, "cell_norm": 1.7, "attention": 1.9}
_GATE_COLOURS = {"input": "tab:blue", "forget": "tab:orange", "output": "tab:purple", "reset": "tab:blue",
                 "update": "tab:orange"}


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def close(fig: Any) -> None:
    _plt().close(fig)


def _plain(s: str) -> str:
    return s.replace("$", r"\$")  # matplotlib would read $...$ as mathtext


def available_rows(e: Explanation) -> tuple[str, ...]:
    have = {"trajectory": True, "attributions": True, "hidden": e.hidden is not None, "gates": e.gates is not None,
            "cell_norm": bool(e.gates and "cell_norm" in e.gates), "attention": e.attention is not None}
    return tuple(r for r in ROWS if have[r])


def figure(e: Explanation, rows: Sequence[str] | None = None, max_tokens: int = 60, title: bool = True) -> Any:
    """A matplotlib Figure with the requested rows (default: every row this model has);
    title=False leaves out the text and verdict (the HTML page shows them already)."""
    plt = _plt()
    rows = [r for r in (rows or available_rows(e)) if r in available_rows(e)]
    n = min(len(e.tokens), max_tokens)
    start = _window(e.attributions, n)
    sl = slice(start, start + n)
    width = float(np.clip(2.8 + 0.3 * n, 8.0, 22.0))
    fig = plt.figure(figsize=(width, 1.0 + sum(_HEIGHT[r] for r in rows) + 0.08 * max(len(t) for t in e.tokens[sl])),
                     layout="constrained")
    grid = fig.add_gridspec(len(rows), 2, width_ratios=[60, 1], height_ratios=[_HEIGHT[r] for r in rows])
    axes: list[Any] = []
    for k, row in enumerate(rows):
        ax = fig.add_subplot(grid[k, 0], sharex=axes[0] if axes else None)
        axes.append(ax)
        _DRAW[row](ax, e, sl, fig, grid[k, 1])
        ax.set_xlim(-0.5, n - 0.5)
        ax.tick_params(labelbottom=False)
    labels = [_plain(t + ("?" if u else "")) for t, u in zip(e.tokens[sl], e.unknown[sl])]
    axes[-1].set_xticks(range(n))
    axes[-1].set_xticklabels(labels, rotation=55, ha="right", rotation_mode="anchor", fontsize=9)
    axes[-1].tick_params(labelbottom=True)
    if len(axes) > 2:  # a tall figure: repeat the tokens above the top row, where the eye starts
        axes[0].tick_params(labeltop=True, top=True)
        for tick in axes[0].get_xticklabels(which="major"):
            tick.set(rotation=55, ha="left", rotation_mode="anchor", fontsize=9)
    for tick, unk in zip(axes[-1].get_xticklabels(), e.unknown[sl]):
        if unk:
            tick.set_color("#b35900")
    which = "first" if start == 0 else f"tokens {start + 1}-{start + n},"
    note = f"  [{which} {n} of {len(e.tokens)} tokens shown: the window with the largest attributions]" \
        if n < len(e.tokens) else ""
    text = e.text if len(e.text) <= 90 else e.text[:87] + "..."
    if title:
        fig.suptitle(_plain(f"\u201c{text}\u201d \u2192 {e.label} (P(positive) = {e.p_positive:.2f}){note}"), fontsize=11)
    elif note:
        fig.suptitle(note.strip(" []"), fontsize=10)
    if any(e.unknown[sl]):
        axes[-1].set_xlabel("token read by the model (? = unknown word, read as [UNK])", fontsize=9)
    else:
        axes[-1].set_xlabel("token read by the model", fontsize=9)
    return fig


def _window(attributions: Sequence[float], n: int) -> int:
    """Start of the n consecutive tokens with the largest total |attribution| (0 if all fit)."""
    a = np.abs(np.asarray(attributions, dtype=float))
    if len(a) <= n:
        return 0
    sums = np.convolve(a, np.ones(n), mode="valid")
    return int(np.argmax(sums))


def _title(ax: Any, s: str) -> None:
    ax.set_title(s, loc="left", fontsize=10)


def _trajectory(ax: Any, e: Explanation, sl: slice, fig: Any, side: Any) -> None:
    y = np.asarray(e.trajectory[sl])
    x = np.arange(len(y))
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.fill_between(x, 0.5, y, where=y >= 0.5, color="#1a9850", alpha=0.25, interpolate=True, step=None)
    ax.fill_between(x, 0.5, y, where=y < 0.5, color="#d73027", alpha=0.25, interpolate=True)
    ax.plot(x, y, "o-", color="black", ms=4, lw=1.3)
    ax.set_ylim(0, 1)
    ax.set_ylabel("P(positive)")
    ax.grid(alpha=0.3)
    _title(ax, "Running prediction: the model's P(positive) on the text up to and including each token")


def _attributions(ax: Any, e: Explanation, sl: slice, fig: Any, side: Any) -> None:
    x = np.arange(sl.stop - sl.start)
    for values, off, colour, name, unit in ((e.attributions, -0.2, "#4d4d4d", "Integrated Gradients", " logit"),
                                            (e.occlusion, 0.2, "#9e9ac8", "occlusion", "")):
        v = np.asarray(values[sl])
        scale = float(np.abs(values).max()) or 1.0
        ax.bar(x + off, v / scale, width=0.4, color=colour, label=f"{name} (1 = {scale:.3g}{unit})")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylim(-1.1, 1.6)
    ax.set_yticks([-1, -0.5, 0, 0.5, 1])
    ax.set_ylabel("relative\nattribution")
    ax.legend(loc="upper left", ncol=2, fontsize=8, framealpha=0.9)
    ax.grid(axis="y", alpha=0.3)
    _title(ax, "Token attributions: > 0 pushes towards positive, < 0 towards negative")


def _hidden(ax: Any, e: Explanation, sl: slice, fig: Any, side: Any) -> None:
    h = np.asarray(e.hidden)[sl]  # (n, H)
    order = np.argsort(h.mean(axis=0))
    vmax = max(1e-6, float(np.abs(h).max()))  # symmetric, to the data: small states stay visible
    im = ax.imshow(h[:, order].T, aspect="auto", cmap="PuOr_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
    ax.set_ylabel(f"unit (of {h.shape[1]},\nsorted by mean)")
    ax.set_yticks([])
    cbar = fig.colorbar(im, cax=fig.add_subplot(side))
    cbar.set_label("h", fontsize=9)
    _title(ax, "Hidden state h_t of the first layer, forward direction")


def _gates(ax: Any, e: Explanation, sl: slice, fig: Any, side: Any) -> None:
    x = np.arange(sl.stop - sl.start)
    styles = iter([("o", "-"), ("s", "--"), ("^", ":"), ("d", "-.")])  # lines that coincide stay apart
    for name, values in e.gates.items():
        if name == "cell_norm":
            continue
        g = np.asarray(values)[sl]
        lo, hi = np.percentile(g, [25, 75], axis=1)
        marker, ls = next(styles)
        ax.fill_between(x, lo, hi, color=_GATE_COLOURS.get(name, "grey"), alpha=0.15, lw=0)
        ax.plot(x, g.mean(axis=1), marker=marker, ls=ls, ms=3.5, color=_GATE_COLOURS.get(name, "grey"),
                label=f"{name} gate")
    ax.set_ylim(0, 1.3)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1])
    ax.set_ylabel("activation")
    ax.legend(loc="upper left", ncol=3, fontsize=8, framealpha=0.9)
    ax.grid(alpha=0.3)
    _title(ax, "Gates of the first layer, forward direction: mean over units (band: 25th-75th percentile)")


def _cell_norm(ax: Any, e: Explanation, sl: slice, fig: Any, side: Any) -> None:
    c = np.asarray(e.gates["cell_norm"])[sl, 0]
    ax.plot(np.arange(len(c)), c, "o-", ms=3, color="tab:green")
    ax.set_ylim(0, max(1e-6, float(c.max())) * 1.15)
    ax.set_ylabel("\u2016c_t\u2016")
    ax.grid(alpha=0.3)
    _title(ax, "LSTM cell-state norm (the memory carried forward)")


def _attention(ax: Any, e: Explanation, sl: slice, fig: Any, side: Any) -> None:
    w = e.attention[sl]
    ax.bar(np.arange(len(w)), w, color="tab:cyan")
    ax.set_ylabel("weight")
    ax.grid(axis="y", alpha=0.3)
    _title(ax, "Attention-pooling weight of each token (weights sum to 1 over the text)")


_DRAW = {"trajectory": _trajectory, "attributions": _attributions, "hidden": _hidden, "gates": _gates,
         "cell_norm": _cell_norm, "attention": _attention}


def save_png(e: Explanation, path: str | Path, max_tokens: int = 60, dpi: int = 120) -> Path:
    """Write the full figure as PNG, atomically."""
    import io

    from sentiment_lab.fileio import write_bytes

    fig = figure(e, max_tokens=max_tokens)
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi)
    finally:
        close(fig)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, buf.getvalue())
    return path
