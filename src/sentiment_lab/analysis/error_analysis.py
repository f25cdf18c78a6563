"""Where the model is wrong: its most confident false positives and false negatives (with the
tokens that pushed it there, from Integrated Gradients), and error rates by review length
and by star rating.

Accuracy alone hides *which* reviews fail. The confident mistakes show the failure modes
(sarcasm, "not bad", a plot summary full of dark words); the rates show whether length
(truncation at MAX_LEN) or lukewarm ratings (4 and 7 stars) are where errors concentrate.
Predictions come from the classifier, or from a run directory's test_predictions.csv so
that nothing is recomputed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

from sentiment_lab.fileio import replacing, spreadsheet_safe_frame
from sentiment_lab.exceptions import DataError
from sentiment_lab.analysis.plots import _plt, _save

if TYPE_CHECKING:
    from sentiment_lab.inference.classifier import SentimentClassifier
    from sentiment_lab.data import Record

LABELS = ("negative", "positive")


@dataclass
class ErrorAnalysis:
    table: pd.DataFrame  # one row per review: id, text, label, p_positive, predicted, confidence, length, rating, error
    false_positives: pd.DataFrame  # the most confident ones first
    false_negatives: pd.DataFrame
    by_length: pd.DataFrame  # bin, n, errors, error_rate, false_positives, false_negatives
    by_rating: pd.DataFrame | None  # same, per star; None without ratings
    attributions: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> tokens, values, top +/-
    attribution_note: str = ""  # why attributions are missing, when they are
    paths: dict[str, str] = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        return float((self.table["error"] == "").mean())


def prediction_table(records: Sequence["Record"], p_positive: np.ndarray, lengths: np.ndarray) -> pd.DataFrame:
    """Per review: the record, P(positive), the predicted label, its confidence and the error
    kind ("FP", "FN" or "")."""
    p = np.asarray(p_positive, dtype=float)
    y = np.array([r.label for r in records], dtype=int)
    pred = (p >= 0.5).astype(int)
    err = np.where(pred == y, "", np.where(pred == 1, "FP", "FN"))
    return pd.DataFrame({
        "id": [r.id for r in records], "text": [r.text for r in records], "label": y, "p_positive": p,
        "predicted": pred, "confidence": np.maximum(p, 1 - p), "length": np.asarray(lengths, dtype=int),
        "rating": pd.array([r.rating for r in records], dtype="Int64"), "error": err,
    })


def predictions_from_run(run_dir: str | Path, records: Sequence["Record"]) -> tuple[list["Record"], np.ndarray]:
    """(records, P(positive)) from RUN_DIR/test_predictions.csv, texts joined from `records` by id."""
    path = Path(run_dir) / "test_predictions.csv"
    if not path.is_file():
        raise DataError(f"{run_dir} has no test_predictions.csv (train it with a test split, or pass a bundle)")
    df = pd.read_csv(path, dtype={"id": str})
    by_id = {r.id: r for r in records}
    missing = [i for i in df["id"] if i not in by_id]
    if missing:
        raise DataError(f"{len(missing):,} of {len(df):,} predictions in {path} have no review in the data "
                        f"(first: {missing[0]!r}); pass the data the run was tested on with --data")
    return [by_id[i] for i in df["id"]], df["p_positive"].to_numpy(dtype=float)


def shorten(text: str, width: int = 320) -> str:
    """Head and tail of a review (the verdict is often at the end), <br /> removed."""
    text = " ".join(text.replace("<br />", " ").split())
    if len(text) <= width:
        return text
    half = (width - 7) // 2  # " [...] " is 7 characters
    return f"{text[:half].rstrip()} [...] {text[-half:].lstrip()}"


def confident_errors(table: pd.DataFrame, kind: str, n: int) -> pd.DataFrame:
    """The n errors of `kind` ("FP" or "FN") the model was most sure of."""
    return table[table["error"] == kind].sort_values("confidence", ascending=False, kind="stable").head(n)


def length_bins(lengths: np.ndarray, n_bins: int = 6) -> np.ndarray:
    """Bin edges at quantiles of the lengths (equal-count bins), rounded to readable numbers."""
    q = np.quantile(lengths, np.linspace(0, 1, n_bins + 1))
    step = 10 if q[-1] >= 200 else 1
    edges = np.unique(np.concatenate([[lengths.min()], np.round(q[1:-1] / step) * step, [lengths.max()]]).astype(int))
    return edges if len(edges) > 1 else np.array([edges[0], edges[0] + 1])


def _rates(table: pd.DataFrame, key: pd.Series) -> pd.DataFrame:
    g = table.assign(_key=key, _err=table["error"] != "", _fp=table["error"] == "FP", _fn=table["error"] == "FN")
    out = g.groupby("_key", sort=True, observed=True).agg(
        n=("_err", "size"), errors=("_err", "sum"), false_positives=("_fp", "sum"), false_negatives=("_fn", "sum"))
    out["error_rate"] = out["errors"] / out["n"]
    return out.reset_index(names="bin")


def rates_by_length(table: pd.DataFrame, n_bins: int = 6) -> pd.DataFrame:
    """Error rates per length bin (equal-count bins, closed on the right)."""
    edges = length_bins(table["length"].to_numpy(), n_bins)
    labels = [f"{a + (i > 0):,}-{b:,}" for i, (a, b) in enumerate(zip(edges[:-1], edges[1:]))]
    cut = pd.cut(table["length"], edges, labels=labels, include_lowest=True)
    return _rates(table, cut)


def rates_by_rating(table: pd.DataFrame) -> pd.DataFrame | None:
    """Error rates per star rating; None when no review has one."""
    rated = table[table["rating"].notna()]
    if rated.empty:
        return None
    return _rates(rated, rated["rating"].astype(int))


def error_rate_figure(by_length: pd.DataFrame, by_rating: pd.DataFrame | None, out_dir: str | Path,
                      max_len: int | None = None) -> Path:
    """Bar charts of the error rate by length bin and by star rating, each bar labelled with n."""
    plt = _plt()
    panels = [("length", by_length)] + ([("rating", by_rating)] if by_rating is not None else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.8), layout="constrained", squeeze=False)
    for ax, (name, df) in zip(axes[0], panels):
        if name == "rating":
            colors = ["tab:red" if s <= 5 else "tab:green" for s in df["bin"]]
            ax.set_xlabel("star rating (1-4: labelled negative, 7-10: labelled positive)")
            ax.set_title("Error rate by star rating")
        else:
            colors = "tab:blue"
            cut = f"; MAX_LEN {max_len:,}" if max_len else ""
            ax.set_xlabel(f"review length (model tokens before truncation{cut})")
            ax.set_title("Error rate by review length (bins of about equal size)")
        bars = ax.bar([str(b) for b in df["bin"]], 100 * df["error_rate"], color=colors)
        ax.bar_label(bars, labels=[f"{e:,}/{n:,}" for e, n in zip(df["errors"], df["n"])], fontsize=8, padding=2)
        ax.set_ylim(0, max(100 * df["error_rate"].max() * 1.25, 1))
        ax.set_ylabel("error rate (%)")
        ax.tick_params(axis="x", labelrotation=30 if name == "length" else 0)
        ax.grid(axis="y", alpha=0.3)
    overall = by_length["errors"].sum() / max(by_length["n"].sum(), 1)
    fig.suptitle(f"Where the model is wrong: {overall:.1%} errors on {by_length['n'].sum():,} reviews\n"
                 "(bar labels: errors/reviews)")  # two lines: one panel alone is too narrow for one
    return _save(fig, Path(out_dir), "error_rates")


def token_attributions(clf: "SentimentClassifier", texts: Sequence[str], ig_steps: int = 32,
                       top: int = 5) -> list[dict[str, Any]]:
    """Integrated Gradients per token read (sentiment_lab.analysis.explain), and the `top` tokens that
    pushed hardest towards positive and towards negative. Raises ImportError without explain."""
    from sentiment_lab.analysis import explain as ex

    values = ex.attributions(clf, list(texts), ig_steps=ig_steps)
    out = []
    for text, vals in zip(texts, values):
        tokens = ex.read_tokens(clf, text)[1] if hasattr(ex, "read_tokens") else \
            ex.explain(clf, text, ig_steps=ig_steps, internals=False).tokens
        best: dict[str, float] = {}  # a word's strongest occurrence each way, so "great" is listed once
        worst: dict[str, float] = {}
        for tok, v in zip(tokens, vals):
            best[tok], worst[tok] = max(best.get(tok, v), v), min(worst.get(tok, v), v)
        pos = [(t, round(v, 4)) for t, v in sorted(best.items(), key=lambda kv: -kv[1])[:top] if v > 0]
        neg = [(t, round(v, 4)) for t, v in sorted(worst.items(), key=lambda kv: kv[1])[:top] if v < 0]
        out.append({"tokens": tokens, "values": [round(float(v), 4) for v in vals], "top_positive": pos,
                    "top_negative": neg})
    return out


def analyze_errors(clf: "SentimentClassifier | None", records: Sequence["Record"], p_positive: np.ndarray | None = None,
                   n_examples: int = 10, ig_steps: int = 32, with_attributions: bool = True,
                   n_bins: int = 6) -> ErrorAnalysis:
    """Error analysis of `clf` on labelled `records`; `p_positive` skips the predictions
    (e.g. from a run's test_predictions.csv). `clf` gives the tokenizer for lengths and the
    network for attributions; None (with p_positive) counts words and skips attributions."""
    if not records:
        raise DataError("no reviews to analyse")
    texts = [r.text for r in records]
    if p_positive is None:
        if clf is None:
            raise ValueError("need a classifier or precomputed probabilities")
        p_positive = clf.predict_proba(texts)[:, 1]
    from sentiment_lab.analysis.data_plots import review_lengths

    lengths = review_lengths(texts, clf.encoder if clf is not None else None)
    table = prediction_table(records, p_positive, lengths)
    fp, fn = confident_errors(table, "FP", n_examples), confident_errors(table, "FN", n_examples)
    res = ErrorAnalysis(table, fp, fn, rates_by_length(table, n_bins), rates_by_rating(table))
    shown = pd.concat([fp, fn])
    if not with_attributions:
        res.attribution_note = "attributions not asked for"
    elif clf is None:
        res.attribution_note = "no classifier to attribute with"
    elif len(shown):
        try:
            attrs = token_attributions(clf, shown["text"].tolist(), ig_steps)
        except ImportError as exc:  # sentiment_lab.analysis.explain is optional here
            res.attribution_note = f"token attributions unavailable: {exc}"
        else:
            res.attributions = dict(zip(shown["id"], attrs))
    return res


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Error analysis</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 70em; line-height: 1.5; }
table { border-collapse: collapse; width: 100%; margin-bottom: 2em; }
td, th { border: 1px solid #ccc; padding: 0.4em; vertical-align: top; text-align: left; }
.tok { padding: 0 0.15em; border-radius: 3px; }
.num { white-space: nowrap; text-align: right; }
</style></head><body>
<h1>Error analysis: {{ n_errors }} errors in {{ n }} reviews (accuracy {{ "%.1f" % (100 * accuracy) }}%)</h1>
<p>Tokens are coloured by Integrated Gradients: <span class="tok" style="background:#1a9850">green</span> pushed
the model towards <b>positive</b>, <span class="tok" style="background:#d73027">red</span> towards <b>negative</b>;
the intensity is relative to the strongest token of the same review. {{ note }}</p>
{% for title, rows in sections %}
<h2>{{ title }}</h2>
<table><tr><th>id</th><th>stars</th><th>P(positive)</th><th>review as the model reads it</th></tr>
{% for r in rows %}<tr><td>{{ r.id }}{% if r.top %}<br><small>{{ r.top }}</small>{% endif %}</td><td class="num">{{ r.rating }}</td><td class="num">{{ "%.3f" % r.p }}</td>
<td>{% if r.tokens %}{% for t, c in r.tokens %}<span class="tok" style="background:{{ c }}">{{ t }}</span> {% endfor %}
{% else %}{{ r.text }}{% endif %}</td></tr>
{% endfor %}</table>
{% endfor %}
</body></html>
"""


def _example(row: pd.Series, attr: dict[str, Any] | None) -> dict[str, Any]:
    d = {"id": row["id"], "label": LABELS[int(row["label"])], "p_positive": round(float(row["p_positive"]), 4),
         "confidence": round(float(row["confidence"]), 4), "length": int(row["length"]),
         "rating": None if pd.isna(row["rating"]) else int(row["rating"]), "text": shorten(row["text"])}
    if attr:
        d["top_positive_tokens"], d["top_negative_tokens"] = attr["top_positive"], attr["top_negative"]
    return d


def write_report(res: ErrorAnalysis, out_dir: str | Path, max_len: int | None = None) -> dict[str, str]:
    """errors.json (summary, confident errors with their top tokens, rates), errors.csv (every
    misclassified review), rates by length/rating as CSV, error_rates.png/.svg and errors.html."""
    import jinja2

    from sentiment_lab.fileio import write_json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t = res.table
    summary = {
        "n": len(t), "accuracy": res.accuracy, "errors": int((t["error"] != "").sum()),
        "false_positives": int((t["error"] == "FP").sum()), "false_negatives": int((t["error"] == "FN").sum()),
        "attributions": res.attribution_note or "Integrated Gradients (positive-class logit) per token read",
        "most_confident_false_positives": [_example(r, res.attributions.get(r["id"])) for _, r in res.false_positives.iterrows()],
        "most_confident_false_negatives": [_example(r, res.attributions.get(r["id"])) for _, r in res.false_negatives.iterrows()],
        "by_length": res.by_length.assign(bin=res.by_length["bin"].astype(str)).to_dict("records"),
        "by_rating": None if res.by_rating is None else res.by_rating.to_dict("records"),
    }
    paths = {"summary": _write(out / "errors.json", lambda p: write_json(p, _plain(summary)))}
    wrong = t[t["error"] != ""].sort_values("confidence", ascending=False, kind="stable")
    paths["errors_csv"] = _write(out / "errors.csv", lambda p: spreadsheet_safe_frame(wrong).to_csv(p, index=False))
    paths["by_length_csv"] = _write(out / "error_rates_by_length.csv", lambda p: res.by_length.to_csv(p, index=False))
    if res.by_rating is not None:
        paths["by_rating_csv"] = _write(out / "error_rates_by_rating.csv",
                                        lambda p: res.by_rating.to_csv(p, index=False))
    paths["figure"] = str(error_rate_figure(res.by_length, res.by_rating, out, max_len))
    sections = [(f"Most confident false positives (true label negative, {len(res.false_positives)} shown)",
                 res.false_positives), (f"Most confident false negatives (true label positive, "
                                        f"{len(res.false_negatives)} shown)", res.false_negatives)]
    html = jinja2.Environment(autoescape=True).from_string(_HTML).render(
        n=f"{len(t):,}", n_errors=f"{summary['errors']:,}", accuracy=res.accuracy, note=res.attribution_note,
        sections=[(title, [_html_row(r, res.attributions.get(r["id"])) for _, r in df.iterrows()])
                  for title, df in sections])
    paths["html"] = _write(out / "errors.html", lambda p: p.write_text(html, encoding="utf-8"))
    return paths


def _html_row(row: pd.Series, attr: dict[str, Any] | None) -> dict[str, Any]:
    tokens = None
    if attr:
        from sentiment_lab.analysis.explain.render import token_color

        scale = max((abs(v) for v in attr["values"]), default=0.0)
        tokens = [(tok, token_color(v, scale)) for tok, v in zip(attr["tokens"], attr["values"])]
    return {"id": row["id"], "rating": "" if pd.isna(row["rating"]) else int(row["rating"]),
            "p": float(row["p_positive"]), "tokens": tokens, "text": shorten(row["text"], 2000),
            "top": "" if not attr else "+ " + ", ".join(t for t, _ in attr["top_positive"]) + " / - "
            + ", ".join(t for t, _ in attr["top_negative"])}


def _write(path: Path, writer: Any) -> str:
    """Run `writer` on a temporary sibling, then move it into place: never a half-written file."""
    with replacing(path, suffix=path.suffix) as tmp:
        writer(tmp)
    return str(path)


def _plain(obj: Any) -> Any:
    """numpy/pandas scalars to JSON types."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if obj is pd.NA:
        return None
    return obj
