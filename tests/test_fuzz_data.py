"""Property-based tests of every data loader (Hypothesis, bounded and derandomized so that CI
runs the same examples every time): the IMDB archive and folder, the user's tables
(CSV/TSV/JSONL/Parquet) and the named datasets' readers. Any generated input gives records or
a one-line DataError (a SentimentLabError), never a traceback, and leaves the files it read as
they were (test_fuzz_cases.outcome). Minimal failing inputs found here live in
tests/fuzz_corpus/ and are replayed by test_fuzz_cases.py."""
from __future__ import annotations

import csv
import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from test_fuzz_cases import examples, fuzz_settings, run_case
from sentiment_lab.data.records import MAX_REVIEW_BYTES, Record

FUZZ = fuzz_settings()


def run(case: dict):
    result = run_case(case, ok="records")
    if isinstance(result, list):
        assert all(isinstance(r, Record) and isinstance(r.text, str) and r.label in (-1, 0, 1) for r in result)
    return result


# --- pieces -------------------------------------------------------------------------------------

ODD_TEXT = st.sampled_from(["", " ", "\x00", "\ufeff", "\r\n", "\n", "\u2028", '"', "'", "\\n", "é", "😀", "\udcff",
                            "<br />", "a" * 300, "\t", ",", "NaN", "nan", "-1", "1e400", "-1e308", "inf", "1", "0",
                            "pos", "neg", "positive", "true", "2", "5", "4.5", "None", "null"])
CELL = st.one_of(ODD_TEXT, st.text(max_size=12), st.integers(-10**20, 10**20).map(str),
                 st.floats(allow_nan=True, allow_infinity=True).map(repr))
TEXT = st.text(st.characters(codec="utf-8"), max_size=40).map(lambda t: t.encode("utf-8"))
BYTES = st.one_of(TEXT, TEXT, TEXT, TEXT, st.binary(max_size=40),
                  ODD_TEXT.map(lambda t: t.encode("utf-8", "surrogateescape")),
                  st.just(b"\xff\xfe bad utf-8 \x80"), st.just({"zeros": MAX_REVIEW_BYTES + 1}),
                  st.just({"repeat": "great film ", "times": MAX_REVIEW_BYTES // 11 + 1}))
NUMBER = st.integers(0, 12499).map(str)
DIGITS = st.one_of(*[NUMBER] * 8, st.sampled_from(["00", "٣", "9" * 5000, "1" * 19, "", "10"]))
REVIEW_NAME = st.builds(
    lambda pre, split, pol, idx, rating, suf: f"{pre}aclImdb/{split}/{pol}/{idx}_{rating}.txt{suf}",
    st.sampled_from([""] * 30 + ["./", "../", "/", "x/", "a/../", "aclImdb/../", "\n", "é/", "x\n/"]),
    st.sampled_from(["train", "test"] * 4 + ["unsup", "val"]), st.sampled_from(["pos", "neg"] * 4 + ["unsup"]),
    DIGITS, DIGITS, st.sampled_from([""] * 24 + ["\n", "/", ".gz", " "]))
NAME = st.one_of(REVIEW_NAME, REVIEW_NAME, REVIEW_NAME, REVIEW_NAME, st.text(max_size=20),
                 st.sampled_from(["aclImdb/README", "aclImdb/train/labeledBow.feat", "aclImdb", "aclImdb/train/pos",
                                  "aclImdb/train/pos/", ".", "..", "/", ""]),
                 REVIEW_NAME.map(lambda n: b"\xff\xfe/" + n.encode("utf-8")))
KIND = st.sampled_from(["file"] * 12 + ["dir", "symlink", "hardlink", "chr", "blk", "fifo", "cont", "old"])
LINK = st.sampled_from(["aclImdb/train/pos/0_9.txt", "../../etc/passwd", "/dev/zero", "", "x"])


PAX_KEY = st.sampled_from(["size", "mtime", "path", "linkpath", "uid", "uname", "comment", "hdrcharset",
                           "GNU.sparse.size", "GNU.sparse.map", "GNU.sparse.numblocks", "GNU.sparse.offset",
                           "GNU.sparse.numbytes", "GNU.sparse.name", "GNU.sparse.realsize", "GNU.sparse.major",
                           "GNU.sparse.minor", "SCHILY.xattr.user.x"])
PAX_VALUE = st.one_of(st.sampled_from(["-1", "abc", "0", "1,2", "1,", "99999999999", "9" * 5000, "", "BINARY",
                                       "1.5", "\x00"]), st.integers(-5, 2000).map(str), st.text(max_size=6))
PAX = st.one_of(st.none(), st.none(), st.none(), st.dictionaries(PAX_KEY, PAX_VALUE, min_size=1, max_size=3))


def members(name: st.SearchStrategy = NAME, data: st.SearchStrategy = BYTES, max_size: int = 6):
    return st.lists(st.fixed_dictionaries({"name": name, "kind": KIND, "data": data, "linkname": LINK, "pax": PAX}),
                    min_size=1, max_size=max_size)


def archive(name: st.SearchStrategy = NAME, data: st.SearchStrategy = BYTES, compression=None):
    return st.fixed_dictionaries({
        "members": members(name, data),
        "compression": compression if compression is not None else st.sampled_from(["gz", "gz", "bz2", "xz", ""]),
        "format": st.sampled_from(["pax", "gnu", "ustar"]),
        "cut": st.one_of(st.none(), st.none(), st.none(), st.integers(0, 3000), st.integers(0, 24))})


# --- IMDB ---------------------------------------------------------------------------------------

@FUZZ
@given(spec=archive(), splits=st.sampled_from([("train", "test"), ("train",), ("test",), ()]))
def test_imdb_archive(spec, splits):
    run({"loader": "imdb_archive", "archive": spec, "name": "aclImdb_v1.tar.gz", "splits": list(splits)})


FOLDER_NAME = st.one_of(
    st.builds(lambda split, pol, idx, rating, ext: f"aclImdb/{split}/{pol}/{idx}_{rating}{ext}",
              st.sampled_from(["train", "test"]), st.sampled_from(["pos", "neg"]), DIGITS.filter(bool),
              DIGITS.filter(bool), st.sampled_from([".txt", ".txt", ".TXT", ".txt.txt", ""])),
    st.builds(lambda split, pol, n: f"aclImdb/{split}/{pol}/{n}", st.sampled_from(["train", "test"]),
              st.sampled_from(["pos", "neg"]), st.text(st.characters(blacklist_characters="/\x00"), min_size=1,
                                                        max_size=12)),
    st.sampled_from(["aclImdb/train/pos", "aclImdb/train", "aclImdb", "aclImdb/test/neg/sub/1_2.txt"]))
FOLDER_ENTRY = st.fixed_dictionaries({
    "path": FOLDER_NAME, "kind": st.sampled_from(["file"] * 5 + ["dir", "symlink", "fifo"]), "data": BYTES,
    "target": st.sampled_from(["/dev/zero", "/dev/null", "../../..", "missing.txt", ".", "0_9.txt", "/"])})


@FUZZ
@given(entries=st.lists(FOLDER_ENTRY, max_size=6), root=st.sampled_from(["aclImdb", "data"]))
def test_imdb_folder(entries, root):
    tree = [dict(e, path=e["path"] if root == "data" else e["path"].removeprefix("aclImdb/").removeprefix("aclImdb"))
            for e in entries]
    tree = [e for e in tree if e["path"]]
    run({"loader": "imdb_folder", "tree": tree, "name": root})


# --- the user's tables --------------------------------------------------------------------------

COLUMN = st.one_of(st.sampled_from(["text", "label", "rating", "", "text", "label", "a\nb", "\ufefftext", "0"]),
                   st.text(max_size=6))
HEADER = st.one_of(st.just(["text", "label"]), st.just(["text", "label"]), st.just(["label", "text", "rating"]),
                   st.lists(COLUMN, max_size=4))
PLAIN = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30)
REVIEW = st.one_of(PLAIN, PLAIN, PLAIN, PLAIN, PLAIN, CELL)
VALID_LABEL = st.sampled_from(["0", "1", "pos", "neg", "positive", "negative", "true", "false", "1.0", "0.0"])
LABEL = st.one_of(VALID_LABEL, VALID_LABEL, VALID_LABEL, VALID_LABEL, VALID_LABEL, CELL)
ARGS = st.one_of(st.just({}), st.just({}), st.fixed_dictionaries({}, optional={
    "text_column": st.sampled_from(["text", "text", "text", "label", "", "missing", "0", "a\nb"]),
    "label_column": st.sampled_from(["label", "label", "label", "text", "rating", "missing", "a\nb"]),
    "rating_threshold": st.one_of(st.none(), st.sampled_from([0.0, 4.0, -1.0, float("nan"), float("inf"), 1e308]))}))


def _csv(header: list, rows: list, sep: str) -> str:
    out = io.StringIO()
    if sep == "\t":
        for line in [header, *rows]:
            out.write("\t".join(line) + "\n")
    else:
        w = csv.writer(out)
        w.writerow(header)
        w.writerows(rows)
    return out.getvalue()


@st.composite
def table_rows(draw, header: list) -> list[list[str]]:
    """Rows for `header`: a review under text, a label under label, anything elsewhere; now and
    then a row of another width (ragged)."""
    cell = {"text": PLAIN, "label": VALID_LABEL, "rating": st.integers(1, 10).map(str)}
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        odd = draw(st.integers(0, 11))
        if odd == 0:
            rows.append(draw(st.lists(CELL, max_size=len(header) + 2)))
        else:
            rows.append([draw(cell.get(str(name), CELL) if odd > 2 else CELL) for name in header])
    return rows


@st.composite
def delimited(draw, sep: str) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=200))
    header = draw(HEADER)
    text = _csv(header, draw(table_rows(header)), sep)
    encoding = draw(st.sampled_from(["utf-8"] * 12 + ["utf-8-sig", "utf-16", "latin-1"]))
    data = text.encode(encoding, "surrogateescape" if encoding.startswith("utf-8") else "replace")
    cut = draw(st.one_of(st.none(), st.none(), st.none(), st.integers(0, len(data))))
    return data if cut is None else data[:cut]


JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.floats() | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=6)
JSON_LABEL = st.one_of(st.sampled_from([0, 1, True, False, "pos", "neg", 1.0, 4, None]), LABEL, JSON)
GOOD_ROW = st.fixed_dictionaries({"text": PLAIN, "label": st.one_of(VALID_LABEL, st.sampled_from([0, 1, True, 1.0]))})
JSON_ROW = st.one_of(
    *[GOOD_ROW] * 8,
    st.fixed_dictionaries({"text": REVIEW, "label": JSON_LABEL}),
    st.fixed_dictionaries({}, optional={"text": st.one_of(CELL, JSON), "label": st.one_of(CELL, JSON),
                                        "rating": JSON}),
    JSON)
DEEP = "[" * 100_000  # json and tomllib recurse: RecursionError, not a parse error
HUGE = '{"text": "x", "label": ' + "1" * 5000 + "}"  # int()'s 4,300-digit limit: ValueError, not a parse error


@st.composite
def jsonl(draw) -> bytes:
    lines = []
    for row in draw(st.lists(JSON_ROW, min_size=1, max_size=6)):
        kind = draw(st.integers(0, 39))
        lines.append("" if kind == 0 else "{not json" if kind == 1 else DEEP if kind == 2 else HUGE if kind == 3 else
                     json.dumps(row, allow_nan=True))
    data = "\n".join(lines).encode("utf-8", "surrogateescape")
    return (b"\xef\xbb\xbf" + data) if draw(st.integers(0, 9)) == 0 else data


PARQUET_VALUES = {
    "str": st.one_of(st.none(), CELL), "int": st.one_of(st.none(), st.integers(-2**63, 2**63 - 1)),
    "float": st.one_of(st.none(), st.floats()), "bool": st.one_of(st.none(), st.booleans()),
    "bytes": st.one_of(st.none(), st.binary(max_size=8)), "null": st.none(),
    "list": st.one_of(st.none(), st.lists(st.integers(-5, 5), max_size=2))}
PARQUET_COLUMN = st.tuples(COLUMN, st.sampled_from(sorted(PARQUET_VALUES))).flatmap(
    lambda nk: st.lists(PARQUET_VALUES[nk[1]], max_size=4).map(lambda vals: [nk[0], nk[1], vals]))
PARQUET_TEXT = st.lists(REVIEW, min_size=3, max_size=3).map(lambda v: ["text", "str", v])
PARQUET_LABEL = st.one_of(st.lists(st.integers(0, 1), min_size=3, max_size=3).map(lambda v: ["label", "int", v]),
                          st.lists(st.booleans(), min_size=3, max_size=3).map(lambda v: ["label", "bool", v]),
                          st.lists(LABEL, min_size=3, max_size=3).map(lambda v: ["label", "str", v]),
                          st.lists(st.floats(), min_size=3, max_size=3).map(lambda v: ["label", "float", v]))
PARQUET_COLUMNS = st.one_of(st.tuples(PARQUET_TEXT, PARQUET_LABEL).map(list),
                            st.tuples(PARQUET_TEXT, PARQUET_LABEL, PARQUET_COLUMN).map(list),
                            st.tuples(PARQUET_TEXT, PARQUET_LABEL).map(list),
                            st.lists(PARQUET_COLUMN, max_size=4))


@FUZZ
@given(data=delimited(","), args=ARGS, name=st.sampled_from(["t.csv", "t.CSV"]))
def test_csv_table(data, args, name):
    run({"loader": "table", "name": name, "data": data, "args": args})


@FUZZ
@given(data=delimited("\t"), args=ARGS)
def test_tsv_table(data, args):
    run({"loader": "table", "name": "t.tsv", "data": data, "args": args})


@FUZZ
@given(data=jsonl(), args=ARGS, name=st.sampled_from(["t.jsonl", "t.json"]))
def test_jsonl_table(data, args, name):
    run({"loader": "table", "name": name, "data": data, "args": args})


@settings(FUZZ, max_examples=examples(100))
@given(columns=PARQUET_COLUMNS, args=ARGS, cut=st.one_of(st.none(), st.none(), st.integers(0, 400)))
def test_parquet_table(columns, args, cut):
    case = {"loader": "table", "name": "t.parquet", "parquet": columns, "args": args}
    if cut is not None:
        from test_fuzz_cases import parquet_bytes

        case = {"loader": "table", "name": "t.parquet", "data": parquet_bytes(columns)[:cut], "args": args}
    run(case)


# --- the named datasets -------------------------------------------------------------------------

def _lines(row: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(row, max_size=5).map(lambda rows: {"lines": rows})


def _rows(valid: st.SearchStrategy, odd: st.SearchStrategy) -> st.SearchStrategy:
    """Lines that are mostly valid rows, with an odd one now and then."""
    return st.lists(st.one_of(valid, valid, valid, valid, odd), max_size=5)


TSV_ROW = st.builds(lambda t, lab: f"{t}\t{lab}", REVIEW, LABEL)
TSV = st.one_of(_rows(TSV_ROW, st.lists(CELL, max_size=3).map("\t".join)).map(
    lambda rows: {"lines": ["sentence\tlabel", *rows]}), _lines(st.lists(CELL, max_size=3).map("\t".join)))
ZHANG_ROW = st.builds(lambda lab, t: _csv([lab, t], [], ",").rstrip("\r\n"),
                      st.sampled_from(["1", "2", "2", "1", "0", "3", ""]), REVIEW)
ZHANG_TITLED = st.builds(lambda lab, ti, t: _csv([lab, ti, t], [], ",").rstrip("\r\n"),
                         st.sampled_from(["1", "2", "0"]), REVIEW, REVIEW)
ZHANG = _rows(st.one_of(ZHANG_ROW, ZHANG_TITLED),
              st.lists(CELL, max_size=4).map(lambda cells: _csv(cells, [], ",").rstrip("\r\n"))).map(
                  lambda rows: {"lines": rows})
ALLOCINE_ROW = st.builds(lambda t, p: json.dumps({"film-url": "u", "review": t, "polarity": p}), REVIEW,
                         st.one_of(st.sampled_from([0, 1]), JSON_LABEL))
ALLOCINE = _rows(ALLOCINE_ROW, st.one_of(
    st.fixed_dictionaries({}, optional={"review": st.one_of(CELL, JSON), "polarity": st.one_of(CELL, JSON),
                                        "film-url": JSON}).map(json.dumps),
    JSON.map(json.dumps), st.sampled_from(["{broken", "", DEEP, HUGE.replace('"text"', '"review"')]))).map(
        lambda rows: {"lines": rows})
UNSUP = _rows(st.builds(lambda i, t: json.dumps({"id": i, "text": t}), st.one_of(st.integers(0, 99), JSON), REVIEW),
              st.one_of(JSON.map(json.dumps), st.sampled_from(["[1,2]", "{broken", DEEP, HUGE, '{"id": "1\u00b22"}',
                                                              '{"id": "' + "9" * 5000 + '", "text": "x"}']))).map(
    lambda rows: {"gz": {"lines": rows}})
BLITZER_FIELD = st.sampled_from(["unique_id", "rating", "title", "review_text", "asin"])
BLITZER_REVIEW = st.one_of(
    st.builds(lambda i, r, t: f"<review>\n<unique_id>\n{i}\n</unique_id>\n<rating>\n{r}\n</rating>\n"
                              f"<review_text>\n{t}\n</review_text>\n</review>",
              st.integers(0, 99), st.one_of(st.sampled_from(["1.0", "5.0", "4"]), CELL), REVIEW),
    st.lists(st.tuples(BLITZER_FIELD, CELL), max_size=4).map(
        lambda fields: "<review>\n" + "".join(f"<{k}>\n{v}\n</{k}>\n" for k, v in fields) + "</review>"))
BLITZER = st.lists(BLITZER_REVIEW, max_size=4).map(lambda rows: {"lines": rows})
CSV_HEADER = st.one_of(st.just(["text", "label"]), st.just(["idx", "text", "label", "rating"]),
                       st.just(["text", "label", "domain", "split", "unique_id", "rating"]),
                       st.lists(st.sampled_from(["text", "label", "rating", "idx", "domain", "split", "unique_id"]),
                                max_size=7))


@st.composite
def csv_gz(draw) -> dict:
    header = draw(CSV_HEADER)
    cell = {"text": REVIEW, "label": LABEL, "rating": st.one_of(st.integers(1, 5).map(str), CELL),
            "split": st.sampled_from(["train", "test", "val", "x"]), "domain": st.sampled_from(["books", "dvd"])}
    rows = [[draw(cell.get(name, CELL)) for name in header] for _ in range(draw(st.integers(0, 4)))]
    if draw(st.integers(0, 5)) == 0:
        rows.append(draw(st.lists(CELL, max_size=8)))
    return {"gz": _csv(header, rows, ",")}


CSV_GZ = csv_gz()


def _member(name: str, data) -> dict:
    return {"name": name, "kind": "file", "data": data}


DATASET_INPUTS = st.one_of(
    # SST-2: GLUE's zip, its folder of TSVs, or the ../shared/data layout of csv.gz files
    st.builds(lambda ms, cut: {"dataset": "sst2", "name": "SST-2.zip", "zip": {"members": ms, "cut": cut}},
              st.lists(st.builds(_member, st.sampled_from(["SST-2/train.tsv", "SST-2/dev.tsv", "SST-2/test.tsv",
                                                           "train.tsv", "x/dev.tsv", "SST-2/"]),
                                 st.one_of(TSV, TSV, BYTES)), min_size=1, max_size=3),
              st.one_of(st.none(), st.none(), st.integers(0, 600))),
    st.builds(lambda files: {"dataset": "sst2", "name": "sst2", "tree": files},
              st.lists(st.builds(lambda n, d: {"path": n, "data": d},
                                 st.sampled_from(["train.csv.gz", "dev.csv.gz", "test.csv", "SST-2/train.tsv",
                                                  "train.tsv", "dev.tsv"]),
                                 st.one_of(CSV_GZ, CSV_GZ, TSV, BYTES)), min_size=1, max_size=3)),
    # Zhang et al.'s CSV archives (Yelp, Amazon polarity)
    st.builds(lambda ds, ms: {"dataset": ds, "name": "x_csv.tgz", "archive": ms},
              st.sampled_from(["yelp-polarity", "amazon-polarity"]),
              archive(st.sampled_from(["x_csv/train.csv", "x_csv/test.csv", "train.csv", "x_csv/readme.txt"]),
                      st.one_of(ZHANG, ZHANG, BYTES), st.just("gz"))),
    # Allociné
    st.builds(lambda ms: {"dataset": "allocine", "name": "data.tar.bz2", "archive": ms},
              archive(st.sampled_from(["data/train.jsonl", "data/val.jsonl", "data/test.jsonl", "test.jsonl",
                                       "data/other.jsonl"]),
                      st.one_of(ALLOCINE, ALLOCINE, BYTES), st.just("bz2"))),
    # Blitzer: the official archive or the ../shared/data reviews.csv.gz
    st.builds(lambda ms: {"dataset": "amazon-blitzer", "name": "domain_sentiment_data.tar.gz", "archive": ms},
              archive(st.sampled_from(["sorted_data_acl/books/positive.review", "sorted_data_acl/dvd/negative.review",
                                       "sorted_data_acl/toys/positive.review", "sorted_data_acl/books/unlabeled.review"]),
                      st.one_of(BLITZER, BLITZER, BYTES), st.just("gz"))),
    st.builds(lambda d: {"dataset": "amazon-blitzer", "name": "reviews.csv.gz", "file": d},
              st.one_of(CSV_GZ, CSV_GZ, BYTES)),
    # IMDB's unlabeled reviews: the JSONL copy or the official archive
    st.builds(lambda d: {"dataset": "imdb-unsup", "name": "train_unsup.jsonl.gz", "file": d},
              st.one_of(UNSUP, UNSUP, BYTES)),
    st.builds(lambda ms: {"dataset": "imdb-unsup", "name": "aclImdb_v1.tar.gz", "archive": ms},
              archive(st.sampled_from(["aclImdb/train/unsup/1_0.txt", "aclImdb/train/unsup/x.txt",
                                       "x/aclImdb/train/unsup/22_0.txt"]), BYTES, st.just("gz"))),
    # the csv.gz folders (marc-fr, cls-books-fr)
    st.builds(lambda ds, files: {"dataset": ds, "name": "folder", "tree": files},
              st.sampled_from(["marc-fr", "cls-books-fr"]),
              st.lists(st.builds(lambda n, d: {"path": n, "data": d},
                                 st.sampled_from(["train_sample.csv.gz", "train.csv.gz", "test.csv", "valid.csv.gz"]),
                                 st.one_of(CSV_GZ, CSV_GZ, BYTES)), min_size=1, max_size=3)),
)


@settings(FUZZ, max_examples=examples(200))
@given(spec=DATASET_INPUTS)
def test_named_dataset_readers(spec):
    run({"loader": "dataset", **spec})
