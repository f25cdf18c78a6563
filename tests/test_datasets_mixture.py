"""Mixtures of named datasets (data/mixture.py) on the small ../shared/data-like folder that
test_datasets.py builds: parsing, argument checks before any read, validation and test kept per
source, caps, weights, the cross-source overlap check, a source without a test split."""
import pandas as pd
import pytest

from sentiment_lab.data import load_mixture, parse_mixture
from sentiment_lab.exceptions import ConfigError, DataError
from test_datasets import _gz_csv, glue_zip, shared  # noqa: F401  (shared is a fixture)


# --- mixtures --------------------------------------------------------------------------------

def test_parse_mixture():
    assert parse_mixture("imdb+sst2+amazon-blitzer") == ["imdb", "sst2", "amazon-blitzer"]
    assert parse_mixture(" imdb + SST2 ") == ["imdb", "sst2"]
    with pytest.raises(ConfigError, match=r"names imdb more than once; name each source once"):
        parse_mixture("imdb+sst2+imdb")
    with pytest.raises(ConfigError, match="empty name"):
        parse_mixture("imdb++sst2")
    with pytest.raises(ConfigError, match=r"unknown dataset 'sst' \(did you mean sst2\?\); known: "):
        parse_mixture("imdb+sst")
    with pytest.raises(ConfigError, match="imdb-unsup has no labels"):
        parse_mixture("imdb+imdb-unsup")


@pytest.mark.parametrize("kwargs, message", [
    ({"weights": {"imdb": 1, "sst2": 0}}, "weight for sst2 is 0; leave sst2 out of the mixture"),
    ({"weights": [1, -1]}, "weight for sst2 must be a positive number"),
    ({"weights": {"imdb": 1}}, "give a weight to every source"),
    ({"weights": {"imdb": 1, "yelp-polarity": 1}}, "weights given for yelp-polarity, which is not in the mixture imdb\\+sst2"),
    ({"weights": [1, 2, 3]}, "weights must be a number, a list of 2 numbers"),
    ({"caps": {"sst2": 0}}, "cap for sst2 must be a whole number of at least 1"),
    ({"caps": 2.5}, "cap for imdb must be a whole number"),
    ({"size": 0}, "mixture size must be a whole number of at least 1"),
    ({"val_fraction": 1.0}, "val_fraction must be in"),
])
def test_bad_mixture_arguments_fail_before_anything_is_read(kwargs, message, tmp_path, monkeypatch):
    monkeypatch.setenv("SENTIMENT_LAB_DATA", str(tmp_path))  # nothing here: reading would fail with a DataError
    monkeypatch.setenv("SENTIMENT_LAB_HOME", str(tmp_path / "home"))
    with pytest.raises(ConfigError, match=message) as err:
        load_mixture("imdb+sst2", progress=False, **kwargs)
    assert "\n" not in str(err.value) and not (tmp_path / "home").exists()


def test_mixture_keeps_validation_and_test_per_source(shared):
    m = load_mixture("imdb+sst2+amazon-blitzer", caps={"imdb": 10}, seed=3, val_fraction=0.2, progress=False)
    assert list(m.sources) == ["imdb", "sst2", "amazon-blitzer"]
    assert {r.source for r in m.train} == {r.source for r in m.val} == {r.source for r in m.test} == set(m.sources)
    imdb, sst = m.sources["imdb"], m.sources["sst2"]
    assert len(imdb.train) + len(imdb.val) == 10 and len(imdb.val) == 2  # capped, then validation carved out
    assert [r.text for r in sst.val] == ["the film's charm.", "can't stand it."]  # SST-2's own dev set
    assert len(m.test) == 12 + 4 + 4 and m.by_source("test")["sst2"] == sst.test
    assert len(m.train) == sum(m.drawn.values()) == sum(len(s.train) for s in m.sources.values())
    assert not {r.id for r in imdb.train} & {r.id for r in imdb.val}
    again = load_mixture("imdb+sst2+amazon-blitzer", caps={"imdb": 10}, seed=3, progress=False)
    assert [r.id for r in again.train] == [r.id for r in m.train]  # seeded
    assert not any(m.dropped[n][o] for n in m.dropped for o in m.dropped[n])


def test_a_test_text_of_one_source_is_never_a_training_text_of_another(shared):
    leaked = pd.read_csv(shared / "sst2" / "test.csv.gz")
    rows = pd.read_csv(shared / "amazon_blitzer" / "reviews.csv.gz")
    extra = rows.iloc[:2].copy()
    extra["text"] = ["A TRIUMPH.", "a   mess."]  # sst2 test sentences, as a person types them
    extra["unique_id"] = ["leak-1", "leak-2"]
    extra["split"] = "train"
    _gz_csv(shared / "amazon_blitzer" / "reviews.csv.gz", pd.concat([rows, extra]))
    assert len(leaked) == 4
    m = load_mixture("sst2+amazon-blitzer", progress=False, val_fraction=0.25)
    train_keys = {" ".join(r.text.casefold().split()) for r in m.train}
    for r in m.test + m.val:
        others = {" ".join(t.text.casefold().split()) for n, s in m.sources.items() if n != r.source for t in s.train}
        assert " ".join(r.text.casefold().split()) not in others
    assert "a triumph." not in train_keys and "a mess." not in train_keys
    assert m.dropped["amazon-blitzer"]["sst2"] == 2
    assert "dropped 2 amazon-blitzer training texts that are sst2 validation/test texts" in m.report()


def test_weights_set_each_sources_share(shared):
    m = load_mixture("imdb+amazon-blitzer", weights={"IMDB": 3, "amazon-blitzer": 1}, size=40, seed=0,
                     progress=False)
    assert m.drawn == {"imdb": 30, "amazon-blitzer": 10}
    assert sum(r.source == "imdb" for r in m.train) == 30
    imdb_ids = [r.id for r in m.train if r.source == "imdb"]
    assert len(set(imdb_ids)) == len(m.sources["imdb"].train) < 30  # fewer rows than its share: repeated
    even = load_mixture("imdb+amazon-blitzer", weights=[1, 1], seed=0, progress=False)
    total = len(m.sources["imdb"].train) + len(m.sources["amazon-blitzer"].train)
    assert even.drawn["imdb"] == even.drawn["amazon-blitzer"] == total // 2


def test_a_source_without_test_split_when_test_figures_are_asked(shared, tmp_path):
    z = glue_zip(tmp_path / "SST-2.zip")
    m = load_mixture("imdb+sst2", paths={"SST2": z}, progress=False)
    assert not m.sources["sst2"].test and m.sources["imdb"].test
    with pytest.raises(DataError, match="sst2 has no test split here, and test figures were asked for every "
                                        "source: GLUE withholds SST-2's test labels"):
        load_mixture("imdb+sst2", paths={"sst2": str(z)}, require_test=True, progress=False)
