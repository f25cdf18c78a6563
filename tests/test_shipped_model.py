"""The models shipped inside the package, chosen by name (inference/shipped.py): present,
verified, small together, each with a card that states its data and per-dataset test accuracy;
and the rule that turns a model reference (a name, a folder, None) into a bundle folder.
Nothing here assumes which name is the default (DEFAULT_MODEL flips to "general" later)."""
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sentiment_lab.exceptions import BundleError
from sentiment_lab.inference import shipped
from sentiment_lab.inference.bundle import read_meta
from sentiment_lab.inference.classifier import SentimentClassifier, default_bundle

PRESENT = shipped.available()
MAX_SHIPPED_BYTES = 40 * 1024 * 1024  # issue 30: the shipped weights together stay under 40 MB


def test_the_registry_names_imdb_and_general_and_a_present_default():
    assert {"imdb", "general"} <= set(shipped.SHIPPED)
    assert "imdb" in PRESENT  # the course's model is always shipped
    assert shipped.DEFAULT_MODEL in PRESENT
    assert default_bundle() == shipped.shipped_bundle(shipped.DEFAULT_MODEL)


def test_shipped_weights_together_stay_under_40_mb():
    total = sum(f.stat().st_size for name in PRESENT for f in shipped.shipped_dir(name).iterdir() if f.is_file())
    assert total < MAX_SHIPPED_BYTES, f"{total / 2**20:.1f} MiB shipped"
    # nothing in shipped/ that the registry does not name (a stray bundle would ship unlisted)
    root = shipped.shipped_dir("imdb").parent
    assert {p.name for p in root.iterdir() if p.is_dir() and p.name != "__pycache__"} <= set(shipped.SHIPPED)


@pytest.mark.parametrize("name", PRESENT)
def test_every_shipped_bundle_verifies_and_its_card_states_data_and_accuracy(name):
    d = shipped.shipped_bundle(name)
    meta = read_meta(d)  # every checksum, and the manifest's own
    metrics = json.loads((d / "metrics.json").read_text())
    card = (d / "README.md").read_text()
    source = meta["config"]["data"]["source"]
    assert f"Data: `{source}`" in card
    per_dataset = shipped.accuracy_by_dataset(metrics, source)
    assert per_dataset, "no test accuracy measured"
    for dataset, accuracy in per_dataset.items():
        assert dataset in card and f"{accuracy:.4f}" in card, (dataset, accuracy)


def test_imdb_is_the_course_model_measured_on_the_full_imdb_test_split():
    d = shipped.shipped_bundle("imdb")
    metrics = json.loads((d / "metrics.json").read_text())
    assert metrics["test"]["n"] == 25_000
    assert shipped.describe(d) == {
        "name": "imdb", "language": "en", "data": "imdb", "summary": shipped.SHIPPED["imdb"],
        "test_accuracy": {"imdb": metrics["test"]["accuracy"]},
        "size_bytes": sum(f.stat().st_size for f in d.iterdir()), "default": shipped.DEFAULT_MODEL == "imdb"}


@pytest.mark.parametrize("name", PRESENT)
def test_shipped_models_load_by_name_and_predict(name):
    clf = SentimentClassifier.from_pretrained(name, backend="numpy")
    assert clf.path == shipped.shipped_bundle(name)
    assert clf("what a great film")["label"] == "positive"
    # the notebook's own sentence that its +3 offset bug flipped to negative
    assert clf("This movie is absolutely fantastic and amazing")["label"] == "positive"
    assert clf("This was a terrible, boring waste of time")["label"] == "negative"


def test_no_name_is_the_default_model():
    assert SentimentClassifier.from_pretrained(backend="numpy").path == default_bundle()


def test_imdb_is_what_the_default_preset_trains():
    from sentiment_lab.config import Config, load_config

    imdb = Config.from_dict(json.loads((shipped.shipped_bundle("imdb") / "config.json").read_text())["config"])
    imdb.data.path = None
    # how fast validation ran, not what was trained: it was 512 then, the per-device default (0) now
    assert imdb.train.eval_batch_size == 512
    imdb.train.eval_batch_size = 0
    # the default preset, refitted on all of train once its settings were chosen on validation
    assert imdb == load_config("default", ["data.val_fraction=0"])


def _folder_named_imdb(tmp_path, tiny_bundle, monkeypatch) -> Path:
    import shutil

    shutil.copytree(tiny_bundle, tmp_path / "imdb")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "imdb"


def test_a_bare_name_is_the_shipped_model_even_beside_a_folder_of_that_name(tmp_path, tiny_bundle, monkeypatch):
    local = _folder_named_imdb(tmp_path, tiny_bundle, monkeypatch)
    assert shipped.resolve_model("imdb") == shipped.shipped_bundle("imdb")
    assert shipped.resolve_model("./imdb").resolve() == local  # ./NAME: the folder
    assert shipped.resolve_model(Path("imdb")).resolve() == local  # a Path is always a path
    assert shipped.resolve_model(str(local)) == local
    assert shipped.resolve_model(None) == default_bundle()
    vocab = SentimentClassifier.from_pretrained("./imdb", backend="numpy").encoder.vocab_size
    assert vocab == json.loads((local / "config.json").read_text())["vocab_size"]
    assert vocab != SentimentClassifier.from_pretrained("imdb", backend="numpy").encoder.vocab_size


def test_an_absent_shipped_name_lists_the_present_ones(monkeypatch, tmp_path):
    monkeypatch.setattr(shipped, "shipped_dir", lambda name: tmp_path / name)  # an install without general
    (tmp_path / "imdb").mkdir()
    (tmp_path / "imdb" / "config.json").write_text("{}")
    with pytest.raises(BundleError, match=r"^shipped model 'general' is not in this install; shipped models: imdb$"):
        shipped.resolve_model("general")
    with pytest.raises(BundleError, match=r"neither a shipped model \(imdb\) nor a bundle folder"):
        shipped.resolve_model("imbd")
    monkeypatch.chdir(tmp_path / "imdb")
    with pytest.raises(BundleError, match=r"^model bundle not found: \./imdb \(for the shipped model, write imdb\)$"):
        shipped.resolve_model("./imdb")


def test_cli_takes_a_name_and_a_dot_slash_folder(tmp_path, tiny_bundle, monkeypatch):
    from sentiment_lab.cli import app

    local = _folder_named_imdb(tmp_path, tiny_bundle, monkeypatch)
    runner = CliRunner()
    shipped_answer = runner.invoke(app, ["predict", "-m", "imdb", "--json", "a great film"])
    local_answer = runner.invoke(app, ["predict", "-m", "./imdb", "--json", "a great film"])
    assert shipped_answer.exit_code == 0 and local_answer.exit_code == 0, (shipped_answer.output, local_answer.output)
    assert shipped_answer.output != local_answer.output  # two different models answered
    assert local.is_dir()
    r = runner.invoke(app, ["predict", "-m", "imbd", "a great film"])
    assert r.exit_code == 1 and r.output.count("\n") == 1 and "shipped model" in r.output, r.output


@pytest.mark.skipif("general" not in PRESENT, reason="general is not in this install")
def test_the_general_model_gives_one_answer_whichever_name_or_place_is_said():
    """Recipe 4 reads the proper nouns of its training texts as [UNK] (text/proper_nouns.py): the
    answer for a neutral sentence is the same number for every such name, not merely close. The
    words are ones its reviews write (none is a listed word it was told to ignore)."""
    clf = SentimentClassifier.from_pretrained("general")
    assert clf.config.text.proper_nouns == "unknown"
    names = ["Edward", "Jennifer", "Connor", "Mohammed", "Mary"]
    places = ["Tokyo", "London", "Paris", "Cairo", "Chicago"]
    texts = [f"{n} lives in {p} and is {nat}." for n, p, nat in zip(names, places, ["Irish", "Korean", "Chinese",
                                                                                     "American", "German"])]
    ids = clf.encoder.encode(texts)
    assert all((i == ids[0]).all() for i in ids)  # the same ids: the model cannot tell them apart
    # the same input, so the same number up to float32 summation order (rows of one batch may land in
    # different CPU thread shards: ~1e-7 relative per operation, seen 4e-9 here); a name that mattered
    # moved P(positive) by 0.1-0.7 before recipe 4
    p = clf.predict_proba(texts)[:, 1]
    assert np.ptp(p) < 1e-5, dict(zip(texts, p))
    assert clf.predict_proba(["Edward loved it."])[0, 1] > 0.5 > clf.predict_proba(["Edward hated it."])[0, 1]
