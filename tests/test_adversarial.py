"""Adversarial training (adversarial.py): the perturbation has the promised size and direction
and raises each review's loss; the step adds the perturbed loss's gradients to the clean
ones; a batch split across threads takes the same step; and training runs end to end."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import small_training_batch, tiny_config
from sentiment_lab.adversarial import adversarial_backward, perturbation, probe_directions, virtual_perturbation
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
    # a step of 1e-30 * ||x|| is below fp32's resolution: x + r == x (0 would turn the pass off)
    adversarial_backward(model, model, ids, lengths, y, F.binary_cross_entropy_with_logits, 1e-30)
    for c, p in zip(clean, model.parameters()):
        torch.testing.assert_close(p.grad, 2 * c)


def _kl(p_logits, q_logits):
    """Per-review KL divergence between two Bernoulli predictions given as logits."""
    p, q = torch.sigmoid(p_logits), torch.sigmoid(q_logits)
    return p * (p / q).log() + (1 - p) * ((1 - p) / (1 - q)).log()


def test_virtual_step_size_padding_and_that_it_finds_the_sensitive_direction():
    """VAT's step has the promised length, leaves padding alone, and moves each review's
    prediction further than random steps of the same length do (its power iteration works)."""
    model, ids, lengths, y = _setup(MODELS[1])
    model.eval()
    with torch.no_grad():
        clean = model(ids, lengths).double()
    torch.manual_seed(5)
    r = virtual_perturbation(model, ids, lengths, None, clean.float(), probe_directions(model, ids, 0.1), 0.1)
    real = (torch.arange(ids.size(1))[None, :] < lengths[:, None])[..., None]
    x_norm = (model.embed(ids) * real).flatten(1).norm(dim=1).detach()
    torch.testing.assert_close(r.flatten(1).norm(dim=1), 0.1 * x_norm)
    assert torch.all(r[~real.expand_as(r)] == 0)
    with torch.no_grad():
        moved = _kl(clean, model(ids, lengths, None, r).double())
        randoms = torch.stack([_kl(clean, model(ids, lengths, None, perturbation(
            model, ids, lengths, torch.randn_like(r), 0.1)).double()) for _ in range(20)])
    assert torch.all(moved > randoms.max(dim=0).values)  # beats the best of 20 random directions, every review


def test_virtual_step_needs_no_labels():
    """The virtual adversarial loss does not read y: flipping every label leaves its share of
    the gradient unchanged (the clean loss's share changes, so it is compared without it)."""
    grads = []
    for labels in ("as given", "flipped"):
        model, ids, lengths, y = _setup(MODELS[0])
        y = y if labels == "as given" else 1 - y
        torch.manual_seed(9)
        adversarial_backward(model, model, ids, lengths, y, F.binary_cross_entropy_with_logits, 0.0, virtual=0.05)
        both = [p.grad.clone() for p in model.parameters()]
        model.zero_grad(set_to_none=True)
        torch.manual_seed(9)
        noise = model.sample_noise(7)
        F.binary_cross_entropy_with_logits(model(ids, lengths, noise), y).backward()
        grads.append([b - p.grad for b, p in zip(both, model.parameters())])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b)
    assert any(a.abs().sum() > 0 for a in grads[0])  # and it is there


STEPS = [dict(adversarial=0.05), dict(virtual=0.05), dict(adversarial=0.05, virtual=0.05)]


@pytest.mark.parametrize("step_kw", STEPS, ids=lambda kw: ",".join(kw))
@pytest.mark.parametrize("kw", MODELS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_split_batch_takes_the_same_adversarial_step(kw, step_kw):
    model, ids, lengths, y = _setup(kw)
    torch.manual_seed(7)
    logits, loss = adversarial_backward(model, model, ids, lengths, y, F.binary_cross_entropy_with_logits,
                                        step_kw.get("adversarial", 0.0), virtual=step_kw.get("virtual", 0.0))
    whole = [p.grad.clone() for p in model.parameters()]
    model.zero_grad(set_to_none=True)
    step = ShardedStep(3)
    try:
        torch.manual_seed(7)
        s_logits, s_loss = step(model, ids, lengths, y, F.binary_cross_entropy_with_logits, **step_kw)
    finally:
        step.close()
    torch.testing.assert_close(s_logits, logits, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(s_loss, loss, rtol=1e-5, atol=1e-6)
    for g, p in zip(whole, model.parameters()):
        torch.testing.assert_close(p.grad, g, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("setting", ["train.adversarial", "train.virtual_adversarial"])
def test_training_with_adversarial_steps(tmp_path, corpus_splits, setting):
    from sentiment_lab.train import fit

    over = {"train.epochs": "3", "model.bidirectional": "true", "model.pooling": "max", setting: "0.05"}
    one = fit(tiny_config(**over, **{"train.cpu_shards": "1"}), corpus_splits, tmp_path / "one", progress=False)
    two = fit(tiny_config(**over, **{"train.cpu_shards": "2"}), corpus_splits, tmp_path / "two", progress=False)
    np.testing.assert_allclose([h["train_loss"] for h in two.history], [h["train_loss"] for h in one.history], rtol=1e-4)
    assert one.history[-1]["val_accuracy"] > 0.8  # the synthetic task is still learned


@pytest.mark.parametrize("value", ["-0.1", "1.5"])
@pytest.mark.parametrize("setting", ["train.adversarial", "train.virtual_adversarial"])
def test_adversarial_size_is_checked(value, setting):
    with pytest.raises(ConfigError, match=f"{setting} must be in"):
        load_config("seed", [f"{setting}={value}"])
