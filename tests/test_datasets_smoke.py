"""The named datasets on the real copies in ../shared/data (skipped where they are absent):
each loads through $SENTIMENT_LAB_DATA with the counts its README gives, its files match the
checksums recorded in the registry, SST-2 comes out as people type, and the three-source
mixture keeps every source's validation and test texts out of the others' training rows."""
import pytest

from conftest import SHARED_IMDB

SHARED = SHARED_IMDB.parent.parent
pytestmark = [pytest.mark.smoke, pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data not present")]


@pytest.fixture(autouse=True)
def shared_data(monkeypatch, tmp_path):
    monkeypatch.setenv("SENTIMENT_LAB_DATA", str(SHARED))
    monkeypatch.setenv("SENTIMENT_LAB_HOME", str(tmp_path / "home"))  # nothing may be downloaded


def _counts(records):
    out = {}
    for r in records:
        neg, pos = out.get(r.split, (0, 0))
        out[r.split] = (neg + (r.label == 0), pos + (r.label == 1))
    return out


# rows per split as (negative, positive), from ../shared/data/README.md
README_COUNTS = {
    "imdb": {"train": (12_500, 12_500), "test": (12_500, 12_500)},
    "sst2": {"train": (29_780, 37_569), "val": (428, 444), "test": (912, 909)},
    "amazon-blitzer": {"train": (3_200, 3_200), "test": (800, 800)},
    "marc-fr": {"test": (2_000, 2_000), "train": (4_972, 4_948)},
    "cls-books-fr": {"train": (800, 800), "val": (200, 200), "test": (1_000, 1_000)},
}


@pytest.mark.parametrize("name", sorted(README_COUNTS))
def test_local_copy_loads_with_the_readme_counts_and_checksums(name):
    from sentiment_lab.data import load_dataset, resolve_dataset
    from sentiment_lab.data.datasets import verify_local

    assert resolve_dataset(name).is_relative_to(SHARED)
    records = load_dataset(name, progress=False)
    assert _counts(records) == README_COUNTS[name]
    assert {r.source for r in records} == {name} and len({r.id for r in records}) == len(records)
    assert verify_local(name) is True  # the registry's local_sha256 are these files'


def test_imdb_unsup_local_copy():
    from sentiment_lab.data import UNLABELED, load_dataset
    from sentiment_lab.data.datasets import verify_local

    records = load_dataset("imdb-unsup", progress=False)
    assert len(records) == 50_000 and {r.label for r in records} == {UNLABELED}
    assert sum(len(r.text.encode("utf-8")) for r in records) == 66_506_794  # the README's bytes of text
    assert verify_local("imdb-unsup") is True


def test_blitzer_split_is_800_200_per_domain_and_label():
    from sentiment_lab.data import load_dataset

    records = load_dataset("amazon-blitzer", progress=False)
    for domain in ("books", "dvd", "electronics", "kitchen"):
        for label in (0, 1):
            group = [r for r in records if r.id.startswith(domain + "/") and r.label == label]
            assert (sum(r.split == "train" for r in group), sum(r.split == "test" for r in group)) == (800, 200)


def test_sst2_reads_as_people_type():
    import re

    from sentiment_lab.data import load_dataset

    texts = [r.text for r in load_dataset("sst2", progress=False)]
    joined = "\n".join(texts)
    for ptb in (" n't", " 's ", "-lrb-", "``", " ,", " .\n"):
        assert ptb not in joined, ptb
    assert "doesn't" in joined and "it's" in joined
    assert all(t == t.strip() and "  " not in t for t in texts)
    assert not re.search(r"\b(does|is|ca|wo) n't\b", joined)


def test_three_source_mixture_on_the_real_data():
    from sentiment_lab.data import load_mixture
    from sentiment_lab.data.mixture import text_key

    m = load_mixture("imdb+sst2+amazon-blitzer", caps={"imdb": 5_000, "sst2": 10_000}, seed=0, require_test=True,
                     val_split="blocks", progress=False)
    assert {n: len(s.test) for n, s in m.sources.items()} == {"imdb": 25_000, "sst2": 1_821, "amazon-blitzer": 1_600}
    assert len(m.sources["sst2"].val) == 872 and len(m.sources["imdb"].val) == 1_000
    for name, s in m.sources.items():
        held = {text_key(r.text) for other, o in m.sources.items() if other != name for r in o.val + o.test}
        assert not any(text_key(r.text) in held for r in s.train)
    assert len(m.train) == sum(m.drawn.values()) and m.report()
