"""Every shipped preset resolves to exactly the Config it resolved to before presets were
rewritten as differences from default.toml and constraints moved next to the fields.

tests/data/presets_resolved.json is `load_config(name).to_dict()` for every preset, taken
before those changes (commit 3e489ee's config.py). It is compared as JSON text, so a value that
turns from 0.0 into 0, or from "delete,swap" into a list, fails too: that is the format of
config.json in run folders and bundles. Settings added since (data.caps, data.weights) were
appended to it unset, as every preset leaves them.
"""
import dataclasses
import json
from pathlib import Path

import pytest

from sentiment_lab.config import Config, load_config, preset_names

SNAPSHOT = json.loads((Path(__file__).parent / "data" / "presets_resolved.json").read_text())


def test_the_snapshot_covers_every_preset():
    assert sorted(SNAPSHOT) == preset_names()


@pytest.mark.parametrize("name", sorted(SNAPSHOT))
def test_preset_resolves_to_its_snapshot(name):
    resolved = load_config(name).to_dict()
    assert json.dumps(resolved) == json.dumps(SNAPSHOT[name])


@pytest.mark.parametrize("name", sorted(SNAPSHOT))
def test_a_config_json_written_before_loads_to_the_same_config(name):
    """Run folders and bundles store to_dict() as config.json; Config.from_dict reads it back."""
    assert Config.from_dict(SNAPSHOT[name]) == load_config(name)


def _preset_toml(name):
    import tomllib
    from importlib import resources

    return tomllib.loads(resources.files("sentiment_lab.configs").joinpath(f"{name}.toml").read_text())


@pytest.mark.parametrize("name", [n for n in sorted(SNAPSHOT) if n != "default"])
def test_a_preset_holds_only_its_differences(name):
    """nanoGPT's override files: every preset but default names what it extends and sets only
    what differs there, so its file says what makes it itself."""
    raw = _preset_toml(name)
    base = raw.pop("extends")
    resolved_base = dataclasses.asdict(load_config(base))  # every setting, those to_dict omits at their default too
    for section, values in raw.items():
        for key, value in values.items():
            assert value != resolved_base[section][key], f"{name}.toml repeats {section}.{key} = {value!r} from {base}"


def test_default_lists_every_setting():
    """The base of every chain: a reader of a preset's differences finds every other value here
    (all but the optional ones TOML cannot write as unset)."""
    raw = _preset_toml("default")
    assert "extends" not in raw
    unset = {"data.path", "data.test_path", "data.rating_threshold", "data.limit", "data.caps", "data.weights",
             "train.max_steps"}
    listed = {f"{s}.{k}" for s, values in raw.items() for k in values}
    every = {f"{s}.{k}" for s, values in dataclasses.asdict(Config()).items() for k in values}
    assert listed == every - unset


def test_a_file_extends_a_preset_or_another_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mine.toml").write_text('extends = "seed"  # the notebook\n[model]\nhidden_size = 96\n')
    (tmp_path / "run.toml").write_text('extends = "sub/mine.toml"\n[train]\nepochs = 5\naugment = ["swap"]\n')
    cfg = load_config(tmp_path / "run.toml")
    expected = load_config("seed", ["model.hidden_size=96", "train.epochs=5", "train.augment=swap"])
    assert cfg == expected
    # without `extends` a file is read over the dataclass defaults, as before
    (tmp_path / "plain.toml").write_text("[model]\nhidden_size = 96\n")
    assert load_config(tmp_path / "plain.toml") == Config.from_dict({"model": {"hidden_size": 96}})


@pytest.mark.parametrize("files, message", [
    ({"a.toml": 'extends = "b.toml"\n', "b.toml": 'extends = "a.toml"\n'}, "presets extend each other in a circle"),
    ({"a.toml": 'extends = "a.toml"\n'}, "presets extend each other in a circle"),
    ({"a.toml": 'extends = "nope"\n'}, "unknown preset 'nope'"),
    ({"a.toml": 'extends = "missing.toml"\n'}, "missing.toml"),
    ({"a.toml": "extends = 3\n"}, "extends in .*a.toml must be a preset name or a .toml path, got 3"),
    ({"a.toml": '[train]\nextends = "seed"\n'}, "unknown config key train.extends"),
])
def test_bad_extends_fail_clearly(tmp_path, files, message):
    from sentiment_lab.exceptions import ConfigError

    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path / "a.toml")
