"""Named datasets (data/registry.py, data/readers.py, data/datasets.py) and SST-2's detokenizer
(data/ptb.py), on small files each test builds: no network (the downloads come from a server on
127.0.0.1). The helpers that write those files are shared with test_datasets_mixture.py."""
from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import json
import re
import tarfile
import threading
import zipfile
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from conftest import write_imdb_archive
from sentiment_lab.data import (DATASETS, UNLABELED, dataset_names, detokenize, get_dataset, list_datasets,
                                load_dataset)
from sentiment_lab.data import datasets as datasets_mod
from sentiment_lab.exceptions import ConfigError, DataError

REQUIRED = {"imdb", "imdb-unsup", "sst2", "amazon-blitzer", "yelp-polarity", "amazon-polarity", "allocine"}


# --- small files in each dataset's format ----------------------------------------------------

def _gz_csv(path: Path, df: pd.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, compression="gzip")
    return path


def _tar(path: Path, members: dict[str, bytes], mode: str = "w:gz") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


SST_TRAIN = pd.DataFrame({"text": ["it does n't work ", "a -lrb- sort of -rrb- gem , really ", "dull ",
                                   "it 's great fun ", "wo n't last ", "`` wow '' "], "label": [0, 1, 0, 1, 0, 1]})
SST_DEV = pd.DataFrame({"text": ["the film 's charm . ", "ca n't stand it . "], "label": [1, 0]})
SST_TEST = pd.DataFrame({"idx": [0, 1, 2, 3], "text": ["a triumph . ", "a mess . ", "lovely . ", "tedious . "],
                         "label": [1, 0, 1, 0], "label_fine": [4, 0, 3, 1]})


def write_shared_layout(root: Path) -> Path:
    """A folder laid out like ../shared/data, with a few rows in each file."""
    (root / "imdb").mkdir(parents=True)
    write_imdb_archive(root / "imdb" / "aclImdb_v1_labeled.tar.gz", extra_members=False)
    with gzip.open(root / "imdb" / "train_unsup.jsonl.gz", "wt", encoding="utf-8") as f:
        for i in (10, 2, 1):
            f.write(json.dumps({"id": f"{i}_0", "text": f"unlabeled review {i}<br />more"}) + "\n")
    _gz_csv(root / "sst2" / "train.csv.gz", SST_TRAIN)
    _gz_csv(root / "sst2" / "dev.csv.gz", SST_DEV)
    _gz_csv(root / "sst2" / "test.csv.gz", SST_TEST)
    rows = [{"text": f"{dom} {'fine' if lab else 'broken'} item {i}", "label": lab, "domain": dom,
             "split": "test" if i == 0 else "train", "rating": "5.0" if lab else "1.0", "title": "t",
             "unique_id": f"{dom}-{lab}-{i}", "asin": "x"} for dom in ("books", "kitchen") for lab in (0, 1)
            for i in range(5)]
    _gz_csv(root / "amazon_blitzer" / "reviews.csv.gz", pd.DataFrame(rows))
    return root


@pytest.fixture
def shared(tmp_path, monkeypatch):
    """$SENTIMENT_LAB_DATA at a small ../shared/data-like folder, an empty cache, and row counts
    not checked (these copies are tiny)."""
    root = write_shared_layout(tmp_path / "data")
    monkeypatch.setenv("SENTIMENT_LAB_DATA", str(root))
    monkeypatch.setenv("SENTIMENT_LAB_HOME", str(tmp_path / "home"))
    for name, ds in list(DATASETS.items()):
        monkeypatch.setitem(DATASETS, name, replace(ds, counts={}))
    return root


def zhang_tgz(path: Path, folder: str, titled: bool, n: int = 3) -> Path:
    def rows(split: str) -> bytes:
        out = io.StringIO()
        for i in range(n):
            for label, word in (("1", "awful"), ("2", "great")):
                body = f"{word} place {split} {i}\\nsecond line, \"\"quoted\"\""
                out.write(f'"{label}","{word.title()} title","{body}"\n' if titled else f'"{label}","{body}"\n')
        return out.getvalue().encode()
    return _tar(path, {f"{folder}/readme.txt": b"readme", f"{folder}/train.csv": rows("train"),
                       f"{folder}/test.csv": rows("test")})


def allocine_members(n: int = 2) -> dict[str, bytes]:
    def lines(split: str) -> bytes:
        return "".join(json.dumps({"film-url": f"http://x/{i}", "review": f"{w} film {split} {i}", "polarity": p},
                                  ensure_ascii=False) + "\n" for i in range(n)
                       for w, p in (("Très bon", 1), ("Nul", 0))).encode()
    return {f"data/{s}.jsonl": lines(s) for s in ("train", "val", "test")}


BLITZER_REVIEW = """<review>
<unique_id>
{uid}
</unique_id>
<unique_id>
12345
</unique_id>
<asin>
B0001
</asin>
<rating>
{rating}
</rating>
<title>
a title
</title>
<review_text>
{text}
</review_text>
</review>
"""


def blitzer_tgz(path: Path, n: int = 10) -> Path:
    members = {}
    for domain in ("books", "kitchen_&_housewares"):
        for pol, rating, word in (("positive", "5.0", "lovely"), ("negative", "1.0", "broken")):
            blocks = "".join(BLITZER_REVIEW.format(uid=f"{domain}:{pol}:{i}", rating=rating,
                                                   text=f"{word} caf\xe9 thing {i}") for i in range(n))
            members[f"sorted_data_acl/{domain}/{pol}.review"] = blocks.encode("latin-1")  # not UTF-8, as in 2007
        members[f"sorted_data_acl/{domain}/unlabeled.review"] = BLITZER_REVIEW.format(
            uid="u", rating="3.0", text="unlabeled").encode()
    return _tar(path, members)


def glue_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("SST-2/train.tsv", "sentence\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in
                                                                      zip(SST_TRAIN.text, SST_TRAIN.label)))
        zf.writestr("SST-2/dev.tsv", "sentence\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in
                                                                    zip(SST_DEV.text, SST_DEV.label)))
        zf.writestr("SST-2/test.tsv", "index\tsentence\n0\ta triumph . \n1\ta mess . \n")
    return path


# --- the registry ----------------------------------------------------------------------------

def test_registry_describes_every_dataset_users_ask_for():
    assert REQUIRED <= set(dataset_names())
    for name, ds in DATASETS.items():
        assert ds.name == name and ds.language in ("en", "fr") and ds.citation and ds.terms and ds.size
        assert ds.local and not any(Path(p).is_absolute() for p in ds.local)
        assert ds.sha256_source, f"{name}: say where the checksum comes from, or that it is unknown"
        assert ds.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", ds.sha256)
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in ds.local_sha256.values())
        assert ds.url is None or (ds.url.startswith("https://") and ds.cache_name)
        assert set(ds.counts) == set(ds.splits)
    for name in REQUIRED:
        assert DATASETS[name].url, f"{name} needs its official download URL"
    assert DATASETS["allocine"].language == "fr" and DATASETS["allocine"].url.endswith("allocine_dataset/data.tar.bz2")
    assert all(DATASETS[n].research_only for n in ("marc-fr", "cls-books-fr", "yelp-polarity"))
    assert DATASETS["imdb"].cache_name == DATASETS["imdb-unsup"].cache_name == "aclImdb_v1.tar.gz"  # one download


def test_unknown_dataset_name_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown dataset 'imbd' \(did you mean imdb\?\); known: allocine, ") as err:
        get_dataset("imbd")
    assert "\n" not in str(err.value) and all(n in str(err.value) for n in REQUIRED)
    with pytest.raises(ConfigError, match="unknown dataset"):
        load_dataset("nope")
    assert get_dataset(" SST2 ").name == "sst2"


# --- SST-2's Penn Treebank text --------------------------------------------------------------

@pytest.mark.parametrize("ptb, typed", [
    ("it does n't work ", "it doesn't work"),
    ("it 's -lrb- sort of -rrb- great , really .", "it's (sort of) great, really."),
    ("-LRB- raw treebank -RRB- -lsb- x -rsb-", "(raw treebank) [x]"),
    ("ca n't , wo n't , is n't", "can't, won't, isn't"),
    ("you 'd think i 'm sure they 're fine and we 've said we 'll go", "you'd think i'm sure they're fine and we've said we'll go"),
    ("`` wow '' , he said .", '"wow", he said.'),
    ("a ` black culture ' film", "a 'black culture' film"),
    ("the film 's charm and the viewers ' time", "the film's charm and the viewers' time"),
    ("gon na , wan na , got ta", "gonna, wanna, gotta"),
    ("the 1990 's ; 50 % ? !", "the 1990's; 50%?!"),
    ("either\\/or", "either/or"),
    ("calvin jr. 's barbershop", "calvin jr.'s barbershop"),  # a clitic after punctuation (real SST-2 phrases)
    ("i 'd recommend `` ", 'i\'d recommend "'),  # a phrase cut after its opening quote
])
def test_detokenize_gives_what_people_type(ptb, typed):
    assert detokenize(ptb) == typed


@pytest.mark.parametrize("typed", ["I can't, it's 'fine' (really) \"yes\".", "Doesn't work: 50% off!", "plain words"])
def test_detokenize_leaves_typed_text_alone(typed):
    assert detokenize(typed) == typed


def test_tokenizer_reads_detokenized_sst_as_it_reads_typed_text():
    """The point of detokenizing: the word tokenizer splits `does n't` into does/n/t but keeps
    `doesn't` whole, so a model trained on raw SST-2 would never see the word people type."""
    from sentiment_lab.text.tokenizer import _normalizer, new_tokenizer

    tok, _ = new_tokenizer("word")
    norm = _normalizer()

    def words(text):
        return [w for w, _ in tok.pre_tokenizer.pre_tokenize_str(norm.normalize_str(text))]
    ptb, typed = "it does n't work , it 's -lrb- not -rrb- good", "It doesn't work, it's (not) good"
    assert words(ptb) != words(typed)
    assert words(detokenize(ptb)) == words(typed)
    assert "doesn't" in words(typed)


# --- readers, each format -------------------------------------------------------------------

def test_local_layout_loads_every_english_set_with_source_split_and_labels(shared):
    imdb = load_dataset("imdb", progress=False)
    assert len(imdb) == 24 and {r.source for r in imdb} == {"imdb"} and {r.split for r in imdb} == {"train", "test"}
    unsup = load_dataset("imdb-unsup", progress=False)
    assert [r.id for r in unsup] == ["unsup/1_0", "unsup/2_0", "unsup/10_0"]  # numeric order
    assert {r.label for r in unsup} == {UNLABELED} and {r.split for r in unsup} == {"unsup"}
    sst = load_dataset("sst2", progress=False)
    assert [sum(r.split == s for r in sst) for s in ("train", "val", "test")] == [6, 2, 4]
    assert sst[0].text == "it doesn't work" and sst[1].text == "a (sort of) gem, really"
    assert next(r for r in sst if r.split == "test").id == "test/0"
    assert load_dataset("sst2", raw=True, splits=["train"])[0].text == "it does n't work "
    blitzer = load_dataset("amazon-blitzer", progress=False)
    assert len(blitzer) == 20 and blitzer[0].id.startswith("books/") and {r.rating for r in blitzer} == {1, 5}
    assert sum(r.split == "test" for r in blitzer) == 4
    for records in (imdb, sst, blitzer):
        assert {r.label for r in records} == {0, 1} and len({r.id for r in records}) == len(records)


def test_sst2_from_glue_zip_has_no_test_split_and_says_why(tmp_path):
    z = glue_zip(tmp_path / "SST-2.zip")
    recs = load_dataset("sst2", path=z, check_counts=False)
    assert {r.split for r in recs} == {"train", "val"} and recs[0].text == "it doesn't work"
    with pytest.raises(DataError, match="sst2 from .* has no test split .*GLUE withholds SST-2's test labels"):
        load_dataset("sst2", path=z, splits=["train", "test"], check_counts=False)
    extracted = tmp_path / "x"
    zipfile.ZipFile(z).extractall(extracted)
    assert load_dataset("sst2", path=extracted, check_counts=False) == recs


def test_blitzer_official_archive_and_its_fixed_split(tmp_path):
    recs = load_dataset("amazon-blitzer", path=blitzer_tgz(tmp_path / "d.tar.gz"), check_counts=False)
    assert len(recs) == 40  # unlabeled.review is not read
    assert {r.id.split("/")[0] for r in recs} == {"books", "kitchen"}
    assert "lovely caf\xe9 thing 0" in {r.text for r in recs}  # latin-1 bytes read
    r0 = next(r for r in recs if r.id == "books/books:positive:0")
    assert r0.rating == 5 and r0.label == 1  # the first unique_id, not the numeric second one
    for dom in ("books", "kitchen"):
        for label in (0, 1):
            group = [r for r in recs if r.id.startswith(dom) and r.label == label]
            assert sum(r.split == "test" for r in group) == 2  # 20% per domain and label
    again = load_dataset("amazon-blitzer", path=blitzer_tgz(tmp_path / "e.tar.gz"), check_counts=False)
    assert [(r.id, r.split) for r in again] == [(r.id, r.split) for r in recs]  # a fixed draw


@pytest.mark.parametrize("name, folder, titled", [("yelp-polarity", "yelp_review_polarity_csv", False),
                                                  ("amazon-polarity", "amazon_review_polarity_csv", True)])
def test_zhang_csv_archives(tmp_path, name, folder, titled):
    tgz = zhang_tgz(tmp_path / f"{folder}.tgz", folder, titled)
    recs = load_dataset(name, path=tgz, check_counts=False)
    assert len(recs) == 12 and {r.split for r in recs} == {"train", "test"} and {r.source for r in recs} == {name}
    first = recs[0]
    assert first.label == 0 and first.id == "train/0"  # class 1 is negative
    assert first.text == ("Awful title\n" if titled else "") + 'awful place train 0\nsecond line, "quoted"'
    with tarfile.open(tgz) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    assert load_dataset(name, path=tmp_path / "x", check_counts=False) == recs
    bad = tmp_path / "bad" / folder
    bad.mkdir(parents=True)
    (bad / "train.csv").write_text('"3","x"\n' if not titled else '"3","t","x"\n')
    with pytest.raises(DataError, match=r"train\.csv: row 1: unknown label '3'; expected 1/2"):
        load_dataset(name, path=tmp_path / "bad", check_counts=False)


def test_allocine_official_archive_and_folder(tmp_path):
    members = allocine_members()
    tbz = _tar(tmp_path / "data.tar.bz2", members, mode="w:bz2")
    recs = load_dataset("allocine", path=tbz, check_counts=False)
    assert [sum(r.split == s for r in recs) for s in ("train", "val", "test")] == [4, 4, 4]
    assert recs[0].text == "Très bon film train 0" and recs[0].label == 1 and recs[1].label == 0
    folder = tmp_path / "allocine" / "data"
    folder.mkdir(parents=True)
    for name, data in members.items():
        (folder / Path(name).name).write_bytes(data)
    assert load_dataset("allocine", path=tmp_path / "allocine", check_counts=False) == recs


def test_imdb_unsup_from_the_official_archive_and_not_from_the_labeled_copy(tmp_path):
    full = write_imdb_archive(tmp_path / "aclImdb_v1.tar.gz")
    recs = load_dataset("imdb-unsup", path=full, check_counts=False)
    assert [(r.id, r.text, r.label) for r in recs] == [("unsup/0_0", "unlabeled review", UNLABELED)]
    labeled = write_imdb_archive(tmp_path / "labeled.tar.gz", extra_members=False)
    with pytest.raises(DataError, match="holds no unlabeled IMDB reviews"):
        load_dataset("imdb-unsup", path=labeled, check_counts=False)


def test_unreadable_files_are_one_line(tmp_path):
    junk = tmp_path / "junk.tgz"
    junk.write_bytes(b"not an archive" * 20)
    for name in ("yelp-polarity", "allocine", "amazon-blitzer", "sst2", "imdb-unsup"):
        with pytest.raises(DataError, match=r"cannot read .* \(corrupted or truncated\?\)|IMDB archive") as err:
            load_dataset(name, path=junk, check_counts=False)
        assert "\n" not in str(err.value)


def test_row_counts_are_checked(shared, monkeypatch):
    monkeypatch.setitem(DATASETS, "sst2", replace(DATASETS["sst2"], counts={"train": 67_349, "val": 872, "test": 1_821}))
    with pytest.raises(DataError, match=r"sst2: .* has 4 test rows, the dataset has 1,821; not a complete copy"):
        load_dataset("sst2")
    assert len(load_dataset("sst2", check_counts=False)) == 12


# --- resolution: local copy, cache, download -------------------------------------------------

class _Server(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    hits: list[str] = []
    cut = False

    def do_GET(self):  # noqa: N802
        _Server.hits.append(self.path)
        data = self.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2] if self.cut else data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A yelp-polarity archive served from 127.0.0.1, the registry pointed at it, an empty cache."""
    payload = zhang_tgz(tmp_path / "served.tgz", "yelp_review_polarity_csv", titled=False).read_bytes()
    _Server.files, _Server.hits, _Server.cut = {"/yelp.tgz": payload}, [], False
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/yelp.tgz"
    ds = replace(DATASETS["yelp-polarity"], url=url, sha256=hashlib.sha256(payload).hexdigest(),
                 counts={"train": 6, "test": 6})
    monkeypatch.setitem(DATASETS, "yelp-polarity", ds)
    monkeypatch.delenv("SENTIMENT_LAB_DATA", raising=False)
    monkeypatch.setenv("SENTIMENT_LAB_HOME", str(tmp_path / "home"))
    yield ds
    httpd.shutdown()


def test_download_once_into_the_cache(server, tmp_path):
    recs = load_dataset("yelp-polarity", progress=False)
    assert len(recs) == 12 and {r.source for r in recs} == {"yelp-polarity"}
    assert [p.name for p in (tmp_path / "home").iterdir()] == ["yelp_review_polarity_csv.tgz"]  # no .part left
    assert load_dataset("yelp-polarity", progress=False) == recs
    assert _Server.hits == ["/yelp.tgz"]  # the second load read the cache
    row = next(r for r in list_datasets() if r["name"] == "yelp-polarity")
    assert row["available"] == "cached" and row["path"].endswith("yelp_review_polarity_csv.tgz")


def test_checksum_mismatch_leaves_nothing(server, tmp_path, monkeypatch):
    monkeypatch.setitem(DATASETS, "yelp-polarity", replace(server, sha256="0" * 64))
    with pytest.raises(DataError, match=r"sha256 .*expected 0000.*offline\? set SENTIMENT_LAB_DATA to a folder "
                                        r"holding yelp_polarity/yelp_review_polarity_csv.tgz") as err:
        load_dataset("yelp-polarity", progress=False)
    assert "\n" not in str(err.value)
    assert list((tmp_path / "home").iterdir()) == []


def test_interrupted_or_failed_download_leaves_nothing(server, tmp_path, monkeypatch):
    _Server.cut = True
    with pytest.raises(DataError, match="interrupted"):
        load_dataset("yelp-polarity", progress=False)
    assert list((tmp_path / "home").iterdir()) == []
    monkeypatch.setitem(DATASETS, "yelp-polarity", replace(server, url=server.url.replace("yelp.tgz", "gone.tgz")))
    with pytest.raises(DataError, match=r"cannot download .*gone\.tgz: HTTP 404 Not Found"):
        load_dataset("yelp-polarity", progress=False)
    assert list((tmp_path / "home").iterdir()) == []


def test_a_corrupted_cached_file_says_how_to_fetch_it_again(server, tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "yelp_review_polarity_csv.tgz").write_bytes(b"garbage" * 10)
    with pytest.raises(DataError, match=r"cannot read .*delete .*yelp_review_polarity_csv\.tgz to download it again"):
        load_dataset("yelp-polarity", progress=False)
    assert _Server.hits == []


def test_local_copy_wins_over_cache_and_download(server, tmp_path, monkeypatch):
    root = tmp_path / "data"
    zhang_tgz(root / "yelp_polarity" / "yelp_review_polarity_csv.tgz", "yelp_review_polarity_csv", False, n=1)
    monkeypatch.setitem(DATASETS, "yelp-polarity", replace(server, counts={}))
    monkeypatch.setenv("SENTIMENT_LAB_DATA", str(root))
    assert len(load_dataset("yelp-polarity", progress=False)) == 4 and _Server.hits == []
    monkeypatch.setenv("SENTIMENT_LAB_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="SENTIMENT_LAB_DATA=.*nowhere is not a folder"):
        load_dataset("yelp-polarity")


def test_a_dataset_without_download_names_the_local_layout(tmp_path, monkeypatch):
    monkeypatch.setenv("SENTIMENT_LAB_DATA", str(tmp_path))
    with pytest.raises(DataError, match=r"marc-fr has no download .*holding french/marc_fr"):
        load_dataset("marc-fr")
    with pytest.raises(DataError, match="imdb data not found at"):
        load_dataset("imdb", path=tmp_path / "missing.tar.gz")


def test_list_datasets_for_the_cli(shared, tmp_path, monkeypatch):
    rows = {r["name"]: r for r in list_datasets()}
    assert set(rows) == set(dataset_names())
    assert {n for n, r in rows.items() if r["local"]} == {"imdb", "imdb-unsup", "sst2", "amazon-blitzer"}
    assert rows["imdb"]["available"] == "local" and rows["imdb"]["path"].endswith("aclImdb_v1_labeled.tar.gz")
    assert rows["allocine"]["available"] == "download" and rows["allocine"]["language"] == "fr"
    assert rows["marc-fr"]["available"] == "missing" and rows["marc-fr"]["research_only"]
    for r in rows.values():
        assert {"name", "language", "domain", "size", "terms", "local", "available", "path"} <= set(r)
    # verify: the tiny copies are not ../shared/data's, so their checksums do not match
    checked = {r["name"]: r["local_ok"] for r in list_datasets(verify=True)}
    assert checked["imdb"] is False and checked["allocine"] is None
    digest = hashlib.sha256((shared / "amazon_blitzer" / "reviews.csv.gz").read_bytes()).hexdigest()
    monkeypatch.setitem(DATASETS, "amazon-blitzer", replace(DATASETS["amazon-blitzer"],
                                                            local_sha256={"amazon_blitzer/reviews.csv.gz": digest}))
    assert datasets_mod.verify_local("amazon-blitzer") is True
