"""Adversarial training (adversarial.py): the perturbation has the promised size and direction
and raises each review's loss; the step adds the perturbed loss's gradients to the clean
ones; a batch split across threads takes the same step; and training runs end to end."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import small_training_batch, tiny_config
from sentiment_lab.adversarial import adversarial_backward, perturbation
from sentiment_lab.config import load_config
from sentiment_lab.cpu_shards import ShardedStep
from sentiment_lab.errors import ConfigError

MODELS = [dict(arch="lstm.v1", pooling="last"),
          dict(arch="lstm.v1", bidirectional=True, pooling="max", ngram_buckets=31),
          dict(arch="gru.v1", bidirectional=True, pooling="attention", bag_buckets=29)]


def _setup(kw):
    return small_training_batch(input_dropout=0.2, recurrent_dropout=0.2, dropout=0.2, **kw)


def _input_grad(model, ids, lengths, y):
    delta = torch.zeros(*ids.shape, model.rnn.input_size, requires_grad=True)
    F.binary_cross_entropy_with_logits(model(ids, lengths, None, delta), y).backward()
    return delta.grad


@pytest.mark.parametrize("kw", MODELS[1:2])
def test_perturbation_size_direction_and_padding(kw):
    model, ids, lengths, y = _setup(kw)
    model.eval()
    g = _input_grad(model, ids, lengths, y)
    r = perturbation(model, ids, lengths, g, 0.05)
    real = (torch.arange(ids.size(1))[None, :] < lengths[:, None])[..., None]
    x_norm = (model.embed(ids) * real).flatten(1).norm(dim=1).detach()
    torch.testing.assert_close(r.flatten(1).norm(dim=1), 0.05 * x_norm)
    assert torch.all(r[~real.expand_as(r)] == 0)  # nothing on padding
    cos = F.cosine_similarity(r.flatten(1), (g * real).flatten(1), dim=1)
    torch.testing.assert_close(cos, torch.ones(7))


def test_perturbation_raises_every_reviews_loss():
    model, ids, lengths, y = _setup(MODELS[1])
    model.eval()
    r = perturbation(model, ids, lengths, _input_grad(model, ids, lengths, y), 0.01)
    with torch.no_grad():
        clean = F.binary_cross_entropy_with_logits(model(ids, lengths), y, reduction="none")
        moved = F.binary_cross_entropy_with_logits(model(ids, lengths, None, r), y, reduction="none")
    assert torch.all(moved > clean)


def test_zero_size_step_doubles_the_clean_gradient():
    """With epsilon 0 the second pass sees the clean inputs with the same masks: the step's
    gradient is exactly twice the clean one. Shows the second pass is taken, with the masks."""
    model, ids, lengths, y = _setup(MODELS[0])
    torch.manual_seed(3)
    noise = model.sample_noise(7)
    F.binary_cross_entropy_with_logits(model(ids, lengths, noise), y).backward()
    clean = [p.grad.clone() for p in model.parameters()]
    model.zero_grad(set_to_none=True)
    torch.manual_seed(3)
    adversarial_backward(model, model, ids, lengths, y, F.binary_cross_entropy_with_logits, 0.0)
    for c, p in zip(clean, model.parameters()):
        torch.testing.assert_close(p.grad, 2 * c)


@pytest.mark.parametrize("kw", MODELS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_split_batch_takes_the_same_adversarial_step(kw):
    model, ids, lengths, y = _setup(kw)
    torch.manual_seed(7)
    logits, loss = adversarial_backward(model, model, ids, lengths, y, F.binary_cross_entropy_with_logits, 0.05)
    whole = [p.grad.clone() for p in model.parameters()]
    model.zero_grad(set_to_none=True)
    step = ShardedStep(3)
    try:
        torch.manual_seed(7)
        s_logits, s_loss = step(model, ids, lengths, y, F.binary_cross_entropy_with_logits, adversarial=0.05)
    finally:
        step.close()
    torch.testing.assert_close(s_logits, logits, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(s_loss, loss, rtol=1e-5, atol=1e-6)
    for g, p in zip(whole, model.parameters()):
        torch.testing.assert_close(p.grad, g, rtol=1e-4, atol=1e-6)


def test_training_with_adversarial_steps(tmp_path, corpus_splits):
    from sentiment_lab.train import fit

    over = {"train.epochs": "3", "model.bidirectional": "true", "model.pooling": "max", "train.adversarial": "0.05"}
    one = fit(tiny_config(**over, **{"train.cpu_shards": "1"}), corpus_splits, tmp_path / "one", progress=False)
    two = fit(tiny_config(**over, **{"train.cpu_shards": "2"}), corpus_splits, tmp_path / "two", progress=False)
    np.testing.assert_allclose([h["train_loss"] for h in two.history], [h["train_loss"] for h in one.history], rtol=1e-4)
    assert one.history[-1]["val_accuracy"] > 0.8  # the synthetic task is still learned


@pytest.mark.parametrize("value", ["-0.1", "1.5"])
def test_adversarial_size_is_checked(value):
    with pytest.raises(ConfigError, match="train.adversarial must be in"):
        load_config("seed", [f"train.adversarial={value}"])
