import shutil

import pytest

from sentiment_lab.inference.bundle import load_pretrained, read_meta
from sentiment_lab.inference.classifier import SentimentClassifier
from sentiment_lab.exceptions import BundleError


def test_round_trip_identical(tiny_run, tiny_bundle):
    clf = SentimentClassifier.from_pretrained(tiny_bundle)
    texts = ["the film was great", "awful plot and dull actors", "it"]
    again = SentimentClassifier.from_pretrained(tiny_bundle)
    assert (clf.predict_proba(texts) == again.predict_proba(texts)).all()
    meta = read_meta(tiny_bundle)
    assert meta["labels"] == ["negative", "positive"] and meta["config"]["model"]["arch"] == "lstm.v1"
    card = (tiny_bundle / "README.md").read_text()
    assert "accuracy" in card and f"{tiny_run.metrics['test']['accuracy']:.4f}" in card


@pytest.fixture
def bundle_copy(tiny_bundle, tmp_path):
    return shutil.copytree(tiny_bundle, tmp_path / "b")


@pytest.mark.parametrize("name", ["model.safetensors", "tokenizer.json", "config.json", "metrics.json"])
def test_missing_file(bundle_copy, name):
    (bundle_copy / name).unlink()
    with pytest.raises(BundleError, match="missing|not a model bundle"):
        load_pretrained(bundle_copy)


def test_truncated_weights(bundle_copy):
    data = (bundle_copy / "model.safetensors").read_bytes()
    (bundle_copy / "model.safetensors").write_bytes(data[:-100])
    with pytest.raises(BundleError, match="model.safetensors does not match its checksum"):
        load_pretrained(bundle_copy)


def test_altered_tokenizer(bundle_copy):
    p = bundle_copy / "tokenizer.json"
    p.write_text(p.read_text().replace('"great"', '"grate"'))
    with pytest.raises(BundleError, match="tokenizer.json does not match"):
        load_pretrained(bundle_copy)


@pytest.mark.parametrize("backend", ["torch", "numpy"])
@pytest.mark.parametrize("name", ["head.weight", "rnn.weight_hh_l0"])
def test_weights_of_another_shape_with_valid_checksums(bundle_copy, backend, name):
    """A consistent bundle (checksums re-signed) whose weights do not fit its config is refused
    at load time, naming the tensor, by both forward passes."""
    import json

    from safetensors.numpy import load_file, save_file

    from sentiment_lab.inference.bundle import LAYOUT, _sha256
    from sentiment_lab.inference.integrity import seal

    path = bundle_copy / "model.safetensors"
    state = load_file(str(path))
    state[name] = state[name][:, :-1].copy()
    save_file(state, str(path))
    meta = json.loads((bundle_copy / "config.json").read_text())
    meta["sha256"]["model.safetensors"] = _sha256(path)
    (bundle_copy / "config.json").write_text(json.dumps(seal(meta, LAYOUT)))  # config.json's own checksum too
    with pytest.raises(BundleError, match=f"does not fit the architecture: .*{name}"):
        load_pretrained(bundle_copy, backend=backend)


def test_bad_config_json(bundle_copy):
    (bundle_copy / "config.json").write_text("{not json")
    with pytest.raises(BundleError, match="not valid JSON"):
        load_pretrained(bundle_copy)


def test_not_a_bundle(tmp_path):
    with pytest.raises(BundleError, match="not found"):
        load_pretrained(tmp_path / "nope")


def test_model_card_names_the_training_recipe(tiny_bundle):
    from sentiment_lab.inference.bundle import model_card

    meta, metrics = read_meta(tiny_bundle), {"best_epoch": 2}
    plain = next(l for l in model_card(meta, metrics).splitlines() if l.startswith("- Training:"))
    assert "decayed" not in plain and "clipped" not in plain and "moving average" not in plain
    assert "adversarial" not in plain and "pretraining" not in plain
    meta["config"]["train"].update(lr_schedule="linear", grad_clip=1.0, ema=0.99, adversarial=0.05, pretrain_epochs=3,
                                 virtual_adversarial=0.1)
    line = next(l for l in model_card(meta, metrics).splitlines() if l.startswith("- Training:"))
    assert "decayed linear to 0" in line and "clipped at 1.0" in line and "decay 0.99" in line
    assert "adversarial steps of 5%" in line and "3 epoch(s) of language-model pretraining" in line
    assert "virtual adversarial steps of 10%" in line


def test_model_card_names_the_ngram_vectors(tiny_bundle):
    from sentiment_lab.inference.bundle import model_card

    meta = read_meta(tiny_bundle)
    arch = next(l for l in model_card(meta, {}).splitlines() if l.startswith("- Architecture:"))
    assert "gram" not in arch
    meta["config"]["model"].update(ngram_buckets=65536, ngram_order=3, ngram_dim=32)
    arch = next(l for l in model_card(meta, {}).splitlines() if l.startswith("- Architecture:"))
    assert "hashed bi- and trigram vectors (65,536 buckets x 32)" in arch and "linear term" not in arch
    meta["config"]["model"].update(bag_buckets=524288, bag_order=2)
    arch = next(l for l in model_card(meta, {}).splitlines() if l.startswith("- Architecture:"))
    assert "plus a linear term over the review's distinct hashed words and bigrams (524,288 buckets)" in arch


def test_model_card_names_dropped_function_words(tiny_bundle):
    from sentiment_lab.inference.bundle import model_card

    meta = read_meta(tiny_bundle)
    tok = next(l for l in model_card(meta, {}).splitlines() if l.startswith("- Tokenizer:"))
    assert "function words" not in tok
    meta["config"]["text"]["stopwords"] = "english"
    tok = next(l for l in model_card(meta, {}).splitlines() if l.startswith("- Tokenizer:"))
    assert tok.endswith("; english function words dropped (sentiment_lab.text.tokenizer.STOPWORDS)")
    del meta["config"]["text"]["stopwords"]  # a bundle made before the setting existed
    assert "function words" not in model_card(meta, {})
