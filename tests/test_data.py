import hashlib
import http.server
import io
import tarfile
import threading
from pathlib import Path

import pandas as pd
import pytest

from sentiment_lab.config import DataConfig
from sentiment_lab.data import load_imdb, load_splits, load_table
from sentiment_lab.data import imdb as imdb_mod
from sentiment_lab.data.records import MAX_REVIEW_BYTES
from sentiment_lab.exceptions import DataError, InputError


def test_archive_records(imdb_archive):
    recs = load_imdb(imdb_archive)
    assert len(recs) == 24  # unsup, README and .feat members are ignored
    r = next(r for r in recs if r.split == "train" and r.label == 1)
    assert r.rating == 9 and r.id.startswith("train/pos/") and "great" in r.text
    assert {r.split for r in recs} == {"train", "test"}


def test_folder_equals_archive(imdb_archive, tmp_path):
    with tarfile.open(imdb_archive) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    assert load_imdb(tmp_path / "x" / "aclImdb") == load_imdb(imdb_archive)
    assert load_imdb(tmp_path / "x") == load_imdb(imdb_archive)


def test_corrupted_and_truncated_archive(imdb_archive, tmp_path):
    data = imdb_archive.read_bytes()
    trunc = tmp_path / "trunc.tar.gz"
    trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="cannot read IMDB archive"):
        load_imdb(trunc)
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive at all" * 10)
    with pytest.raises(DataError, match="cannot read IMDB archive") as err:
        load_imdb(junk)
    assert "\n" not in str(err.value)  # tarfile's message lists each compression it tried, one per line
    with pytest.raises(DataError, match="not found"):
        load_imdb(tmp_path / "missing.tar.gz")


class _Handler(http.server.BaseHTTPRequestHandler):
    payload = b""
    cut = False

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        self.wfile.write(self.payload[: len(self.payload) // 2] if self.cut else self.payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(imdb_archive):
    _Handler.payload = imdb_archive.read_bytes()
    _Handler.cut = False
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/aclImdb_v1.tar.gz", hashlib.sha256(_Handler.payload).hexdigest()
    httpd.shutdown()


def test_download_to_cache_and_load(server, tmp_path, monkeypatch):
    url, digest = server
    monkeypatch.setenv("SENTIMENT_LAB_HOME", str(tmp_path / "home"))
    recs = load_imdb(None, url=url, sha256=digest, progress=False)
    assert len(recs) == 24
    assert (tmp_path / "home" / "aclImdb_v1.tar.gz").exists()
    assert list((tmp_path / "home").iterdir()) == [tmp_path / "home" / "aclImdb_v1.tar.gz"]  # no .part left


def test_download_checksum_mismatch_leaves_nothing(server, tmp_path):
    url, _ = server
    with pytest.raises(DataError, match="sha256"):
        imdb_mod.download(tmp_path / "dl" / "a.tar.gz", url=url, sha256="0" * 64, progress=False)
    assert list((tmp_path / "dl").iterdir()) == []


def test_interrupted_download_leaves_nothing(server, tmp_path):
    url, digest = server
    _Handler.cut = True
    with pytest.raises(DataError):
        imdb_mod.download(tmp_path / "dl" / "a.tar.gz", url=url, sha256=digest, progress=False)
    assert list((tmp_path / "dl").iterdir()) == []


def test_offline_download_is_a_clear_error(tmp_path, monkeypatch):
    dead = "http://127.0.0.1:9/none.tar.gz"
    with pytest.raises(DataError, match="cannot download"):
        imdb_mod.download(tmp_path / "dl" / "a.tar.gz", url=dead, progress=False, timeout=2)
    assert list((tmp_path / "dl").iterdir()) == []
    monkeypatch.setenv("SENTIMENT_LAB_HOME", str(tmp_path / "home"))  # the commands that read data suggest --data
    with pytest.raises(DataError, match="cannot download .*offline.*--data"):
        load_imdb(None, url=dead, progress=False)


def test_download_refuses_a_plain_path_and_a_folder_destination(server, tmp_path):
    url, digest = server
    with pytest.raises(DataError, match="not a URL"):
        imdb_mod.download(tmp_path / "a.tar.gz", url=str(tmp_path / "x.tar.gz"), progress=False)
    (tmp_path / "dir").mkdir()
    with pytest.raises(InputError, match="is a folder"):
        imdb_mod.download(tmp_path / "dir", url=url, sha256=digest, progress=False)
    assert list((tmp_path / "dir").iterdir()) == [] and not (tmp_path / "a.tar.gz").exists()


ROWS = pd.DataFrame({"review": ["good film", "bad film", "great", "awful", "fine", "poor"],
                     "sentiment": ["pos", "negative", "TRUE", "0", "positive", "neg"]})


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_tables(tmp_path, suffix):
    path = tmp_path / f"d{suffix}"
    {".csv": lambda: ROWS.to_csv(path, index=False), ".tsv": lambda: ROWS.to_csv(path, sep="\t", index=False),
     ".jsonl": lambda: ROWS.to_json(path, orient="records", lines=True),
     ".parquet": lambda: ROWS.to_parquet(path)}[suffix]()
    recs = load_table(path, "review", "sentiment")
    assert [r.label for r in recs] == [1, 0, 1, 0, 1, 0]
    assert recs[0].text == "good film"


def test_star_ratings_with_threshold(tmp_path):
    path = tmp_path / "stars.csv"
    pd.DataFrame({"text": ["a", "b", "c"], "stars": [5, 2, 4]}).to_csv(path, index=False)
    recs = load_table(path, "text", "stars", rating_threshold=4)
    assert [r.label for r in recs] == [1, 0, 1] and recs[0].rating == 5


def test_table_errors_name_file_row_and_value(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame({"text": ["a", "b"], "label": ["pos", "maybe"]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"d\.csv: row 2: unknown label 'maybe'"):
        load_table(path)
    with pytest.raises(DataError, match=r"no column 'review'; columns are text, label"):
        load_table(path, text_column="review")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"text,label\n\xff\xfe,1\n")
    with pytest.raises(DataError, match="not valid UTF-8"):
        load_table(bad)
    with pytest.raises(DataError, match="unknown file type"):
        load_table(_touch(tmp_path / "d.xml"))


def test_star_ratings_missing_infinite_or_without_threshold(tmp_path):
    """A null rating crashed training with "cannot convert float NaN to integer" (and would have
    counted as negative); star ratings without a threshold only said "unknown label '3'"."""
    stars = tmp_path / "s.jsonl"
    pd.DataFrame({"review": ["great", "awful", "fine"], "stars": [5, 1, None]}).to_json(stars, orient="records",
                                                                                      lines=True)
    with pytest.raises(DataError, match=r"row 3: unknown label nan; expected a number"):
        load_table(stars, "review", "stars", rating_threshold=4)
    pd.DataFrame({"review": ["great", "awful"], "stars": ["5", "inf"]}).to_csv(tmp_path / "i.csv", index=False)
    with pytest.raises(DataError, match="row 2: unknown label 'inf'"):
        load_table(tmp_path / "i.csv", "review", "stars", rating_threshold=4)
    pd.DataFrame({"review": ["great", "awful"], "stars": [5, 1]}).to_csv(tmp_path / "n.csv", index=False)
    with pytest.raises(DataError, match="row 1: unknown label '5'; expected 0/1; for star ratings pass a rating"):
        load_table(tmp_path / "n.csv", "review", "stars")
    nums = tmp_path / "t.jsonl"
    pd.DataFrame({"text": ["good", 10], "label": [1, 0]}).to_json(nums, orient="records", lines=True)
    with pytest.raises(DataError, match="row 2: text must be a string, got int 10"):
        load_table(nums)


@pytest.mark.parametrize("line", ["[1, 2]", '"text"', "3", "null"])
def test_a_jsonl_line_that_is_not_an_object_is_one_line_naming_it(tmp_path, line):
    """Hardening finding: such a line was pandas' TypeError, a traceback in `train --data
    file.jsonl` (`predict -i` said it in one line)."""
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "good", "label": 1}\n\n' + line + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"d\.jsonl: line 3: not a JSON object") as err:
        load_table(path)
    assert len(str(err.value).splitlines()) == 1
    with pytest.raises(DataError, match=r"line 3: not a JSON object"):  # what train --data file.jsonl calls
        load_splits(DataConfig(source=str(path)))


def _tar_of(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_an_archive_member_over_the_review_bound_is_refused_before_it_is_read(tmp_path, monkeypatch):
    """Hardening finding: each review member was read whole (a 306 KB .tar.gz holding a 300 MB
    member of zeros peaked at 789 MB RSS). Its tar header's size is checked first."""
    big = tmp_path / "big.tar.gz"
    _tar_of(big, {"aclImdb/train/pos/0_9.txt": b"A fine film.", "aclImdb/train/pos/1_9.txt": bytes(MAX_REVIEW_BYTES + 1)})
    opened = []
    extract = tarfile.TarFile.extractfile
    monkeypatch.setattr(tarfile.TarFile, "extractfile", lambda tar, m: opened.append(m.name) or extract(tar, m))
    with pytest.raises(DataError, match=r"1_9\.txt: 1,048,577 bytes, more than one review may hold "
                                        r"\(1,048,576, MAX_REVIEW_BYTES\)") as err:
        load_imdb(big)
    assert opened == ["aclImdb/train/pos/0_9.txt"] and "\n" not in str(err.value)
    at_bound = _tar_of(tmp_path / "ok.tar.gz", {"aclImdb/train/pos/1_9.txt": b"a" * MAX_REVIEW_BYTES})
    assert len(load_imdb(at_bound)[0].text) == MAX_REVIEW_BYTES
    folder = tmp_path / "aclImdb" / "train" / "neg"
    folder.mkdir(parents=True)
    (folder / "3_1.txt").write_bytes(bytes(MAX_REVIEW_BYTES + 1))
    with pytest.raises(DataError, match="more than one review may hold"):
        load_imdb(tmp_path / "aclImdb")


def _touch(p: Path) -> Path:
    p.write_text("x")
    return p


def test_split_is_stratified_and_seeded(imdb_archive):
    cfg = DataConfig(path=str(imdb_archive), val_fraction=0.5)
    a, b = load_splits(cfg, seed=3, progress=False), load_splits(cfg, seed=3, progress=False)
    assert [r.id for r in a.val] == [r.id for r in b.val]
    assert sum(r.label for r in a.val) == len(a.val) // 2
    assert not {r.id for r in a.val} & {r.id for r in a.train}
    assert len(a.test) == 12


def _records(n_per_label: int):
    from sentiment_lab.data import Record

    return [Record(text=f"review {i}", label=label, split="train", id=f"train/{name}/{i}", rating=None)
            for label, name in ((1, "pos"), (0, "neg")) for i in range(n_per_label)]


def test_block_split_takes_whole_runs_of_consecutive_ids_per_label():
    from sentiment_lab.data import VAL_BLOCK, split_train_val

    recs = _records(1000)
    train, val = split_train_val(recs, 0.2, seed=7, how="blocks")
    assert len(val) == 400 and sum(r.label for r in val) == 200  # stratified, exact fraction
    assert {r.id for r in train} | {r.id for r in val} == {r.id for r in recs}
    assert not {r.id for r in train} & {r.id for r in val}
    for name in ("pos", "neg"):
        ids = sorted(int(r.id.rsplit("/", 1)[1]) for r in val if f"/{name}/" in r.id)
        # whole blocks: every validation id's block (id // VAL_BLOCK) is entirely in validation
        blocks = {i // VAL_BLOCK for i in ids}
        assert len(ids) == len(blocks) * VAL_BLOCK
    # seeded: the same seed gives the same blocks, another seed other blocks
    assert [r.id for r in split_train_val(recs, 0.2, seed=7, how="blocks")[1]] == [r.id for r in val]
    assert {r.id for r in split_train_val(recs, 0.2, seed=8, how="blocks")[1]} != {r.id for r in val}
    # a random split of the same records scatters validation over nearly every block
    rand_val = split_train_val(recs, 0.2, seed=7)[1]
    assert len({(r.label, int(r.id.rsplit("/", 1)[1]) // VAL_BLOCK) for r in rand_val}) == 20


def test_block_split_orders_ids_numerically_and_trims_the_last_block():
    from sentiment_lab.data import split_train_val

    recs = _records(250)  # blocks of 100, 100, 50 per label; 20% = 50 reviews per label
    train, val = split_train_val(recs, 0.2, seed=0, how="blocks")
    assert len(val) == 100 and len(train) == 400
    for name in ("pos", "neg"):
        ids = sorted(int(r.id.rsplit("/", 1)[1]) for r in val if f"/{name}/" in r.id)
        assert ids == list(range(ids[0], ids[0] + 50))  # one contiguous run (9 < 10 < 100 numerically)


def test_val_split_setting_is_validated_and_used(imdb_archive):
    from sentiment_lab.config import load_config
    from sentiment_lab.exceptions import ConfigError

    with pytest.raises(ConfigError, match="val_split"):
        load_config("seed", ["data.val_split=movies"])
    cfg = load_config("seed", [f"data.path={imdb_archive}", "data.val_split=blocks", "data.val_fraction=0.5"]).data
    s = load_splits(cfg, seed=1, progress=False)
    assert len(s.val) == 6 and sum(r.label for r in s.val) == 3 and len(s.test) == 12
