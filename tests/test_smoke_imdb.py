"""Real-data smoke test on ../shared/data/imdb (skipped where the archive is absent):
load, short training on a subset, evaluation, bundle round trip."""
import pytest

from conftest import SHARED_IMDB

pytestmark = [pytest.mark.smoke,
              pytest.mark.skipif(not SHARED_IMDB.exists(), reason="../shared/data/imdb archive not present")]


def test_real_imdb_pipeline(tmp_path):
    from sentiment_lab.inference.classifier import SentimentClassifier
    from sentiment_lab.config import load_config
    from sentiment_lab.data import load_imdb
    from sentiment_lab.analysis.metrics import evaluate_bundle
    from sentiment_lab.training.loop import train

    recs = load_imdb(SHARED_IMDB)
    assert len(recs) == 50_000
    assert sum(r.split == "train" for r in recs) == 25_000 and sum(r.label for r in recs) == 25_000
    assert all((r.rating <= 4) == (r.label == 0) for r in recs)

    cfg = load_config("seed", [f"data.path={SHARED_IMDB}", "data.limit=3000", "train.epochs=2",
                               "text.max_len=120"])
    result = train(cfg, tmp_path / "run", progress=False)
    assert result.metrics["test"]["n"] == 3000
    assert result.metrics["test"]["accuracy"] > 0.6  # well above chance after a short run

    clf = SentimentClassifier.from_pretrained(tmp_path / "run" / "bundle")
    test = [r for r in recs if r.split == "test"][:400]
    m, p = evaluate_bundle(str(tmp_path / "run" / "bundle"), test)
    assert m["n"] == 400
    assert (clf.predict_proba([r.text for r in test])[:, 1] == p).all()
