"""The model shipped inside the package: present, verified, and sensible offline."""
import json

from sentiment_lab.inference.classifier import SentimentClassifier, default_bundle


def test_shipped_bundle_loads_and_predicts():
    clf = SentimentClassifier.from_pretrained()
    assert clf("what a great film")["label"] == "positive"
    # the notebook's own sentence that its +3 offset bug flipped to negative
    assert clf("This movie is absolutely fantastic and amazing")["label"] == "positive"
    assert clf("This was a terrible, boring waste of time")["label"] == "negative"


def test_shipped_bundle_is_small_and_measured():
    d = default_bundle()
    size = sum(f.stat().st_size for f in d.iterdir())
    assert size < 20 * 1024 * 1024
    metrics = json.loads((d / "metrics.json").read_text())
    assert metrics["test"]["n"] == 25_000  # measured on the full IMDB test split
    assert f"{metrics['test']['accuracy']:.4f}" in (d / "README.md").read_text()


def test_shipped_bundle_is_what_the_default_preset_trains():
    from sentiment_lab.config import Config, load_config

    shipped = Config.from_dict(json.loads((default_bundle() / "config.json").read_text())["config"])
    shipped.data.path = None
    # how fast validation ran, not what was trained: it was 512 then, the per-device default (0) now
    assert shipped.train.eval_batch_size == 512
    shipped.train.eval_batch_size = 0
    # the default preset, refitted on all of train once its settings were chosen on validation
    assert shipped == load_config("default", ["data.val_fraction=0"])
