"""Word vectors trained on the training split, and EDA augmentation on token ids."""
import numpy as np
import pytest

from conftest import interrupt_then_resume, tiny_config
from sentiment_lab.augment import Augmenter
from sentiment_lab.config import load_config
from sentiment_lab.errors import ConfigError

NEIGHBOURS = np.array([[0, 0], [1, 1]] + [[i + 100, i + 200] for i in range(2, 50)])


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
    aug = Augmenter("delete,swap,insert,synonym", 0.2, 38, "head+tail", NEIGHBOURS)
    a = aug(_seq(), np.random.default_rng(1))
    b = aug(_seq(), np.random.default_rng(1))
    assert np.array_equal(a, b) and len(a) <= 38
    one = Augmenter("delete", 0.4, 10, "tail")(np.array([5]), np.random.default_rng(0))
    assert one.tolist() == [5]
    with pytest.raises(ValueError, match="neighbour"):
        Augmenter("synonym", 0.1, 10, "tail")


def test_config_rejects_unknown_operations():
    with pytest.raises(ConfigError, match="train.augment"):
        load_config("seed", ["train.augment=delete,shuffle"])
    with pytest.raises(ConfigError, match="pretrained_vectors"):
        load_config("seed", ["model.pretrained_vectors=glove"])


def test_word_vectors_cover_the_training_vocabulary(corpus_splits):
    from sentiment_lab.text import TextEncoder
    from sentiment_lab.vectors import nearest_neighbours, train_word_vectors

    enc = TextEncoder.fit((r.text for r in corpus_splits.train), 64, 48, "tail")
    m = train_word_vectors([r.text for r in corpus_splits.train], enc, 16, seed=0, workers=1)
    assert m.shape == (enc.vocab_size, 16) and m.dtype == np.float32
    assert not m[0].any()
    assert abs(m[2:].std() - 0.05 / np.sqrt(3)) < 0.01  # rescaled to the random init's spread
    nb = nearest_neighbours(m, k=3)
    assert nb.shape == (enc.vocab_size, 3)
    assert all(i not in nb[i] and (nb[i] >= 2).all() for i in range(2, enc.vocab_size))


def test_training_with_vectors_and_augmentation_learns_and_resumes(tmp_path, corpus_splits):
    from sentiment_lab.train import fit

    cfg = tiny_config(**{"model.pretrained_vectors": "word2vec", "train.augment": "delete,swap,insert,synonym",
                         "train.augment_alpha": "0.05"})
    full = fit(cfg, corpus_splits, tmp_path / "full", progress=False)
    assert full.metrics["test"]["accuracy"] >= 0.85
    assert (tmp_path / "full" / "word_vectors.safetensors").is_file()
    resumed = interrupt_then_resume(cfg, corpus_splits, tmp_path / "cut")
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"] for h in full.history]


def test_frozen_embeddings_do_not_move(tmp_path, corpus_splits):
    from sentiment_lab.train import fit

    cfg = tiny_config(**{"train.epochs": "1", "model.pretrained_vectors": "word2vec", "model.freeze_embeddings": "true"})
    r = fit(cfg, corpus_splits, tmp_path / "f", progress=False)
    from safetensors.numpy import load_file
    vec = load_file(str(tmp_path / "f" / "word_vectors.safetensors"))["vectors"]
    np.testing.assert_array_equal(r.model.embedding.weight.detach().numpy(), vec)
