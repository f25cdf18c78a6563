"""Language-model pretraining (pretrain.py): the sampled softmax is the full softmax when it
samples the whole vocabulary once; neither direction sees the word it predicts; pretraining
lowers the language-model loss and changes only the word vectors and the recurrent layers;
and training runs end to end with it, seeded and resumable."""
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import interrupt_then_resume, small_training_batch, tiny_config
from sentiment_lab.config import ModelConfig, load_config
from sentiment_lab.exceptions import ConfigError
from sentiment_lab.models import build_model
from sentiment_lab.training.pretrain import LanguageModelHeads, lm_loss, pretrain, sampled_softmax_loss, sampling_log_q


def test_sampled_softmax_with_every_word_once_is_the_full_softmax():
    torch.manual_seed(0)
    vocab, hidden = 11, 5
    h, w, b = torch.randn(9, hidden), torch.randn(vocab, hidden), torch.randn(vocab)
    target = torch.randint(0, vocab, (9,))
    uniform = torch.full((vocab,), -math.log(vocab))  # K q(w) = 1: no correction
    got = sampled_softmax_loss(h, target, w, b, torch.arange(vocab), uniform)
    torch.testing.assert_close(got, F.cross_entropy(h @ w.T + b, target))


def test_sampling_distribution_skips_padding_and_unseen_words():
    log_q = sampling_log_q([np.array([2, 2, 3]), np.array([3, 3, 3, 0])], 6)
    q = log_q.exp()
    assert q[0] == 0 and q[1] == 0 and q[4] == 0 and q[5] == 0
    torch.testing.assert_close(q[2] / q[3], torch.tensor((2 / 4) ** 0.75))  # 2 twice, 3 four times
    torch.testing.assert_close(q.sum(), torch.tensor(1.0))


@pytest.mark.parametrize("mode", ["packed", "padded"])
def test_neither_direction_sees_the_word_it_predicts(mode):
    """The left-to-right output at t must not change with token t+1, nor the right-to-left one
    at t with token t-1 (the n-gram table is at zero, as pretraining requires)."""
    model, ids, lengths, _ = small_training_batch(bidirectional=True, pooling="attention", ngram_buckets=31)
    torch.nn.init.zeros_(model.ngrams.table.weight)
    model.eval()
    model.run_mode = mode
    h, t = model.cfg.hidden_size, 4  # review 0 has 9 tokens
    with torch.no_grad():
        base = model.outputs(ids, lengths)
        ahead, behind = ids.clone(), ids.clone()
        ahead[0, t + 1] = (ids[0, t + 1] + 1) % 60 or 2
        behind[0, t - 1] = (ids[0, t - 1] + 1) % 60 or 2
        torch.testing.assert_close(model.outputs(ahead, lengths)[0, t, :h], base[0, t, :h])
        torch.testing.assert_close(model.outputs(behind, lengths)[0, t, h:], base[0, t, h:])
        assert not torch.allclose(model.outputs(ahead, lengths)[0, t + 1, :h], base[0, t + 1, :h])  # it does read it
        torch.nn.init.normal_(model.ngrams.table.weight, std=0.5)  # trained bigram vectors would leak token t-1
        assert not torch.allclose(model.outputs(behind, lengths)[0, t, h:], model.outputs(ids, lengths)[0, t, h:])


def test_nonzero_ngram_vectors_are_refused():
    model, ids, _, _ = small_training_batch(bidirectional=True, ngram_buckets=31)  # table made non-zero
    with pytest.raises(ValueError, match="n-gram vectors at zero"):
        pretrain(model, [row.numpy() for row in ids], 1, 0.01, 4, np.random.default_rng(0), torch.device("cpu"))


def test_pretraining_learns_and_changes_only_the_embedding_and_the_rnn():
    """On a language where each word fixes the next one (and so the previous one), both
    directions learn to predict: the sampled loss falls from ~5.5 (chance among 257) to near 0."""
    torch.manual_seed(0)
    model = build_model(ModelConfig(embedding_dim=16, hidden_size=16, bidirectional=True, pooling="attention",
                                    ngram_buckets=31, bag_buckets=29, input_dropout=0.1, recurrent_dropout=0.1,
                                    dropout=0.1), 40)
    rng = np.random.default_rng(0)
    successor = rng.permutation(np.arange(2, 40))
    seqs = []
    for _ in range(64):
        s = [int(rng.integers(2, 40))]
        for _ in range(int(rng.integers(6, 20))):
            s.append(int(successor[s[-1] - 2]))
        seqs.append(np.array(s))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    history = pretrain(model, seqs, 40, 0.05, 16, np.random.default_rng(1), torch.device("cpu"), log=lambda _: None)
    assert history[0]["lm_loss"] > 5.0 and history[-1]["lm_loss"] < 0.2 * history[0]["lm_loss"]
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, before[k])}
    assert changed == {k for k in before if k.startswith(("embedding.", "rnn."))}
    assert not model.ngrams.table.weight.any()  # kept at zero: it would leak the backward target
    assert all(p.grad is None for p in model.parameters())


def test_lm_loss_of_a_unidirectional_model_reads_one_direction():
    model, ids, lengths, _ = small_training_batch(pooling="last")
    heads = LanguageModelHeads(60, model.cfg.hidden_size, 1)
    model.eval()
    loss, square = lm_loss(model, heads, ids, lengths, sampling_log_q([r.numpy() for r in ids], 60),
                          torch.unique(ids[ids > 0]))  # words the texts hold: the others have q = 0
    assert loss.ndim == 0 and torch.isfinite(loss)
    with torch.no_grad():  # the penalised mean square is over the real steps only
        out = model.outputs(ids, lengths)
    real = torch.arange(ids.size(1))[None, :] < lengths[:, None]
    torch.testing.assert_close(square, out[real].pow(2).mean())


def test_training_with_pretraining_is_seeded_resumable_and_timed(tmp_path, corpus_splits):
    from sentiment_lab.training.loop import fit

    cfg = tiny_config(**{"train.epochs": "3", "train.pretrain_epochs": "2", "model.bidirectional": "true",
                         "model.pooling": "attention", "model.recurrent_dropout": "0.2"})
    full = fit(cfg, corpus_splits, tmp_path / "full", progress=False)
    again = fit(cfg, corpus_splits, tmp_path / "again", progress=False)
    resumed = interrupt_then_resume(cfg, corpus_splits, tmp_path / "cut")
    losses = [h["train_loss"] for h in full.history]
    assert [h["train_loss"] for h in again.history] == losses
    assert [h["train_loss"] for h in resumed.history] == losses
    lm = json.loads((tmp_path / "full" / "pretrain_history.json").read_text())
    assert [r["epoch"] for r in lm] == [1, 2] and lm[1]["lm_loss"] < lm[0]["lm_loss"]
    assert full.metrics["timings"]["pretrain_s"] == sum(r["s"] for r in lm) > 0
    assert resumed.metrics["timings"]["pretrain_s"] > 0  # the resumed run counts the pretraining it did before
    assert full.history[-1]["val_accuracy"] > 0.8  # the synthetic task is still learned
    plain = fit(tiny_config(**{"train.epochs": "1", "model.bidirectional": "true"}), corpus_splits,
                tmp_path / "plain", progress=False)
    assert "pretrain_s" not in plain.metrics["timings"]
    assert not (tmp_path / "plain" / "pretrain_history.json").exists()


def test_pretrain_epochs_are_checked():
    with pytest.raises(ConfigError, match="train.pretrain_epochs must be >= 0"):
        load_config("seed", ["train.pretrain_epochs=-1"])
