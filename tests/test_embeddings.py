"""Word embeddings: matrix and vocabulary read from the bundle, cosine neighbours right,
projections seeded, projector files well formed, `embeddings` CLI and its errors."""
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from sentiment_lab.cli import app
from sentiment_lab.analysis.embeddings import (EmbeddingTable, embedding_report, export_projector, load_embedding, nearest,
                                      orient, parse_words, project, word_id)
from sentiment_lab.exceptions import ConfigError

WORDS = "pos:great,wonderful,excellent,brilliant;neg:awful,terrible,boring,dull;ctx:film,movie,plot,story"


def test_load_embedding(tiny_bundle):
    t = load_embedding(tiny_bundle)
    assert t.matrix.shape == (len(t.words), 16)
    assert t.words[0] == "[PAD]" and t.words[1] == "[UNK]"
    assert word_id(t, "Great") == t.words.index("great")  # normalised like the model reads it
    assert word_id(t, "zorblax") is None and word_id(t, "great film") is None


def test_nearest_is_cosine_and_skips_specials(tmp_path):
    words = ["[PAD]", "[UNK]", "a", "b", "c", "d"]
    m = np.array([[0, 0], [1, 0], [1, 0], [2, 0.1], [0, 1], [-1, 0]], dtype=np.float32)
    t = EmbeddingTable(m, words, tmp_path)
    (row,) = nearest(t, [2], k=3)
    assert [w for w, _ in row] == ["b", "c", "d"]  # never itself, [PAD] or [UNK] (identical to [UNK] here)
    assert row[0][1] == pytest.approx(2 / np.hypot(2, 0.1), abs=1e-6)
    assert row[2][1] == pytest.approx(-1.0)
    with pytest.raises(ConfigError):
        nearest(t, [2], k=0)


def test_projections_are_seeded():
    v = np.random.default_rng(0).normal(size=(12, 8))
    for method in ("pca", "tsne"):
        a, axes = project(v, method, seed=3)
        b, _ = project(v, method, seed=3)
        assert a.shape == (12, 2) and np.allclose(a, b) and len(axes) == 2
    with pytest.raises(ConfigError, match="unknown projection"):
        project(v, "lle")
    with pytest.raises(ConfigError, match="at least 3"):
        project(v[:2], "pca")


def test_orient_keeps_distances_and_puts_first_group_right():
    from scipy.spatial.distance import pdist

    c = np.array([[-5.0, -5.0], [-4.0, -5.0], [5.0, 5.0], [5.0, 4.0]])  # two clusters on a diagonal
    out = orient(c, [False, False, True, True])
    assert np.allclose(pdist(out), pdist(c))
    assert out[2:, 0].min() > 0 > out[:2, 0].max()  # the first group on the right, along x
    assert np.ptp(out[:, 1]) < 2  # the clusters' gap lies along x


def test_parse_words():
    assert parse_words("good, great,,bad") == {"chosen": ["good", "great", "bad"]}
    assert parse_words("p:good;n:bad,awful") == {"p": ["good"], "n": ["bad", "awful"]}
    assert list(parse_words(None)) == ["positive", "negative", "context", "descriptive"]
    with pytest.raises(ConfigError):
        parse_words(" , ;")


def test_report_files(tiny_bundle, tmp_path):
    groups = parse_words(WORDS + ",zorblax")
    rep = embedding_report(tiny_bundle, groups, "pca", k=3, out_dir=tmp_path, top_n=10)
    assert rep.missing == {"ctx": ["zorblax"]}
    assert len(rep.words) == 12 and rep.coords.shape == (12, 2)
    assert (tmp_path / "embedding_map.png").stat().st_size > 10000
    saved = json.loads((tmp_path / "neighbours.json").read_text())
    assert [w["word"] for w in saved["words"]] == rep.words and len(saved["words"][0]["neighbours"]) == 3
    meta = (tmp_path / "metadata.tsv").read_text().splitlines()
    vecs = (tmp_path / "vectors.tsv").read_text().splitlines()
    assert meta[0] == "Word\tGroup" and len(meta) - 1 == len(vecs)
    assert all(len(line.split("\t")) == 16 for line in vecs)
    tagged = dict(line.split("\t") for line in meta[1:])
    assert tagged["great"] == "pos" and tagged["film"] == "ctx" and "[PAD]" not in tagged
    assert sum(g != "other" for g in tagged.values()) == 12  # chosen words beyond the top 10 are appended
    again = embedding_report(tiny_bundle, groups, "pca", k=3)
    assert np.allclose(again.coords, rep.coords) and again.neighbours == rep.neighbours


def test_projector_rows_match_vocabulary(tmp_path):
    t = EmbeddingTable(np.arange(12, dtype=np.float32).reshape(6, 2), ["[PAD]", "[UNK]", "a", "b\tx", "c", "d"],
                       tmp_path)
    vec, meta = export_projector(t, tmp_path, top_n=2, chosen={5: "mine"})
    assert meta.read_text().splitlines() == ["Word\tGroup", "a\tother", "b x\tother", "d\tmine"]
    assert vec.read_text().splitlines() == ["4\t5", "6\t7", "10\t11"]


def test_cli(tiny_bundle, tmp_path):
    res = CliRunner().invoke(app, ["embeddings", str(tiny_bundle), "--words", WORDS + ",zorblax", "--method", "pca",
                                   "-k", "2", "-o", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "Nearest neighbours" in res.output and "zorblax" in res.output
    assert (tmp_path / "embedding_map.svg").is_file() and (tmp_path / "vectors.tsv").is_file()


@pytest.mark.parametrize("args, message", [
    (["--method", "mds"], "--method must be"),
    (["--neighbours", "0"], "--neighbours must be"),
    (["--words", "zorblax,qwerty"], "at least 3 words"),
])
def test_cli_errors(tiny_bundle, tmp_path, args, message):
    res = CliRunner().invoke(app, ["embeddings", str(tiny_bundle), "-o", str(tmp_path / "out"), *args])
    assert res.exit_code == 1 and message in res.output, res.output
    assert not (tmp_path / "out" / "embedding_map.png").exists()
