import json

import pytest
from safetensors.torch import load_file

from conftest import interrupt_then_resume, tiny_config
from sentiment_lab.exceptions import SentimentLabError
from sentiment_lab.training.loop import fit


def test_learns_the_synthetic_task(tiny_run):
    assert tiny_run.metrics["val"]["accuracy"] >= 0.9
    assert tiny_run.metrics["test"]["accuracy"] >= 0.9


def test_run_directory(tiny_run):
    d = tiny_run.run_dir
    for name in ("config.json", "tokenizer.json", "history.json", "history.csv", "metrics.json",
                 "checkpoint/state.json", "checkpoint/model.safetensors", "checkpoint/optimizer.safetensors",
                 "bundle/model.safetensors", "bundle/README.md"):
        assert (d / name).is_file(), name
    history = json.loads((d / "history.json").read_text())
    assert [h["epoch"] for h in history] == list(range(1, len(history) + 1))
    assert {"train_loss", "val_loss", "train_accuracy", "val_accuracy", "train_s"} <= set(history[0])
    assert (d / "history.csv").read_text().splitlines()[0].startswith("epoch,train_loss")
    metrics = json.loads((d / "metrics.json").read_text())
    best = min(history, key=lambda h: h["val_loss"])
    assert metrics["best_epoch"] == best["epoch"]
    assert metrics["val"]["loss"] == pytest.approx(best["val_loss"], rel=1e-4)  # the best epoch is what ships


def test_seeded_runs_are_identical(tmp_path, corpus_splits):
    cfg = tiny_config(**{"train.epochs": "2", "model.recurrent_dropout": "0.3", "model.input_dropout": "0.2"})
    a = fit(cfg, corpus_splits, tmp_path / "a", progress=False)
    b = fit(cfg, corpus_splits, tmp_path / "b", progress=False)
    assert a.history[-1]["train_loss"] == b.history[-1]["train_loss"]


def test_resume_equals_uninterrupted(tmp_path, corpus_splits):
    cfg = tiny_config(**{"train.epochs": "3", "model.recurrent_dropout": "0.3", "model.input_dropout": "0.2"})
    full = fit(cfg, corpus_splits, tmp_path / "full", progress=False)
    resumed = interrupt_then_resume(cfg, corpus_splits, tmp_path / "cut")
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"] for h in full.history]
    a = load_file(str(tmp_path / "full" / "bundle" / "model.safetensors"))
    b = load_file(str(tmp_path / "cut" / "bundle" / "model.safetensors"))
    assert all((a[k] == b[k]).all() for k in a)


def test_resume_training_reads_the_run_folder_alone(tmp_path):
    """resume_training(run_dir) (what `train --resume` runs) needs nothing but the folder: it
    reloads the run's config and data and ends where the uninterrupted run ends."""
    from sentiment_lab import train
    from sentiment_lab.data import load_splits
    from sentiment_lab.training.loop import resume_training

    cfg = tiny_config(**{"train.epochs": "2"})
    full = train(cfg, tmp_path / "full", progress=False)

    def stop(row):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        fit(cfg, load_splits(cfg.data, seed=cfg.train.seed, progress=False), tmp_path / "cut", progress=False,
            on_epoch=stop)
    resumed = resume_training(tmp_path / "cut", progress=False)
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"] for h in full.history]
    with pytest.raises(SentimentLabError, match="nothing to resume"):
        resume_training(tmp_path / "empty")


def test_resume_needs_a_checkpoint(tmp_path, corpus_splits):
    with pytest.raises(SentimentLabError, match="nothing to resume"):
        fit(tiny_config(), corpus_splits, tmp_path, resume=True, progress=False)


def test_early_stopping_and_max_steps(tmp_path, corpus_splits):
    r = fit(tiny_config(**{"train.max_steps": "3", "train.epochs": "5"}), corpus_splits, tmp_path / "m", progress=False)
    assert r.history[-1]["steps"] == 3 and len(r.history) == 1
    r = fit(tiny_config(**{"train.lr": "1e-9", "train.patience": "1", "train.epochs": "6"}), corpus_splits,
            tmp_path / "p", progress=False)
    assert len(r.history) < 6


def test_ema_weights_are_validated_and_kept(tmp_path, corpus_splits):
    """With train.ema the bundle holds the averaged weights (not the last step's), and the
    validation loss recorded for the best epoch is that of the averaged weights."""
    cfg = tiny_config(**{"train.epochs": "2", "train.ema": "0.9", "train.patience": "5"})
    r = fit(cfg, corpus_splits, tmp_path / "ema", progress=False)
    d = tmp_path / "ema"
    shipped = load_file(str(d / "bundle" / "model.safetensors"))
    last = load_file(str(d / "checkpoint" / "model.safetensors"))  # the optimizer's own last-step weights
    averaged = load_file(str(d / "checkpoint" / "ema.safetensors"))
    assert any(not (shipped[k] == last[k]).all() for k in shipped)
    if r.best_epoch == len(r.history):  # best is the last epoch: shipped == the final average
        assert all((shipped[k] == averaged[f"module.{k}"]).all() for k in shipped)
    best = min(r.history, key=lambda h: h["val_loss"])
    assert r.metrics["val"]["loss"] == pytest.approx(best["val_loss"], rel=1e-4)


def test_resume_with_ema_equals_uninterrupted(tmp_path, corpus_splits):
    cfg = tiny_config(**{"train.epochs": "2", "train.ema": "0.9", "train.patience": "5"})
    full = fit(cfg, corpus_splits, tmp_path / "full", progress=False)
    resumed = interrupt_then_resume(cfg, corpus_splits, tmp_path / "cut")
    assert [h["val_loss"] for h in resumed.history] == [h["val_loss"] for h in full.history]
    a = load_file(str(tmp_path / "full" / "bundle" / "model.safetensors"))
    b = load_file(str(tmp_path / "cut" / "bundle" / "model.safetensors"))
    assert all((a[k] == b[k]).all() for k in a)


def test_ema_starts_as_the_running_mean_then_decays():
    import torch
    from sentiment_lab.training.optim import ema_multi_avg_fn

    avg = ema_multi_avg_fn(0.9)
    steps = [torch.tensor([float(v)]) for v in (4, 8, 0, 12, 100, 100)]
    a = steps[0].clone()  # AveragedModel copies the first step
    other = torch.tensor([1.0])  # a second parameter averaged in the same call
    for n, cur in enumerate(steps[1:], start=1):
        avg([a, other], [cur, torch.tensor([1.0 + n])], torch.tensor(n))
        if n < 9:  # n/(n+1) < 0.9: still the plain mean of the steps so far
            assert a.item() == pytest.approx(sum(s.item() for s in steps[:n + 1]) / (n + 1))
            assert other.item() == pytest.approx(sum(1.0 + i for i in range(n + 1)) / (n + 1))
    avg([a], [torch.tensor([0.0])], torch.tensor(50))  # long run: the fixed decay
    assert a.item() == pytest.approx(0.9 * 224 / 6)


def test_lr_factor_schedules():
    from sentiment_lab.training.optim import lr_factor

    assert [lr_factor("constant", s, 10) for s in (0, 5, 9)] == [1.0, 1.0, 1.0]
    assert [lr_factor("linear", s, 10) for s in (0, 5, 9)] == pytest.approx([1.0, 0.5, 0.1])
    assert [lr_factor("cosine", s, 10) for s in (0, 5, 10)] == pytest.approx([1.0, 0.5, 0.0])
    assert lr_factor("cosine", 2, 10) > lr_factor("linear", 2, 10)  # cosine keeps the rate up longer


def test_lr_schedule_decays_over_the_planned_steps_and_resumes_exactly(tmp_path, corpus_splits):
    cfg = tiny_config(**{"train.epochs": "2", "train.lr_schedule": "linear", "train.patience": "5"})
    full = fit(cfg, corpus_splits, tmp_path / "full", progress=False)
    steps = full.history[-1]["steps"]
    state = json.loads((tmp_path / "full" / "checkpoint" / "state.json").read_text())
    # the last step ran at lr * (1 - (steps-1)/steps)
    assert state["param_groups"][0]["lr"] == pytest.approx(cfg.train.lr / steps)
    resumed = interrupt_then_resume(cfg, corpus_splits, tmp_path / "cut")
    assert [h["val_loss"] for h in resumed.history] == [h["val_loss"] for h in full.history]
    constant = fit(tiny_config(**{"train.epochs": "2", "train.patience": "5"}), corpus_splits, tmp_path / "c",
                   progress=False)
    assert [h["val_loss"] for h in constant.history] != [h["val_loss"] for h in full.history]


def test_refit_without_validation_trains_every_epoch_and_keeps_the_last(tmp_path, corpus_splits):
    """data.val_fraction=0: the final refit on all of train once settings were chosen on a
    validation split. No early stopping (there is nothing to stop on), the last epoch ships."""
    from sentiment_lab.data import Splits, split_train_val

    train, val = split_train_val(corpus_splits.train + corpus_splits.val, 0.0, seed=0)
    assert val == [] and len(train) == len(corpus_splits.train) + len(corpus_splits.val)
    cfg = tiny_config(**{"data.val_fraction": "0", "train.epochs": "6", "train.patience": "1"})
    r = fit(cfg, Splits(train=train, val=[], test=corpus_splits.test), tmp_path / "refit", progress=False)
    assert [h["epoch"] for h in r.history] == [1, 2, 3, 4, 5, 6]
    assert all(h["val_loss"] is None and h["val_accuracy"] is None for h in r.history)
    assert r.best_epoch == 6 and "val" not in r.metrics
    assert r.metrics["test"]["accuracy"] >= 0.9
    d = tmp_path / "refit"
    shipped = load_file(str(d / "bundle" / "model.safetensors"))
    last = load_file(str(d / "checkpoint" / "model.safetensors"))
    assert all((shipped[k] == last[k]).all() for k in shipped)
    card = (d / "bundle" / "README.md").read_text()
    assert "no validation split" in card and "last epoch kept (epoch 6)" in card
    assert any(d.rglob("learning_curves.png"))  # plotted from the training curves alone
    resumed = interrupt_then_resume(cfg, Splits(train=train, val=[], test=corpus_splits.test), tmp_path / "cut")
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"] for h in r.history]
    state = (tmp_path / "cut" / "checkpoint" / "state.json").read_text()
    assert "Infinity" not in state and "NaN" not in state  # strict JSON


def test_val_fraction_range_is_checked():
    from sentiment_lab.exceptions import ConfigError

    with pytest.raises(ConfigError, match=r"data.val_fraction must be in \[0, 1\)"):
        tiny_config(**{"data.val_fraction": "1.0"})
    with pytest.raises(ConfigError, match="val_fraction"):
        tiny_config(**{"data.val_fraction": "-0.1"})


def test_repeated_and_leaked_texts_are_reported():
    """A team's export with test reviews that are also training reviews read 99.7% on test."""
    from sentiment_lab.data import Record, Splits
    from sentiment_lab.data.checks import overlap_report

    train = [Record(f"review {i}", i % 2) for i in range(100)] + [Record("review 3", 1)]
    test = [Record(f"review {i}", i % 2) for i in range(95, 105)]  # 5 of 10 seen in train
    lines = overlap_report(Splits(train=train, val=[], test=test))
    assert lines[0] == "data check: 1 repeated texts in train; 5 test texts (50.0%) also in train"
    assert lines[1].startswith("warning: 50% of the test texts also appear in the training data")
    assert overlap_report(Splits(train=train[:10], val=[], test=[Record("new", 1)])) == []
