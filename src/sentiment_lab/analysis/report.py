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
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from sentiment_lab.fileio import write_text
from sentiment_lab import __version__
from sentiment_lab.exceptions import DataError, InputError

if TYPE_CHECKING:
    import pandas as pd

    from sentiment_lab.data import Record


def _img(path: Path | str) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def _section(title: str, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one section builder; a failure becomes a visible note, never a lost report."""
    try:
        return {"title": title, **build()}
    except Exception as exc:  # noqa: BLE001 - the report must survive any one section
        return {"title": title, "note": f"not available: {exc}"}


def _metrics_table(metrics: dict[str, Any]) -> dict[str, Any]:
    """Validation and test metrics side by side; a run refitted on all of train
    (data.val_fraction = 0) has no validation split, so its table has no such column."""
    names = [("accuracy", "Accuracy"), ("f1_macro", "Macro F1"), ("precision_macro", "Macro precision"),
             ("recall_macro", "Macro recall"), ("roc_auc", "ROC-AUC"), ("loss", "Log loss")]
    val, test = metrics.get("val") or {}, metrics.get("test") or {}
    fmt = lambda v: "" if v is None else f"{v:.4f}"  # noqa: E731
    columns = ([("Validation", val)] if val else []) + [("Test", test)]
    table = {"head": ["Metric"] + [name for name, _ in columns],
             "rows": [(label, *(fmt(split.get(key)) for _, split in columns)) for key, label in names]}
    if val:
        return {"table": table}
    return {"table": table, "text": "No validation column: this model was trained on all training reviews "
                                    "(data.val_fraction = 0)."}


def _by_source_table(metrics: dict[str, Any]) -> dict[str, Any]:
    """A mixture's test figures per dataset, then pooled over every test text: the pooled row
    leans to the largest dataset, which the per-dataset rows show."""
    train = metrics.get("train_rows_by_source") or {}
    rows = [(name, f"{train[name]:,}" if name in train else "", f"{m['n']:,}", f"{m['accuracy']:.4f}",
             f"{m['f1_macro']:.4f}") for name, m in metrics["test_by_source"].items()]
    test = metrics["test"]
    rows.append(("all (pooled)", f"{sum(train.values()):,}" if train else "", f"{test['n']:,}",
                 f"{test['accuracy']:.4f}", f"{test['f1_macro']:.4f}"))
    return {"table": {"head": ["Dataset", "Training rows", "Test texts", "Test accuracy", "Test macro F1"], "rows": rows},
            "text": "Test figures per dataset of the mixture; the last row pools every test text, so the largest "
                    "dataset weighs most."}


def build_context(run_dir: Path, work: Path, records: Sequence["Record"] | None = None, challenge: bool = True,
                  embeddings: bool = True, errors: bool = True) -> dict[str, Any]:
    """Every figure and table of the report, figures rendered into `work`. `records`: the
    test reviews the run was tested on (their texts are not in the run directory); None
    reloads them from the run's configuration."""
    from sentiment_lab.analysis import plots

    history = json.loads((run_dir / "history.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text()) if (run_dir / "metrics.json").exists() else {}
    config = json.loads((run_dir / "config.json").read_text())
    bundle = run_dir / "bundle"
    preds = run_dir / "test_predictions.csv"
    sections = [
        _section("Data", lambda: _data_section(preds, config, metrics, work)),
        _section("Learning curves", lambda: {"images": [_img(plots.learning_curves(history, work, "Learning curves"))]}),
        _section("Metrics", lambda: _metrics_table(metrics)),
        *([_section("Metrics per dataset", lambda: _by_source_table(metrics))] if metrics.get("test_by_source") else []),
        _section("Evaluation: confusion matrix, calibration, slices", lambda: _evaluation_section(preds, work)),
    ]
    if embeddings:
        sections.append(_section("Word embeddings", lambda: _embedding_section(bundle, work)))
    if errors:
        sections.append(_section("Errors", lambda: _error_section(run_dir, config, records, work)))
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


def _predictions(preds: Path) -> "pd.DataFrame":
    import pandas as pd

    return pd.read_csv(_need(preds, "the run was not tested"), dtype={"id": str})


def _data_section(preds: Path, config: dict[str, Any], metrics: dict[str, Any], work: Path) -> dict[str, Any]:
    """Test-split statistics, the length histogram against MAX_LEN (untruncated lengths,
    `n_tokens_full`) and the labels of the validation and test splits."""
    from sentiment_lab.analysis.data_plots import label_distribution, length_histogram

    df = _predictions(preds)
    max_len = int(config["text"]["max_len"])
    # Runs written before n_tokens_full existed only know the truncated length.
    full = df["n_tokens_full"] if "n_tokens_full" in df else None
    cut = (full > max_len).mean() if full is not None else (df["n_tokens"] >= max_len).mean()
    rows = [("Test reviews", f"{len(df):,}"), ("Positive share", f"{df['label'].mean():.1%}"),
            ("MAX_LEN (tokens read)", f"{max_len}"), ("Reviews cut at MAX_LEN", f"{cut:.1%}")]
    images = []
    if full is not None:
        rows.append(("Median length (tokens, before truncation)", f"{full.median():,.0f}"))
        images.append(_img(length_histogram(full.to_numpy(), max_len, work, title="Review length (test split)")))
    labels = {"test": df["label"].to_numpy()}
    val = metrics.get("val", {}).get("per_class")
    if val:  # only counts are stored for validation: rebuild a label vector of the same counts
        labels = {"validation": [0] * val["negative"]["support"] + [1] * val["positive"]["support"], **labels}
    images.append(_img(label_distribution(labels, work)))
    return {"table": {"head": ["", ""], "rows": rows}, "images": images}


def _evaluation_section(preds: Path, work: Path) -> dict[str, Any]:
    from sentiment_lab.analysis.plots import evaluation_plots

    df = _predictions(preds)
    full = "n_tokens_full" in df  # accuracy by the review's real length, not the part read
    out = evaluation_plots(df["label"].to_numpy(), df["p_positive"].to_numpy(), work,
                           df["n_tokens_full" if full else "n_tokens"].to_numpy(), df["rating"].to_numpy(),
                           lengths_truncated=not full)
    ece = out.pop("ece", None)
    note = f"Expected calibration error: {ece:.3f} (0 = a 90% confidence is right 90% of the time)." if ece is not None else ""
    return {"images": [_img(p) for p in out.values() if str(p).endswith(".png")], "text": note}


def _embedding_section(bundle: Path, work: Path, n_neighbours: int = 5) -> dict[str, Any]:
    """PCA map of the notebook's word groups (PCA: fast and deterministic, where t-SNE would
    take seconds and depend on its perplexity) and each word's nearest neighbours."""
    from sentiment_lab.analysis.embeddings import embedding_report

    rep = embedding_report(bundle, method="pca", k=n_neighbours, out_dir=work / "embeddings", top_n=0)
    missing = [w for ws in rep.missing.values() for w in ws]
    rows = [(w, g, ", ".join(f"{n} ({c:.2f})" for n, c in rep.neighbours[w])) for w, g in zip(rep.words, rep.groups)]
    text = f"{len(rep.words)} words found in the vocabulary" + (
        f"; missing: {', '.join(missing)}." if missing else "; none missing.")
    return {"images": [_img(rep.paths["map"])], "text": text,
            "table": {"head": ["Word", "Group", f"{n_neighbours} nearest words (cosine)"], "rows": rows}}


def _test_records(config: dict[str, Any]) -> list["Record"]:
    """The test reviews named by a run's configuration (what `train` loaded)."""
    from sentiment_lab.config import Config
    from sentiment_lab.data import load_imdb, load_splits

    cfg = Config.from_dict(config)
    if cfg.data.source == "imdb":  # every test review: predictions are matched by id
        return load_imdb(cfg.data.path, splits=("test",), progress=False)
    return load_splits(cfg.data, cfg.train.seed, progress=False).test


def _error_section(run_dir: Path, config: dict[str, Any], records: Sequence["Record"] | None, work: Path,
                   n_examples: int = 5) -> dict[str, Any]:
    """Error rates by length and rating, and the most confident mistakes with the tokens
    that pushed the model there (Integrated Gradients)."""
    import pandas as pd

    from sentiment_lab.inference.classifier import SentimentClassifier
    from sentiment_lab.analysis.data_plots import review_lengths
    from sentiment_lab.analysis.error_analysis import analyze_errors, predictions_from_run, shorten, write_report

    recs, p = predictions_from_run(run_dir, records if records is not None else _test_records(config))
    clf = SentimentClassifier.from_pretrained(run_dir / "bundle")
    df = _predictions(run_dir / "test_predictions.csv")
    if "n_tokens_full" in df:  # same ids but other texts (e.g. a regenerated corpus) would mislabel the examples
        wrong = int((review_lengths([r.text for r in recs], clf.encoder) != df["n_tokens_full"].to_numpy()).sum())
        if wrong:
            raise DataError(f"the test reviews found do not match the run's predictions ({wrong:,} of {len(recs):,} "
                            "differ in length); pass the data the run was tested on (--data)")
    res = analyze_errors(clf, recs, p, n_examples=n_examples, ig_steps=16)
    paths = write_report(res, work / "errors", clf.encoder.max_len)
    rows = []
    for kind, table in (("false positive", res.false_positives), ("false negative", res.false_negatives)):
        for _, r in table.iterrows():
            a = res.attributions.get(r["id"])
            top = "" if not a else ("+ " + ", ".join(t for t, _ in a["top_positive"]) + " / - "
                                    + ", ".join(t for t, _ in a["top_negative"]))
            rows.append((kind, r["id"], "" if pd.isna(r["rating"]) else str(r["rating"]),
                         f"{r['p_positive']:.3f}", top, shorten(r["text"], 300)))
    n_err = int((res.table["error"] != "").sum())
    text = (f"{n_err:,} errors in {len(res.table):,} test reviews (accuracy {res.accuracy:.1%}). The "
            f"{n_examples} most confident of each kind below; tokens from Integrated Gradients."
            + (f" {res.attribution_note}" if res.attribution_note else ""))
    return {"images": [_img(paths["figure"])], "text": text, "table": {
        "head": ["Error", "Id", "Stars", "P(positive)", "Tokens pushing + / -", "Review (shortened)"], "rows": rows}}


def _challenge_section(bundle: Path) -> dict[str, Any]:
    """The suite of the model's language: accuracy per group, the invariance groups' flip rates
    (analysis/challenge/invariance.py) and the failures."""
    from sentiment_lab.analysis.challenge import load_suite, run_challenge, suite_language
    from sentiment_lab.analysis.challenge.invariance import run_invariance
    from sentiment_lab.inference.classifier import SentimentClassifier

    clf = SentimentClassifier.from_pretrained(bundle, backend="numpy")
    language = suite_language(clf)
    res = run_challenge(clf, load_suite(language))
    rows = [(g, str(v["n"]), f"{v['accuracy']:.0%}") for g, v in res["groups"].items()]
    rows.append(("all", str(res["n"]), f"{res['accuracy']:.1%}"))
    inv, groups = res["invariance"], run_invariance(clf, language)
    fails = [(f["text"], f["label"], f"{f['predicted']} ({f['score']:.2f})") for f in res["failures"][:20]]
    flips = [(g, f"{v['variants']:,}", f"{v['flip_rate']:.1%}",
              "-" if v["flip_rate_heldout"] is None else f"{v['flip_rate_heldout']:.1%}", f"{v['max_spread']:.2f}")
             for g, v in groups["groups"].items()]
    return {"table": {"head": ["Group", "Cases", "Accuracy"], "rows": rows},
            "text": f"Suite: {language}. Invariance pairs that keep their label: {inv['consistent']}/{inv['pairs']}. "
                    f"Invariance groups: share of template sentences whose label changes when only the attribute "
                    f"word is swapped (target <= {groups['target_flip_rate']:.0%} per group; held-out words are "
                    f"never used by counterfactual augmentation).",
            "table3": {"head": ["Invariance group", "Sentences", "Flip rate", "Flip rate, held-out words",
                                "Max P(positive) spread"], "rows": flips},
            "table2": {"head": ["Failed case", "Expected", "Predicted"], "rows": fails}}


def report(run_dir: str | Path, output: str | Path | None = None, records: Sequence["Record"] | None = None,
           **sections: bool) -> Path:
    """Write RUN_DIR/report.html (or `output`) atomically and return its path. `records`:
    the run's test reviews, for the error section (default: reloaded from its config).
    Sections can be left out with challenge=False, embeddings=False, errors=False."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    run_dir = Path(run_dir)
    if not (run_dir / "history.json").is_file():
        raise InputError(f"{run_dir} is not a run directory: history.json is missing")
    out = Path(output) if output else run_dir / "report.html"
    with tempfile.TemporaryDirectory() as tmp:
        ctx = build_context(run_dir, Path(tmp), records, **sections)
    env = Environment(loader=PackageLoader("sentiment_lab.analysis", "templates"), autoescape=select_autoescape(["html", "j2"]))
    html = env.get_template("report.html.j2").render(**ctx)
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_text(out, html)
