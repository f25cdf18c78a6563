"""Word vectors trained on the training split, and EDA augmentation on token ids."""
import json

import numpy as np
import pytest

from conftest import interrupt_then_resume, tiny_config
from sentiment_lab.text.augment import Augmenter
from sentiment_lab.config import load_config
from sentiment_lab.exceptions import ConfigError

NEIGHBOURS = np.array([[0, 0], [1, 1]] + [[i + 100, i + 200] for i in range(2, 50)])
# neighbours inside the vocabulary, as real ones are, so that operations can follow insert;
# never the word itself, so that every replacement shows
CLOSED = np.array([[0, 0], [1, 1]] + [[(i + 5) % 248 + 2, (i + 11) % 248 + 2] for i in range(2, 250)])


def _seq(n=40):
    return np.arange(2, 2 + n, dtype=np.int64)


def test_each_operation_does_what_it_says():
    rng = np.random.default_rng(0)
    s = _seq()
    d = Augmenter("delete", 0.2, 100, "tail")(s, rng)
    assert 20 < len(d) < 40 and set(d) <= set(s) and list(d) == sorted(d)  # order kept
    sw = Augmenter("swap", 0.1, 100, "tail")(s, rng)
    assert sorted(sw) == list(s) and list(sw) != list(s)
    sy = Augmenter("synonym", 0.1, 100, "tail", NEIGHBOURS)(s, rng)
    changed = sy != s
    assert changed.sum() == 4 and all(v in NEIGHBOURS[o] for v, o in zip(sy[changed], s[changed]))
    ins = Augmenter("insert", 0.1, 100, "tail", NEIGHBOURS)(s, rng)
    assert len(ins) == 44 and set(ins) - set(s) <= set(NEIGHBOURS[2:].ravel())
    assert s.tolist() == list(range(2, 42))  # the input is never modified


def test_augmentation_is_seeded_and_respects_max_len():
    aug = Augmenter("delete,swap,insert,synonym", 0.2, 38, "head+tail", CLOSED)
    a = aug(_seq(), np.random.default_rng(1))
    b = aug(_seq(), np.random.default_rng(1))
    assert np.array_equal(a, b) and len(a) <= 38
    one = Augmenter("delete", 0.4, 10, "tail")(np.array([5]), np.random.default_rng(0))
    assert one.tolist() == [5]
    with pytest.raises(ValueError, match="neighbour"):
        Augmenter("synonym", 0.1, 10, "tail")


def _batch(rng, sizes=(1, 2, 7, 40, 120, 3)):
    return [rng.integers(2, 250, size=n) for n in sizes]


def test_batch_operations_keep_their_contract_per_review():
    """A whole batch is augmented at once; each review gets what the operation promises."""
    rng = np.random.default_rng(3)
    seqs = _batch(rng)
    before = [s.copy() for s in seqs]

    def rows(ops, alpha=0.2, max_len=500):
        ids, lengths = Augmenter(ops, alpha, max_len, "tail", CLOSED).batch(seqs, rng)
        assert (ids[np.arange(ids.shape[1])[None, :] >= lengths[:, None]] == 0).all()  # right-padded with 0
        return [ids[i, :n] for i, n in enumerate(lengths)]

    for s, d in zip(seqs, rows("delete")):
        kept = iter(s.tolist())  # a subsequence: order kept, at least one token
        assert 1 <= len(d) <= len(s) and all(any(v == w for w in kept) for v in d.tolist())
    assert rows("delete")[0].tolist() == seqs[0].tolist()  # a one-token review is never emptied
    for s, w in zip(seqs, rows("swap")):
        assert sorted(w.tolist()) == sorted(s.tolist())
    assert any(w.tolist() != s.tolist() for s, w in zip(seqs, rows("swap")))
    for s, w in zip(seqs, rows("synonym")):
        k = max(1, round(0.2 * len(s)))
        changed = np.flatnonzero(w != s)
        assert len(changed) == min(k, len(s)) and all(w[i] in CLOSED[s[i]] for i in changed)
    for s, w in zip(seqs, rows("insert")):
        k = max(1, round(0.2 * len(s)))
        assert len(w) == len(s) + k
        rest = iter(w.tolist())  # the original review is still there, in order
        assert all(any(v == x for x in rest) for v in s.tolist())
    assert all(np.array_equal(s, b) for s, b in zip(seqs, before))  # inputs untouched


def test_delete_rate_is_alpha():
    seqs = _batch(np.random.default_rng(0), sizes=[200] * 100)
    _, lengths = Augmenter("delete", 0.1, 500, "tail").batch(seqs, np.random.default_rng(1))
    assert abs(1 - lengths.sum() / 20_000 - 0.1) < 0.01


@pytest.mark.parametrize("side", ["head", "tail", "head+tail"])
def test_batch_truncates_like_the_tokenizer(side):
    """insert can lengthen a review past max_len; it is cut as text.truncate cuts."""
    from sentiment_lab.text.tokenizer import truncate

    seqs = _batch(np.random.default_rng(5))
    long_ids, long_len = Augmenter("insert,swap", 0.3, 1000, side, CLOSED).batch(seqs, np.random.default_rng(9))
    ids, lengths = Augmenter("insert,swap", 0.3, 50, side, CLOSED).batch(seqs, np.random.default_rng(9))
    for i in range(len(seqs)):
        assert ids[i, :lengths[i]].tolist() == truncate(long_ids[i, :long_len[i]].tolist(), 50, side)
    assert lengths.max() == 50 and (long_len > 50).any()


def test_config_rejects_unknown_operations():
    with pytest.raises(ConfigError, match="train.augment"):
        load_config("seed", ["train.augment=delete,shuffle"])
    with pytest.raises(ConfigError, match="pretrained_vectors"):
        load_config("seed", ["model.pretrained_vectors=glove"])


def test_word_vectors_cover_the_training_vocabulary(corpus_splits):
    from sentiment_lab.text.tokenizer import TextEncoder
    from sentiment_lab.training.vectors import nearest_neighbours, train_word_vectors

    enc = TextEncoder.fit((r.text for r in corpus_splits.train), 64, 48, "tail")
    m = train_word_vectors([r.text for r in corpus_splits.train], enc, 16, seed=0, workers=1)
    assert m.shape == (enc.vocab_size, 16) and m.dtype == np.float32
    assert not m[0].any()
    assert abs(m[2:].std() - 0.05 / np.sqrt(3)) < 0.01  # rescaled to the random init's spread
    nb = nearest_neighbours(m, k=3)
    assert nb.shape == (enc.vocab_size, 3)
    assert all(i not in nb[i] and (nb[i] >= 2).all() for i in range(2, enc.vocab_size))


def test_training_with_vectors_and_augmentation_learns_and_resumes(tmp_path, corpus_splits):
    from sentiment_lab.training.loop import fit

    cfg = tiny_config(**{"model.pretrained_vectors": "word2vec", "train.augment": "delete,swap,insert,synonym",
                         "train.augment_alpha": "0.05"})
    full = fit(cfg, corpus_splits, tmp_path / "full", progress=False)
    assert full.metrics["test"]["accuracy"] >= 0.85
    assert (tmp_path / "full" / "word_vectors.safetensors").is_file()
    resumed = interrupt_then_resume(cfg, corpus_splits, tmp_path / "cut")
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"] for h in full.history]


def test_frozen_embeddings_do_not_move(tmp_path, corpus_splits):
    from sentiment_lab.training.loop import fit

    cfg = tiny_config(**{"train.epochs": "1", "model.pretrained_vectors": "word2vec", "model.freeze_embeddings": "true"})
    r = fit(cfg, corpus_splits, tmp_path / "f", progress=False)
    from safetensors.numpy import load_file
    vec = load_file(str(tmp_path / "f" / "word_vectors.safetensors"))["vectors"]
    np.testing.assert_array_equal(r.model.embedding.weight.detach().numpy(), vec)


def test_unlabeled_texts_need_word_vectors():
    with pytest.raises(ConfigError, match="data.unlabeled=imdb-unsup is read only by word-vector training"):
        load_config("seed", ["data.unlabeled=imdb-unsup"])
    with pytest.raises(ConfigError, match="data.unlabeled"):
        load_config("seed", ["data.unlabeled=wikipedia", "model.pretrained_vectors=word2vec"])
    cfg = load_config("seed", ["data.unlabeled=imdb-unsup", "model.pretrained_vectors=word2vec"])
    assert cfg.data.unlabeled == "imdb-unsup"
    assert "unlabeled" not in load_config("seed").to_dict()["data"]  # old configs read back unchanged


def test_unlabeled_texts_leave_out_held_out_reviews(monkeypatch, corpus_splits):
    """The vectors may read unlabeled reviews but never a validation or test text (case and
    spacing do not make a text new), and the rows are what the dataset holds, in order."""
    from dataclasses import replace

    import sentiment_lab.data.datasets as datasets
    from sentiment_lab.training.vectors import unlabeled_texts

    val, test = corpus_splits.val[0].text, corpus_splits.test[3].text
    rows = ["an unlabeled review", "  " + val.upper() + " ", "another one", test, "a third"]
    records = [replace(corpus_splits.train[0], text=t, label=-1) for t in rows]
    asked = []
    monkeypatch.setattr(datasets, "load_dataset", lambda name, **kw: asked.append(name) or records)
    assert unlabeled_texts("none", corpus_splits) == [] and asked == []
    assert unlabeled_texts("imdb-unsup", corpus_splits) == ["an unlabeled review", "another one", "a third"]
    assert asked == ["imdb-unsup"]


def test_training_reads_unlabeled_texts_into_the_vectors(monkeypatch, tmp_path, corpus_splits):
    """The unlabeled texts reach the vectors (the same run with them learns other vectors), and
    the run's saved config says which texts those were."""
    from dataclasses import replace

    import sentiment_lab.data.datasets as datasets
    from safetensors.numpy import load_file
    from sentiment_lab.training.loop import fit

    records = [replace(r, label=-1) for r in corpus_splits.train[:50]]
    monkeypatch.setattr(datasets, "load_dataset", lambda name, **kw: records)
    cfg = tiny_config(**{"train.epochs": "1", "model.pretrained_vectors": "word2vec"})
    fit(cfg, corpus_splits, tmp_path / "a", progress=False)
    cfg_u = tiny_config(**{"train.epochs": "1", "model.pretrained_vectors": "word2vec", "data.unlabeled": "imdb-unsup"})
    fit(cfg_u, corpus_splits, tmp_path / "b", progress=False)
    va = load_file(str(tmp_path / "a" / "word_vectors.safetensors"))["vectors"]
    vb = load_file(str(tmp_path / "b" / "word_vectors.safetensors"))["vectors"]
    assert va.shape == vb.shape and not np.allclose(va, vb)  # 50 more texts moved the vectors
    assert json.loads((tmp_path / "b" / "config.json").read_text())["data"]["unlabeled"] == "imdb-unsup"
