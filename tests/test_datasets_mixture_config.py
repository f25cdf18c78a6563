"""Mixtures as configuration and figures per source everywhere (issue 30, item 2): data.caps and
data.weights in a preset or `--set`, checked before any work; `train` on a mixture preset
(metrics.json, the model card and the report give test accuracy per dataset); `evaluate --data
A+B` per source and pooled; and a mixture that fails half-way leaves no run folder and no
partial download. All on the small ../shared/data-like folder that test_datasets.py builds."""
import json
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from sentiment_lab.config import Config, load_config
from sentiment_lab.data import DATASETS, load_splits
from sentiment_lab.exceptions import ConfigError
from test_cli import assert_one_line_error
from test_datasets import glue_zip, shared  # noqa: F401  (shared is a fixture)

MIX = "imdb+sst2+amazon-blitzer"
TINY = ["--epochs", "1", "--set", "text.vocab_size=60", "--set", "model.hidden_size=4", "--set",
        "model.embedding_dim=4", "--set", "train.batch_size=8", "--set", "train.ema=0", "--no-progress"]


def run(*args):
    from sentiment_lab.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


# --- data.caps and data.weights as settings ---------------------------------------------------

def test_a_preset_holds_a_mixture_with_caps_and_weights(tmp_path):
    """Inline tables or [data.caps]/[data.weights] sub-tables, names read as the mixture reads
    them; the same as `--set`; config.json (to_dict) loads back to the same Config."""
    (tmp_path / "mix.toml").write_text(f'extends = "seed"\n[data]\nsource = "{MIX}"\n'
                                       'caps = {SST2 = 20000, imdb = 5000}\n'
                                       'weights = {imdb = 1, sst2 = 1, "amazon-blitzer" = 0.5}\n')
    (tmp_path / "sub.toml").write_text(f'extends = "seed"\n[data]\nsource = "{MIX}"\n[data.caps]\nsst2 = 20000\n'
                                       'imdb = 5000\n[data.weights]\nimdb = 1\nsst2 = 1\namazon-blitzer = 0.5\n')
    cfg = load_config(tmp_path / "mix.toml")
    assert cfg.data.caps == {"sst2": 20000, "imdb": 5000}
    assert cfg.data.weights == {"imdb": 1.0, "sst2": 1.0, "amazon-blitzer": 0.5}
    assert load_config(tmp_path / "sub.toml") == cfg
    assert load_config("seed", [f"data.source={MIX}", "data.caps=sst2=20000, imdb=5000",
                                "data.weights=imdb=1,sst2=1,amazon-blitzer=0.5"]) == cfg
    assert Config.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    plain = load_config("seed", [f"data.source={MIX}"])  # the spelling without caps or weights, as before
    assert plain.data.caps is None and plain.data.weights is None
    assert load_config("seed", ["data.caps=none"]).data.caps is None


@pytest.mark.parametrize("overrides, message", [
    (["data.caps=imdb=0"], "data.caps.imdb must be >= 1"),
    (["data.caps=imdb=2.5"], "data.caps.imdb must be int"),
    ([f"data.source={MIX}", "data.weights=imdb=1,sst2=0,amazon-blitzer=1"],
     "data.weights.sst2 must be > 0 (leave a source out of data.source instead), got 0.0"),
    ([f"data.source={MIX}", "data.weights=imdb=1,sst2=-2,amazon-blitzer=1"], "data.weights.sst2 must be > 0"),
    ([f"data.source={MIX}", "data.weights=imdb=inf,sst2=1,amazon-blitzer=1"], "data.weights.imdb must be a finite number"),
    ([f"data.source={MIX}", "data.weights=imdb=nan,sst2=1,amazon-blitzer=1"], "data.weights.imdb must be a finite number"),
    ([f"data.source={MIX}", "data.weights=imdb=1,sst2=1"], "data.weights has no weight for amazon-blitzer"),
    (["data.source=imdb+sst2", "data.caps=yelp-polarity=10"],
     "data.caps names yelp-polarity, which data.source=imdb+sst2 does not mix; name only its sources (imdb, sst2)"),
    (["data.source=imdb+sst2", "data.weights=imdb=1,sst2=1,allocine=1"], "data.weights names allocine"),
    (["data.source=imdb+sst2+IMDB", "data.caps=sst2=5"], "names imdb more than once; name each source once"),
    (["data.caps=imdb=1,IMDB=2"], "data.caps names imdb twice"),
    (["data.caps=imdb"], "data.caps must name a number per source, e.g. data.caps=imdb=5000,sst2=20000"),
])
def test_bad_mixture_settings_fail_in_one_line(overrides, message):
    with pytest.raises(ConfigError, match=None) as err:
        load_config("seed", overrides)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_bad_mixture_settings_stop_train_before_any_work(shared, tmp_path):
    out = tmp_path / "run"
    r = run("train", "--data", MIX, "--set", "data.weights=imdb=1,sst2=0,amazon-blitzer=1", *TINY, "-o", out)
    assert_one_line_error(r, "data.weights.sst2 must be > 0")
    r = run("train", "--data", "imdb+sst2+imdb", *TINY, "-o", out)  # the data stage's own check, before reading
    assert_one_line_error(r, "names imdb more than once")
    assert not out.exists() and not (tmp_path / "home").exists()


def test_caps_and_weights_reach_the_mixture(shared):
    """data.caps caps the sources it names, data.limit the others; weights set each source's share."""
    cfg = load_config("seed", [f"data.source={MIX}", "data.caps=amazon-blitzer=6", "data.limit=8",
                               "data.val_split=random"])
    mix = load_splits(cfg.data, seed=0, progress=False)
    imdb, blitzer = mix.sources["imdb"], mix.sources["amazon-blitzer"]
    assert len(imdb.train) + len(imdb.val) == 8 and len(blitzer.train) + len(blitzer.val) == 6
    assert len(mix.sources["sst2"].train) == 6  # all 6 (below the limit), its own dev set as validation
    assert len(mix.test) == 8  # data.limit: at most 8 test rows in all
    weighted = load_config("seed", ["data.source=imdb+amazon-blitzer", "data.weights=imdb=3,amazon-blitzer=1"])
    both = load_splits(weighted.data, seed=0, progress=False)
    total = sum(len(s.train) for s in both.sources.values())
    assert both.drawn == {"imdb": round(0.75 * total), "amazon-blitzer": round(0.25 * total)}
    assert both.drawn["imdb"] > len(both.sources["imdb"].train)  # short of its share: repeated


def test_caps_on_imdb_alone_are_not_ignored(shared):
    """Plain "imdb" loads through data/imdb.py, which knows no caps: with caps it goes through the mixture."""
    cfg = load_config("seed", ["data.source=imdb", "data.caps=imdb=10", "data.val_fraction=0.2",
                               "data.val_split=random"])
    splits = load_splits(cfg.data, seed=0, progress=False)
    assert len(splits.train) + len(splits.val) == 10 and len(splits.test) == 12


# --- train on a mixture preset: metrics.json, model card, report -------------------------------

def test_train_on_a_mixture_preset_reports_each_dataset(shared, tmp_path):
    (tmp_path / "mix.toml").write_text(f'extends = "seed"\n[data]\nsource = "{MIX}"\nval_split = "random"\n'
                                       'caps = {imdb = 10}\nweights = {imdb = 2, sst2 = 1, amazon-blitzer = 1}\n')
    out = tmp_path / "run"
    r = run("train", "-p", tmp_path / "mix.toml", *TINY, "-o", out)
    assert r.exit_code == 0, r.output
    cfg = json.loads((out / "bundle" / "config.json").read_text())["config"]["data"]
    assert cfg["caps"] == {"imdb": 10} and cfg["weights"] == {"imdb": 2.0, "sst2": 1.0, "amazon-blitzer": 1.0}
    metrics = json.loads((out / "metrics.json").read_text())
    rows = metrics["train_rows_by_source"]
    assert list(rows) == ["imdb", "sst2", "amazon-blitzer"] and abs(rows["imdb"] - rows["sst2"] - rows["amazon-blitzer"]) <= 1
    by = metrics["test_by_source"]
    assert {n: m["n"] for n, m in by.items()} == {"imdb": 12, "sst2": 4, "amazon-blitzer": 4}
    assert metrics["test"]["n"] == 20  # pooled over every test text

    card = (out / "bundle" / "README.md").read_text()
    assert "## Training data" in card and f"A mixture of 3 datasets, `{MIX}`" in card
    assert f"| imdb | {rows['imdb']} | 10 | 2 | 2 | 12 |" in card  # rows in the mix, cap, weight, val, test
    assert f"| sst2 | {rows['sst2']} | - | 1 | 2 | 4 |" in card
    assert "Test accuracy per dataset" in card
    assert f"| amazon-blitzer | 4 | 50.0% | {by['amazon-blitzer']['accuracy']:.4f} |" in card
    assert f"| all (pooled) | 20 | " in card

    from sentiment_lab.analysis.report import report

    html = report(out, tmp_path / "report.html", challenge=False, embeddings=False, errors=False).read_text()
    assert "Metrics per dataset" in html and "<td>all (pooled)</td>" in html
    assert f"<td>{by['sst2']['accuracy']:.4f}</td>" in html


def test_one_dataset_run_has_no_per_dataset_sections(tiny_run):
    """The card and report of a single-source run are as before (no mixture table)."""
    card = (tiny_run.run_dir / "bundle" / "README.md").read_text()
    assert "## Training data" not in card and "per dataset" not in card


# --- evaluate on named datasets ---------------------------------------------------------------

def test_evaluate_reports_each_dataset_and_pooled(shared, tiny_bundle, tmp_path):
    out = tmp_path / "m.json"
    r = run("evaluate", "-m", tiny_bundle, "--data", MIX, "--examples", "0", "-o", out)
    assert r.exit_code == 0, r.output
    assert "Per dataset" in r.output and "all (pooled)" in r.output and "mean of datasets" in r.output
    m = json.loads(out.read_text())
    assert {n: s["n"] for n, s in m["by_source"].items()} == {"imdb": 12, "sst2": 4, "amazon-blitzer": 4}
    assert m["n"] == 20 and m["overall"] == "pooled over all 20 texts of imdb, sst2, amazon-blitzer"
    pooled = sum(s["accuracy"] * s["n"] for s in m["by_source"].values()) / 20
    assert m["accuracy"] == pytest.approx(pooled)
    assert m["mean_accuracy_over_sources"] == pytest.approx(sum(s["accuracy"] for s in m["by_source"].values()) / 3)
    r = run("evaluate", "-m", tiny_bundle, "--data", "sst2", "--examples", "0", "-o", out, "--limit", "2")
    assert r.exit_code == 0, r.output
    assert list(json.loads(out.read_text())["by_source"]) == ["sst2"] and json.loads(out.read_text())["n"] == 2


def test_evaluate_a_source_without_test_split_is_one_line(shared, tiny_bundle, tmp_path):
    for f in (shared / "sst2").iterdir():
        f.unlink()
    glue_zip(shared / "sst2" / "SST-2.zip")  # GLUE withholds SST-2's test labels
    out = tmp_path / "m.json"
    r = run("evaluate", "-m", tiny_bundle, "--data", "imdb+sst2", "--examples", "0", "-o", out)
    assert_one_line_error(r, "sst2", "has no test split", "GLUE withholds SST-2's test labels")
    assert not out.exists()
    assert_one_line_error(run("evaluate", "-m", tiny_bundle, "--data", "imdb+sst", "-o", out),
                          "unknown dataset 'sst' (did you mean sst2?); known: allocine, amazon-blitzer")


# --- a mixture that fails half-way --------------------------------------------------------------

def test_a_mixture_that_fails_half_way_leaves_nothing_behind(shared, tmp_path, monkeypatch):
    """imdb is read from the local copy, then sst2's download fails its checksum: one line, no run
    folder (so no partial bundle), nothing in the cache, not even the .part file."""
    for f in (shared / "sst2").iterdir():
        f.unlink()
    (shared / "sst2").rmdir()
    fake = glue_zip(tmp_path / "served.zip")
    monkeypatch.setitem(DATASETS, "sst2", replace(DATASETS["sst2"], url=fake.as_uri(), sha256="0" * 64))
    out = tmp_path / "run"
    r = run("train", "--data", "imdb+sst2", *TINY, "-o", out)
    assert_one_line_error(r, f"download of {fake.as_uri()} has sha256", "expected " + "0" * 64, "offline?")
    assert not out.exists()
    home = tmp_path / "home"
    assert not home.exists() or not any(home.rglob("*"))
    monkeypatch.setitem(DATASETS, "sst2", replace(DATASETS["sst2"], url=(tmp_path / "gone.zip").as_uri()))
    assert_one_line_error(run("train", "--data", "imdb+sst2", *TINY, "-o", out), "cannot download")
    assert not out.exists() and (not home.exists() or not any(home.rglob("*")))
