"""Data plots: lengths, coverage and label counts are right on hand-made corpora; the figures
and data_summary.json are written; `data-plots` CLI and its errors."""
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from sentiment_lab.inference.bundle import load_parts
from sentiment_lab.cli import app
from sentiment_lab.data import Record
from sentiment_lab.analysis.data_plots import _same_words, coverage_at, data_plots, review_lengths, word_counts


def test_word_counts_use_the_model_word_splitter():
    counts, lengths = word_counts(["Great film, GREAT film!", "a film<br />a dog"])
    # normalised (lowercase, <br /> removed), "," dropped, "!" kept: film 3, great 2, a 2, ! 1, dog 1
    assert counts.tolist() == [3, 2, 2, 1, 1]
    assert lengths.tolist() == [5, 4]
    assert coverage_at(counts, 1) == pytest.approx(3 / 9)
    assert coverage_at(counts, 100) == 1.0


def test_lengths_in_tokens_or_words(tiny_bundle):
    _, enc, _ = load_parts(tiny_bundle)
    texts = ["great film, really great", "zorblax qwerty film"]
    assert review_lengths(texts).tolist() == [4, 3]  # whitespace words
    assert review_lengths(texts, enc).tolist() == [4, 3]  # tokens, unknown words count as [UNK] tokens
    assert _same_words(enc)  # a word-level bundle splits as the word counter: lengths are shared
    long = " ".join(["film"] * 100)
    assert review_lengths([long], enc).tolist() == [100]  # untruncated, though max_len is 48


def test_lengths_without_function_words():
    from sentiment_lab.text.tokenizer import TextEncoder

    enc = TextEncoder.fit(["the film is great", "a dull film"], vocab_size=20, max_len=8, stopwords="english")
    assert not _same_words(enc)  # a tokenizer that drops words: lengths are its own, not the word counter's
    assert review_lengths(["the film is not great", "a film"], enc).tolist() == [3, 1]


def test_figures_and_summary(tmp_path, tiny_bundle):
    _, enc, _ = load_parts(tiny_bundle)
    train = [Record(" ".join(["good"] * n), n % 2) for n in range(1, 61)]
    test = [Record("bad film", 0), Record("good film", 1), Record("fine", 1)]
    s = data_plots(train, tmp_path, test=test, encoder=enc, max_len=48, model_vocab=62)
    assert s["share_truncated"] == pytest.approx(12 / 60)  # lengths 49..60 are cut at 48
    assert s["labels"]["train"] == {"negative": 30, "positive": 30}
    assert s["labels"]["test"] == {"negative": 1, "positive": 2}
    assert s["distinct_words"] == 1 and s["coverage"]["notebook (5000)"] == 1.0
    known = next(w for w in enc.tokenizer.get_vocab() if w.isalpha())
    s = data_plots([Record(f"{known} zorblax zorblax qwerty", 1)], tmp_path, encoder=enc, max_len=48)
    assert s["model_unk_share"] == pytest.approx(3 / 4)  # measured with the model's tokenizer, not read off the curve
    assert s["coverage"]["notebook (5000)"] == 1.0  # while the word curve covers every word of the sample
    for name in ("review_lengths", "label_distribution", "vocabulary_coverage"):
        assert (tmp_path / f"{name}.png").stat().st_size > 5000
        assert (tmp_path / f"{name}.svg").read_text().startswith("<?xml")


def test_cli_on_imdb_archive(tmp_path, imdb_archive, tiny_bundle):
    out = tmp_path / "plots"
    res = CliRunner().invoke(app, ["data-plots", "--data", str(imdb_archive), "--bundle", str(tiny_bundle),
                                   "--max-len", "5", "-o", str(out)])
    assert res.exit_code == 0, res.output
    s = json.loads((out / "data_summary.json").read_text())
    # 12 train reviews "A great film. Really great number i." -> 7 tokens ("." dropped): all longer than 5
    assert s["share_truncated"] == 1.0 and s["max_len"] == 5
    assert sum(v["negative"] + v["positive"] for v in s["labels"].values()) == 24
    assert set(s["labels"]) == {"train", "validation", "test"}
    assert (out / "vocabulary_coverage.png").is_file()


def test_cli_table_and_words(tmp_path, tiny_bundle):
    table = tmp_path / "reviews.csv"
    rows = [f"{'good ' * (i + 1)},1" if i % 2 else f"{'bad ' * (i + 1)},0" for i in range(20)]
    table.write_text("text,label\n" + "\n".join(rows) + "\n")
    out = tmp_path / "plots"
    res = CliRunner().invoke(app, ["data-plots", "--data", str(table), "--bundle", str(tiny_bundle), "--unit",
                                   "words", "-o", str(out)])
    assert res.exit_code == 0, res.output
    s = json.loads((out / "data_summary.json").read_text())
    assert s["length_unit"] == "words" and s["max_len"] == 48 and s["length"]["max"] <= 20
    assert "test" not in s["labels"]


@pytest.mark.parametrize("args, message", [
    (["--unit", "letters"], "--unit must be"),
    (["--max-len", "0"], "--max-len must be"),
    (["--data", "nope.csv"], "nope.csv"),
])
def test_cli_errors(tmp_path, tiny_bundle, args, message):
    res = CliRunner().invoke(app, ["data-plots", "--bundle", str(tiny_bundle), "-o", str(tmp_path), *args])
    assert res.exit_code == 1 and message in res.output, res.output
    assert not np.any([p.suffix == ".png" for p in tmp_path.iterdir()])
