"""Chunked, resumable batch prediction (streaming.py and `predict --input`): every format in
and out, the same answers as predicting all at once, resumption after an interruption that
skips what was written, and no partial output on errors."""
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sentiment_lab.inference.classifier import SentimentClassifier
from sentiment_lab.exceptions import DataError, InputError
from sentiment_lab.inference.streaming import read_chunks, predict_stream

TEXTS = [f"{w} film number {i}" for i, w in enumerate(["a great", "an awful", "a dull", "a wonderful", "a boring",
                                                       "a lovely", "a terrible"] * 3)]  # 21 rows


@pytest.fixture(scope="module")
def clf(tiny_bundle):
    return SentimentClassifier.from_pretrained(tiny_bundle, backend="numpy")


def write(path, texts=TEXTS):
    df = pd.DataFrame({"id": [str(i) for i in range(len(texts))], "review": texts})
    fmt = path.suffix
    if fmt == ".csv":
        df.to_csv(path, index=False)
    elif fmt == ".tsv":
        df.to_csv(path, sep="\t", index=False)
    elif fmt == ".jsonl":
        df.to_json(path, orient="records", lines=True)
    elif fmt == ".parquet":
        df.to_parquet(path, row_group_size=4)
    else:
        path.write_text("\n".join(texts) + "\n\n")
    return path


def read(path):
    return {".csv": lambda p: pd.read_csv(p, dtype={"id": str}), ".tsv": lambda p: pd.read_csv(p, sep="\t", dtype={"id": str}),
            ".jsonl": lambda p: pd.read_json(p, lines=True, dtype={"id": str}), ".parquet": pd.read_parquet}[path.suffix](path)


@pytest.mark.parametrize("src", [".csv", ".tsv", ".jsonl", ".parquet", ".txt"])
def test_chunks_are_bounded_and_cover_the_file(tmp_path, src):
    chunks, total = read_chunks(write(tmp_path / f"in{src}"), chunk_rows=5)
    chunks = list(chunks)
    assert [len(c.frame) for c in chunks] == [5, 5, 5, 5, 1]
    assert [c.first_row for c in chunks] == [1, 6, 11, 16, 21]
    assert chunks[-1].done == total  # progress ends at 100%


@pytest.mark.parametrize("src,dst", [(".csv", ".parquet"), (".parquet", ".csv"), (".jsonl", ".jsonl"),
                                     (".tsv", ".tsv"), (".txt", ".csv")])
def test_chunked_equals_all_at_once(clf, tmp_path, src, dst):
    col = "text" if src == ".txt" else "review"
    out = tmp_path / f"out{dst}"
    n = predict_stream(clf, write(tmp_path / f"in{src}"), out, col, chunk_rows=4)
    df = read(out)
    assert n == len(df) == len(TEXTS) and df[col].tolist() == TEXTS
    np.testing.assert_allclose(df["p_positive"], clf.predict_proba(TEXTS)[:, 1], rtol=1e-6)
    assert df["label"].tolist() == clf.predict(TEXTS)
    if src != ".txt":
        assert df["id"].tolist() == [str(i) for i in range(len(TEXTS))]  # the input's columns are kept
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"in{src}", f"out{dst}"])  # no parts left


class Interrupting:
    """Wraps a classifier; Ctrl-C on the k-th chunk, counting the texts it scores."""

    def __init__(self, clf, stop_at=None):
        self.clf, self.stop_at, self.calls, self.scored = clf, stop_at, 0, 0
        self.meta = clf.meta

    def predict_proba(self, texts):
        self.calls += 1
        if self.calls == self.stop_at:
            raise KeyboardInterrupt
        self.scored += len(texts)
        return self.clf.predict_proba(texts)


@pytest.mark.parametrize("dst", [".parquet", ".csv"])
def test_resume_skips_rows_already_written(clf, tmp_path, dst):
    src, out = write(tmp_path / "in.csv"), tmp_path / f"out{dst}"
    first = Interrupting(clf, stop_at=3)
    with pytest.raises(KeyboardInterrupt):
        predict_stream(first, src, out, "review", chunk_rows=5)
    assert not out.exists() and first.scored == 10
    parts = tmp_path / f".out{dst}.parts"
    assert json.loads((parts / "state.json").read_text())["rows"] == [5, 5]
    second = Interrupting(clf)
    assert predict_stream(second, src, out, "review", chunk_rows=5, resume=True) == len(TEXTS)
    assert second.scored == len(TEXTS) - 10  # only the rest was scored
    df = read(out)
    assert df["review"].tolist() == TEXTS and df["label"].tolist() == clf.predict(TEXTS)
    assert not parts.exists()


def test_resume_refuses_a_changed_input_and_a_rerun_starts_over(clf, tmp_path):
    src, out = write(tmp_path / "in.csv"), tmp_path / "out.csv"
    with pytest.raises(KeyboardInterrupt):
        predict_stream(Interrupting(clf, stop_at=2), src, out, "review", chunk_rows=5)
    write(src, TEXTS + ["one more great film"])
    with pytest.raises(InputError, match="input_size.* changed"):
        predict_stream(clf, src, out, "review", chunk_rows=5, resume=True)
    with pytest.raises(InputError, match="chunk_rows changed"):
        predict_stream(clf, write(src), out, "review", chunk_rows=7, resume=True)
    again = Interrupting(clf)
    assert predict_stream(again, src, out, "review", chunk_rows=5) == len(TEXTS)  # no --resume: from scratch
    assert again.scored == len(TEXTS)


def test_errors_leave_no_output_and_no_parts(clf, tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.parquet"
    write(src, TEXTS[:8] + ["   "] + TEXTS[8:])
    with pytest.raises(InputError, match="row 9: text is empty"):
        predict_stream(clf, src, out, "review", chunk_rows=4)
    with pytest.raises(InputError, match="no column 'body'"):
        predict_stream(clf, write(src), out, "body")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": broken\n')
    with pytest.raises(DataError, match="line 2: not JSON"):
        predict_stream(clf, bad, out)
    with pytest.raises(InputError, match="--resume needs --output"):
        predict_stream(clf, src, None, "review", resume=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "in.csv"]


def test_cli_streams_with_resume_and_backend(tiny_bundle, tmp_path):
    from sentiment_lab.cli import app

    runner = CliRunner()
    src, out = write(tmp_path / "in.parquet"), tmp_path / "out.jsonl"
    args = ["predict", "-m", str(tiny_bundle), "--input", str(src), "--text-column", "review", "-o", str(out),
            "--chunk-size", "6", "--backend", "numpy", "--resume"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0 and f"{len(TEXTS)} predictions written" in r.output, r.output
    assert read(out)["review"].tolist() == TEXTS
    r = runner.invoke(app, ["predict", "-m", str(tiny_bundle), "--input", str(src), "--backend", "tensorrt"])
    assert r.exit_code == 1 and r.output.startswith("error: --backend must be one of"), r.output


def test_tsv_output_reads_back_as_this_package_reads_tsv(clf, tmp_path):
    """TSV is read without quote handling (Kaggle's IMDB files need that); the output was written
    with CSV quoting, so a text with quotes came back wrapped in quotes, its own quotes doubled."""
    from sentiment_lab.data.tabular import read_table

    texts = ['He said "great", I agree', "a\ttab and a\nline break", "plain"]
    src = tmp_path / "in.jsonl"
    pd.DataFrame({"text": texts}).to_json(src, orient="records", lines=True)
    predict_stream(clf, src, tmp_path / "out.tsv", "text")
    back = read_table(tmp_path / "out.tsv")
    assert back["text"].tolist() == ['He said "great", I agree', "a tab and a line break", "plain"]
    assert back["label"].tolist() == clf.predict(texts)
