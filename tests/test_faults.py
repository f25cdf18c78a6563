"""Faults: a training process killed with SIGKILL at random points resumes to the very weights
of an uninterrupted run, including a kill inside the checkpoint swap."""
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file

from conftest import tiny_config

TESTS = Path(__file__).resolve().parent
OVERRIDES = {"train.epochs": "6", "model.input_dropout": "0.2", "model.recurrent_dropout": "0.2", "train.patience": "6"}
# The child trains what corpus_splits holds (conftest), printing a line after each epoch's checkpoint.
CHILD = f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
from rich.console import Console
from conftest import tiny_config
from sentiment_lab.data import Splits, make_corpus, split_train_val
from sentiment_lab.training.loop import fit
train, val = split_train_val(make_corpus(400, seed=0), 0.2, seed=0)
splits = Splits(train=train, val=val, test=make_corpus(200, seed=1, split="test"))
fit(tiny_config(**{OVERRIDES!r}), splits, sys.argv[1], resume=sys.argv[2] == "resume", progress=False,
    console=Console(quiet=True), on_epoch=lambda row: print("epoch", row["epoch"], flush=True))
print("done", flush=True)
"""


def _weights(run_dir: Path) -> dict:
    return load_file(str(run_dir / "bundle" / "model.safetensors"))


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, corpus_splits):
    from rich.console import Console

    from sentiment_lab.training.loop import fit

    run_dir = tmp_path_factory.mktemp("whole")
    fit(tiny_config(**OVERRIDES), corpus_splits, run_dir, progress=False, console=Console(quiet=True))
    return _weights(run_dir)


def _run_child(run_dir: Path, mode: str, kill_after: tuple[int, float] | None = None) -> bool:
    """Run the child; with kill_after=(epochs, seconds), SIGKILL it that long after that epoch's
    line. Returns whether it finished."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(run_dir), mode], stdout=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if kill_after and line.startswith("epoch") and int(line.split()[1]) == kill_after[0]:
                try:
                    proc.wait(timeout=kill_after[1])
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                break
        return proc.wait(timeout=120) == 0 and not kill_after
    finally:
        proc.kill()
        proc.stdout.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_at_a_random_point_then_resume_gives_the_uninterrupted_weights(tmp_path, uninterrupted, seed):
    """Killed 1-5 epochs in, 0-300 ms after an epoch's checkpoint (anywhere in the next epoch,
    its checkpoint write included), then `resume` to the end: the same weights, bit for bit."""
    rng = random.Random(seed)
    kill_after = (rng.randint(1, 5), rng.uniform(0.0, 0.3))
    _run_child(tmp_path, "new", kill_after)
    assert _run_child(tmp_path, "resume"), "the resumed run did not finish"
    assert _same(_weights(tmp_path), uninterrupted), f"killed after {kill_after}"
    assert sorted(p.name for p in tmp_path.glob("checkpoint*")) == ["checkpoint"]


class Killed(BaseException):
    """Stands for SIGKILL at one exact instruction (nothing runs after it, not even except blocks
    that catch Exception)."""


def test_killed_between_the_checkpoint_renames(tmp_path, corpus_splits, uninterrupted, monkeypatch):
    """The one instant with no CKDIR: after CKDIR -> CKDIR.old, before CKDIR.tmp -> CKDIR.
    Resuming takes the newest whole checkpoint (CKDIR.tmp, epoch 2)."""
    from rich.console import Console

    from sentiment_lab.training.loop import fit

    real_rename = Path.rename
    swaps = []

    def rename(self, target):
        if Path(self).name == "checkpoint.tmp":
            swaps.append(self)
            if len(swaps) == 2:
                raise Killed
        return real_rename(self, target)
    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(Killed):
        fit(tiny_config(**OVERRIDES), corpus_splits, tmp_path, progress=False, console=Console(quiet=True))
    monkeypatch.setattr(Path, "rename", real_rename)
    assert not (tmp_path / "checkpoint").exists()
    assert json.loads((tmp_path / "checkpoint.tmp" / "state.json").read_text())["epoch"] == 2
    fit(tiny_config(**OVERRIDES), corpus_splits, tmp_path, resume=True, progress=False, console=Console(quiet=True))
    assert _same(_weights(tmp_path), uninterrupted)
    assert sorted(p.name for p in tmp_path.glob("checkpoint*")) == ["checkpoint"]


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs mounted in tmp_path/disk (needs root, as CI and these machines have; else
    skipped), filled by `fill(leave_bytes)`: a real ENOSPC, not a mocked one."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")

    def fill(leave: int) -> None:
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        with open(disk / "filler", "wb") as f:
            f.write(b"\0" * max(free - leave, 0))
    try:
        yield disk, fill
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_a_full_disk_while_predictions_are_written_leaves_the_previous_file_whole(small_disk, tiny_bundle, tmp_path):
    from typer.testing import CliRunner

    from sentiment_lab.cli import app

    disk, fill = small_disk
    texts = tmp_path / "texts.csv"
    texts.write_text("text\n" + "".join(f"a fine film number {i} with a long tail of words\n" for i in range(3000)))
    out = disk / "out.csv"
    args = ["predict", "-m", str(tiny_bundle), "--input", str(texts), "-o", str(out)]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    before = out.read_bytes()
    fill(leave=8192)
    second = CliRunner().invoke(app, args)
    assert second.exit_code != 0
    assert "error" in second.output.lower() and "Traceback" not in second.output
    assert out.read_bytes() == before
    # the finished chunks stay in .out.csv.parts for `--resume` (streaming.py), never in out.csv
    assert sorted(p.name for p in disk.iterdir()) in (["filler", "out.csv"], [".out.csv.parts", "filler", "out.csv"])


def test_a_full_disk_while_a_bundle_is_written_leaves_the_previous_one_whole(small_disk, tiny_bundle):
    """safetensors' own save_file raised SafetensorError ("No space left on device"), which the
    CLI does not report as "cannot write"; the bytes now go through fileio: a plain OSError."""
    from sentiment_lab import SentimentClassifier
    from sentiment_lab.inference.bundle import save_pretrained

    disk, fill = small_disk
    clf = SentimentClassifier.from_pretrained(tiny_bundle)
    clf_dir = disk / "bundle"
    save_pretrained(clf_dir, clf.model, clf.encoder, clf.config)
    before = _tree(clf_dir)
    fill(leave=4096)  # room for a file or two, not for a bundle
    with pytest.raises(OSError):
        save_pretrained(clf_dir, clf.model, clf.encoder, clf.config)
    assert _tree(clf_dir) == before
    assert sorted(p.name for p in disk.iterdir()) == ["bundle", "filler"]  # no temporary folder left
    assert SentimentClassifier.from_pretrained(clf_dir)(["a fine film"])


def test_a_full_disk_while_a_baseline_is_saved_is_an_os_error(small_disk, corpus_splits):
    from sentiment_lab.compare.baselines import get_baseline, load_baseline

    disk, fill = small_disk
    clf = get_baseline("tfidf").fit([r.text for r in corpus_splits.train], [r.label for r in corpus_splits.train])
    out = clf.save_pretrained(disk / "tfidf")
    before = _tree(out)
    fill(leave=0)  # arrays.safetensors, written first, finds no room
    with pytest.raises(OSError):
        clf.save_pretrained(out)
    assert _tree(out) == before and sorted(p.name for p in disk.iterdir()) == ["filler", "tfidf"]
    assert load_baseline(out).predict(["a fine film"])


def test_a_full_disk_while_a_checkpoint_is_written_is_an_os_error(small_disk):
    import numpy as np
    import torch

    from sentiment_lab.training.checkpoint import TrainState, find_checkpoint, save_checkpoint

    disk, fill = small_disk
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 1)
    opt = torch.optim.Adam(model.parameters())
    model(torch.ones(2, 8)).sum().backward()
    opt.step()
    ckdir = disk / "checkpoint"
    save_checkpoint(ckdir, model, opt, TrainState(), epoch=1, numpy_seed=0)
    before = _tree(ckdir)
    fill(leave=0)
    with pytest.raises(OSError):
        save_checkpoint(ckdir, model, opt, TrainState(rng=np.random.default_rng(0)), epoch=2, numpy_seed=0)
    assert _tree(ckdir) == before and find_checkpoint(ckdir) == ckdir
