"""Conformance over every registered architecture: shapes, save/load round trip, packed ==
padded, a batch of one == the same text inside a batch."""
import numpy as np
import pytest
import torch

from conftest import TINY_VOCAB, tiny_batch, tiny_model
from sentiment_lab.config import ModelConfig
from sentiment_lab.models import REGISTRY, build_model
from sentiment_lab.text.tokenizer import pad_batch

VARIANTS = [dict(), dict(bidirectional=True), dict(num_layers=2), dict(pooling="max"), dict(pooling="mean"),
            dict(bidirectional=True, pooling="mean", num_layers=2), dict(bidirectional=True, num_layers=3),
            dict(bidirectional=True, pooling="max"), dict(pooling="attention"),
            dict(bidirectional=True, num_layers=2, pooling="attention"),
            dict(ngram_buckets=31, ngram_order=3, bidirectional=True, pooling="max"), dict(ngram_buckets=17),
            dict(bag_buckets=29, bag_order=3, bidirectional=True, pooling="attention"), dict(bag_buckets=19, bag_order=1)]


@pytest.mark.parametrize("arch", sorted(REGISTRY))
@pytest.mark.parametrize("kw", VARIANTS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default")
def test_conformance(arch, kw, tmp_path):
    from safetensors.torch import load_file, save_file

    model = tiny_model(arch, **kw)
    ids, lengths = tiny_batch()
    with torch.no_grad():
        model.run_mode = "packed"
        packed = model(ids, lengths)
        model.run_mode = "padded"
        padded = model(ids, lengths)
        assert packed.shape == (5,)
        torch.testing.assert_close(packed, padded, atol=1e-6, rtol=1e-5)
        # a batch of one equals the same text inside a batch
        one = model(ids[2:3, : lengths[2]], lengths[2:3])
        torch.testing.assert_close(one, padded[2:3], atol=1e-6, rtol=1e-5)
        # extra padding changes nothing
        wide = torch.cat([ids, torch.zeros(5, 9, dtype=ids.dtype)], dim=1)
        torch.testing.assert_close(model(wide, lengths), padded, atol=1e-6, rtol=1e-5)
    save_file(model.state_dict(), str(tmp_path / "m.safetensors"))
    back = tiny_model(arch, **kw)
    torch.manual_seed(123)
    for p in back.parameters():
        torch.nn.init.normal_(p)
    back.load_state_dict(load_file(str(tmp_path / "m.safetensors")))
    back.run_mode = "padded"
    with torch.no_grad():
        assert torch.equal(back(ids, lengths), padded)


def test_padding_never_reaches_the_state():
    """The notebook's bug: post-padding read by the LSTM. Here the last real token decides."""
    model = tiny_model("lstm.v1")
    ids, lengths = tiny_batch()
    with torch.no_grad():
        a = model(ids[1:2, :1], lengths[1:2])
        b = model(torch.tensor([[ids[1, 0]] + [0] * 199]), torch.tensor([1]))
    torch.testing.assert_close(a, b)


def test_dropconnect_only_in_training():
    model = build_model(ModelConfig(embedding_dim=8, hidden_size=6, recurrent_dropout=0.5, input_dropout=0.0,
                                    dropout=0.0), TINY_VOCAB)
    ids, lengths = tiny_batch()
    before = model.rnn.weight_hh_l0.detach().clone()
    model.train()
    torch.manual_seed(1)
    a = model(ids, lengths)
    torch.manual_seed(2)
    b = model(ids, lengths)
    assert not torch.allclose(a, b)  # different recurrent masks
    assert torch.equal(model.rnn.weight_hh_l0, before)  # the parameter itself is never modified
    a.sum().backward()
    assert model.rnn.weight_hh_l0.grad is not None and model.rnn.weight_hh_l0.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(ids, lengths), model(ids, lengths))


def test_attention_weights_are_a_distribution_over_real_tokens():
    model = tiny_model("lstm.v1", bidirectional=True, pooling="attention")
    ids, lengths = tiny_batch()
    with torch.no_grad():
        w = model.attention_weights(ids, lengths)
    assert w.shape == ids.shape
    torch.testing.assert_close(w.sum(dim=1), torch.ones(5))
    for row, n in zip(w, lengths):
        assert torch.all(row[:n] > 0) and torch.all(row[n:] == 0)
    with pytest.raises(ValueError, match="attention"):
        tiny_model("lstm.v1").attention_weights(ids, lengths)


def test_ngram_vectors_see_exactly_the_previous_tokens():
    """Position t's input depends on tokens t-order+1..t only; the opening token is hashed
    with [PAD] before it; the NumPy twin hashes identically."""
    from sentiment_lab.text.ngrams import ngram_hashes

    for order in (2, 3):
        model = tiny_model("lstm.v1", ngram_buckets=97, ngram_order=order)
        a = torch.tensor([[5, 6, 7, 8, 9, 10]])
        b = a.clone()
        b[0, 1] = 11  # change token 1
        with torch.no_grad():
            diff = (model.embed(a) - model.embed(b)).abs().sum(-1)[0]
        changed = [t for t in range(6) if diff[t] > 0]
        assert changed == list(range(1, 1 + order))
        h = model.ngrams.hashes(a)
        assert h.shape == (1, 6, order - 1) and int(h.min()) >= 0 and int(h.max()) < 97
        np.testing.assert_array_equal(ngram_hashes(a.numpy(), 97, order), h.numpy())
    # "not good" and "good not" are different bigrams (the word vectors alone cannot tell)
    h = model.ngrams.hashes(torch.tensor([[3, 4], [4, 3]]))
    assert int(h[0, 1, 0]) != int(h[1, 1, 0])


def test_ngram_table_starts_at_zero_and_learns():
    torch.manual_seed(0)
    model = build_model(ModelConfig(embedding_dim=8, hidden_size=6, ngram_buckets=64), TINY_VOCAB)
    ids, lengths = tiny_batch()
    with torch.no_grad():
        x = model.embed(ids)
        assert x.shape == (*ids.shape, 8 + 32)
        assert torch.equal(x[..., :8], model.embedding(ids)) and not x[..., 8:].any()  # starts as the words-only model
    model(ids, lengths).sum().backward()
    assert model.ngrams.table.weight.grad.abs().sum() > 0


def test_bag_of_ngrams_counts_each_distinct_ngram_once():
    """The bag term is scale * (sum of the weights of a review's distinct n-grams) / sqrt(their
    number): repeating a phrase or adding padding changes nothing; the NumPy twin hashes and
    sums identically; a reordering changes the bigrams but not the words."""
    from sentiment_lab.inference.numpy_backend import bag_logits
    from sentiment_lab.text.ngrams import bag_hashes

    model = tiny_model("lstm.v1", bag_buckets=1009, bag_order=2)
    bag = model.bag
    ids = torch.tensor([[5, 6, 7, 0, 0, 0], [5, 6, 7, 5, 6, 7], [7, 6, 5, 0, 0, 0]])
    lengths = torch.tensor([3, 6, 3])
    h = bag.hashes(ids)
    assert h.shape == (3, 6, 2) and int(h.min()) >= 0 and int(h.max()) < 1009
    np.testing.assert_array_equal(bag_hashes(ids.numpy(), 1009, 2), h.numpy())
    with torch.no_grad():
        got = bag(ids, lengths)
        w = bag.table.weight[:, 0].detach()
        grams = [set(h[i, :n].flatten().tolist()) for i, n in enumerate(lengths.tolist())]
        expected = [bag.scale * float(w[sorted(g)].sum()) / len(g) ** 0.5 for g in grams]
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5)
    # "5 6 7 5 6 7" adds one bigram, (7, 5), to "5 6 7"; words are the same in "7 6 5"
    assert grams[1] - grams[0] == {int(h[1, 3, 1])} and len(grams[1]) == len(grams[0]) + 1
    assert set(h[0, :3, 0].tolist()) == set(h[2, :3, 0].tolist()) and grams[0] != grams[2]
    np.testing.assert_allclose(bag_logits(w[:, None].numpy(), ids.numpy(), lengths.numpy(), 1009, 2, bag.scale),
                               got.numpy(), rtol=1e-5)
    # a word and the bigram ([PAD], word) at the start land in different buckets
    assert int(h[0, 0, 0]) != int(h[0, 0, 1])


def test_bag_table_starts_at_zero_and_learns():
    torch.manual_seed(0)
    model = build_model(ModelConfig(embedding_dim=8, hidden_size=6, bag_buckets=64), TINY_VOCAB)
    ids, lengths = tiny_batch()
    with torch.no_grad():
        assert not model.bag(ids, lengths).any()  # starts as the network alone
    model(ids, lengths).sum().backward()
    assert model.bag.table.weight.grad.abs().sum() > 0


def test_predict_logits_is_independent_of_the_batch_size():
    """Length-sorted batches of any size (0 = the device's default) give each review its own
    logit, in input order."""
    from sentiment_lab.text.batching import inference_batch_size, predict_logits

    model = tiny_model("lstm.v1", pooling="max")
    rng = np.random.default_rng(4)
    seqs = [rng.integers(2, TINY_VOCAB, size=n) for n in rng.integers(1, 30, size=300)]
    one = np.array([model(*map(torch.from_numpy, pad_batch([s]))).item() for s in seqs[:20]])
    for batch_size in (0, 1, 7, 512):
        got = predict_logits(model, seqs, batch_size, torch.device("cpu"))
        assert got.shape == (300,)
        np.testing.assert_allclose(got[:20], one, rtol=1e-5, atol=1e-6)
    assert inference_batch_size(torch.device("cpu")) == 64 and inference_batch_size("cuda:0") == 512
