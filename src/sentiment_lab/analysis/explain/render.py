"""An Explanation for people: coloured tokens in the terminal (Rich) and a self-contained
HTML page (Jinja2; CSS inline, figures as base64 PNG), so it can be mailed or opened offline.

Colours: green pushes towards positive, red towards negative; the intensity is the value
divided by the largest absolute value in the same text, so each row uses its full range
(IG is in logit units, occlusion in probability: the two rows are compared by rank, not size).
"""
from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Sequence

from sentiment_lab.fileio import write_bytes
from sentiment_lab.analysis.explain.core import Explanation

_POS, _NEG = (26, 152, 80), (215, 48, 39)  # ColorBrewer RdYlGn ends


def token_color(value: float, scale: float) -> str:
    """Hex background colour: white at 0, full green/red at +-scale."""
    a = 0.0 if scale <= 0 else max(-1.0, min(1.0, value / scale))
    end = _POS if a >= 0 else _NEG
    rgb = [round(255 + (c - 255) * abs(a)) for c in end]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _scale(values: Sequence[float]) -> float:
    return max((abs(v) for v in values), default=0.0)


def _token_text(e: Explanation, values: Sequence[float]) -> Any:
    from rich.text import Text

    scale = _scale(values)
    out = Text()
    for tok, unk, v in zip(e.tokens, e.unknown, values):
        style = f"black on {token_color(v, scale)}" + (" italic underline" if unk else "")
        out.append(tok + ("?" if unk else ""), style=style)
        out.append(" ")
    return out


def render_terminal(e: Explanation, top: int = 5) -> Any:
    """A Rich renderable: label and score, tokens coloured by IG and by occlusion, the
    strongest tokens each way, and a legend."""
    from rich.console import Group
    from rich.text import Text

    colour = "green" if e.label == "positive" else "red"
    head = Text.assemble((f"{e.label}", f"bold {colour}"), f"  P(positive) = {e.p_positive:.3f}",
                         f"   ({len(e.tokens)} tokens{', truncated to max_len' if e.truncated else ''})")
    ranked = sorted(zip(e.attributions, e.tokens), reverse=True)
    pos = ", ".join(f"{t} {a:+.2f}" for a, t in ranked[:top] if a > 0) or "none"
    neg = ", ".join(f"{t} {a:+.2f}" for a, t in reversed(ranked[-top:]) if a < 0) or "none"
    unknown = sorted({t for t, u in zip(e.tokens, e.unknown) if u})
    lines = [head, Text("Integrated Gradients:", style="bold"), _token_text(e, e.attributions),
             Text("Leave-one-out occlusion:", style="bold"), _token_text(e, e.occlusion),
             Text(f"pushes positive: {pos}"), Text(f"pushes negative: {neg}"),
             Text(f"green = towards positive, red = towards negative; IG in logit units "
                  f"(sum {sum(e.attributions):+.2f}; logit change from the all-[PAD] baseline "
                  f"{sum(e.attributions) - e.ig_delta:+.2f}; difference {e.ig_delta:+.1e})", style="dim")]
    if unknown:
        lines.insert(5, Text("unknown words (read as [UNK], marked ?): " + ", ".join(unknown), style="yellow"))
    if not e.ig_converged:
        lines.append(Text(convergence_note(e), style="yellow"))
    return Group(*lines)


def convergence_note(e: Explanation) -> str:
    return (f"Integrated Gradients has not converged: the attributions miss the logit difference by "
            f"{e.ig_delta:+.2f}; use more steps (ig_steps / --ig-steps, now {e.meta.get('ig_steps', '?')}).")


def _png_data(fig: Any) -> str:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    from sentiment_lab.analysis.explain.figures import close

    close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _spans(e: Explanation, values: Sequence[float], unit: str) -> list[dict[str, Any]]:
    scale = _scale(values)
    return [{"text": tok, "color": token_color(v, scale), "unknown": unk,
             "title": f"{tok}: {v:+.4f} {unit}" + (" (unknown word, read as [UNK])" if unk else "")}
            for tok, unk, v in zip(e.tokens, e.unknown, values)]


def render_html(e: Explanation, title: str = "Why this prediction?") -> str:
    """The whole page as a string."""
    import jinja2

    from sentiment_lab import __version__
    from sentiment_lab.analysis.explain.figures import figure

    env = jinja2.Environment(loader=jinja2.PackageLoader("sentiment_lab.analysis", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]))
    internals = [r for r in ("hidden", "gates", "cell_norm") if _has(e, r)]
    attention = None
    if e.attention is not None:
        peak = max(e.attention) or 1.0
        attention = [{"text": t, "weight": w, "width": 100 * w / peak} for t, w in zip(e.tokens, e.attention)]
    ctx = {"title": title, "e": e, "version": __version__, "colour": "#1a9850" if e.label == "positive" else "#d73027",
           "ig": _spans(e, e.attributions, "logit"), "occ": _spans(e, e.occlusion, "P(positive)"),
           "ig_sum": sum(e.attributions), "attention": attention,
           "trajectory_img": _png_data(figure(e, rows=("trajectory",), title=False)),
           "internals_img": _png_data(figure(e, rows=tuple(internals), title=False)) if internals else None,
           "n_unknown": sum(e.unknown),
           "ig_note": None if e.ig_converged else convergence_note(e)}
    return env.get_template("explain.html.j2").render(**ctx)


def _has(e: Explanation, row: str) -> bool:
    if row == "hidden":
        return e.hidden is not None
    if row == "gates":
        return e.gates is not None
    return row == "cell_norm" and e.gates is not None and "cell_norm" in e.gates


def save_html(e: Explanation, path: str | Path, title: str = "Why this prediction?") -> Path:
    """Write the page atomically (temporary file, then rename)."""
    path = Path(path)
    write_atomic(path, render_html(e, title).encode("utf-8"))
    return path


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, data)


__all__ = ["render_terminal", "render_html", "save_html", "token_color", "write_atomic"]
