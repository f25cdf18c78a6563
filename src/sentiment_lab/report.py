"""`report(run_dir)`: one self-contained HTML file about a training run.

Everything a reader needs is inside the file (figures as base64 PNG, no external CSS or
scripts), so it can be mailed, attached to an issue or opened offline. Each section is
built by the function that owns the concept (plots, embeddings, error analysis,
challenge); a section whose input is missing says so instead of failing the report.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from sentiment_lab import __version__
from sentiment_lab.errors import InputError


def _img(path: Path | str) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def _section(title: str, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one section builder; a failure becomes a visible note, never a lost report."""
    try:
        return {"title": title, **build()}
    except Exception as exc:  # noqa: BLE001 - the report must survive any one section
        return {"title": title, "note": f"not available: {exc}"}


def _metric_rows(metrics: dict[str, Any]) -> list[tuple[str, str, str]]:
    names = [("accuracy", "Accuracy"), ("f1_macro", "Macro F1"), ("precision_macro", "Macro precision"),
             ("recall_macro", "Macro recall"), ("roc_auc", "ROC-AUC"), ("loss", "Log loss")]
    val, test = metrics.get("val", {}), metrics.get("test", {})
    fmt = lambda v: "" if v is None else f"{v:.4f}"  # noqa: E731
    return [(label, fmt(val.get(key)), fmt(test.get(key))) for key, label in names]


def build_context(run_dir: Path, work: Path, challenge: bool = True, embeddings: bool = True,
                  errors: bool = True) -> dict[str, Any]:
    """Every figure and table of the report, figures rendered into `work`."""
    from sentiment_lab import plots

    history = json.loads((run_dir / "history.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text()) if (run_dir / "metrics.json").exists() else {}
    config = json.loads((run_dir / "config.json").read_text())
    bundle = run_dir / "bundle"
    preds = run_dir / "test_predictions.csv"
    sections = [
        _section("Data", lambda: _data_section(run_dir, preds, config, work)),
        _section("Learning curves", lambda: {"images": [_img(plots.learning_curves(history, work, "Learning curves"))]}),
        _section("Metrics", lambda: {"table": {"head": ["Metric", "Validation", "Test"], "rows": _metric_rows(metrics)}}),
        _section("Evaluation: confusion matrix, calibration, slices", lambda: _evaluation_section(preds, work)),
    ]
    if embeddings:
        sections.append(_section("Word embeddings", lambda: _embedding_section(bundle, work)))
    if errors:
        sections.append(_section("Errors", lambda: _error_section(run_dir, work)))
    if challenge:
        sections.append(_section("Challenge suite", lambda: _challenge_section(bundle)))
    card = (bundle / "README.md").read_text(encoding="utf-8") if (bundle / "README.md").exists() else ""
    return {"run": run_dir.name, "sections": sections, "card_html": _markdown(card), "version": __version__,
            "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "config": json.dumps(config, indent=2)}


def _markdown(text: str) -> str:
    from markdown_it import MarkdownIt  # rich's own dependency: no extra install

    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


def _need(path: Path, what: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{path.name} is missing ({what})")
    return path


def _data_section(run_dir: Path, preds: Path, config: dict[str, Any], work: Path) -> dict[str, Any]:
    import pandas as pd

    from sentiment_lab.data_plots import length_histogram

    df = pd.read_csv(_need(preds, "the run was not tested"))
    max_len = int(config["text"]["max_len"])
    rows = [("Test reviews", f"{len(df):,}"), ("Positive share", f"{df['label'].mean():.1%}"),
            ("MAX_LEN (tokens read)", f"{max_len}"),
            ("Reviews cut at MAX_LEN", f"{(df['n_tokens'] >= max_len).mean():.1%}")]
    images = []
    if "n_tokens_full" in df:
        images.append(_img(length_histogram(df["n_tokens_full"].to_numpy(), max_len, work)))
    return {"table": {"head": ["", ""], "rows": rows}, "images": images}


def _evaluation_section(preds: Path, work: Path) -> dict[str, Any]:
    import pandas as pd

    from sentiment_lab.plots import evaluation_plots

    df = pd.read_csv(_need(preds, "the run was not tested"))
    out = evaluation_plots(df["label"].to_numpy(), df["p_positive"].to_numpy(), work,
                           df["n_tokens"].to_numpy(), df["rating"].to_numpy())
    ece = out.pop("ece", None)
    note = f"Expected calibration error: {ece:.3f} (0 = a 90% confidence is right 90% of the time)." if ece is not None else ""
    return {"images": [_img(p) for p in out.values() if str(p).endswith(".png")], "text": note}


def _embedding_section(bundle: Path, work: Path) -> dict[str, Any]:
    from sentiment_lab.embeddings import embedding_map

    result = embedding_map(bundle, out_dir=work)
    return {"images": [_img(result["png"])],
            "text": ("Missing from the vocabulary: " + ", ".join(result["missing"])) if result.get("missing") else ""}


def _error_section(run_dir: Path, work: Path) -> dict[str, Any]:
    from sentiment_lab.error_analysis import report_errors

    return report_errors(run_dir, work)


def _challenge_section(bundle: Path) -> dict[str, Any]:
    from sentiment_lab.challenge import run_challenge
    from sentiment_lab.classifier import SentimentClassifier

    res = run_challenge(SentimentClassifier.from_pretrained(bundle, backend="numpy"))
    rows = [(g, str(v["n"]), f"{v['accuracy']:.0%}") for g, v in res["groups"].items()]
    rows.append(("all", str(res["n"]), f"{res['accuracy']:.1%}"))
    inv = res["invariance"]
    fails = [(f["text"], f["label"], f"{f['predicted']} ({f['score']:.2f})") for f in res["failures"][:20]]
    return {"table": {"head": ["Group", "Cases", "Accuracy"], "rows": rows},
            "text": f"Invariance pairs that keep their label: {inv['consistent']}/{inv['pairs']}.",
            "table2": {"head": ["Failed case", "Expected", "Predicted"], "rows": fails}}


def report(run_dir: str | Path, output: str | Path | None = None, **sections: bool) -> Path:
    """Write RUN_DIR/report.html (or `output`) atomically and return its path."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    run_dir = Path(run_dir)
    if not (run_dir / "history.json").is_file():
        raise InputError(f"{run_dir} is not a run directory: history.json is missing")
    out = Path(output) if output else run_dir / "report.html"
    with tempfile.TemporaryDirectory() as tmp:
        ctx = build_context(run_dir, Path(tmp), **sections)
    env = Environment(loader=PackageLoader("sentiment_lab", "templates"), autoescape=select_autoescape(["html", "j2"]))
    html = env.get_template("report.html.j2").render(**ctx)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(html)
    os.chmod(tmp_path, 0o644)
    os.replace(tmp_path, out)
    return out
