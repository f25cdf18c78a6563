"""Every shipped preset resolves to exactly the Config it resolved to before presets were
rewritten as differences from default.toml and constraints moved next to the fields.

tests/data/presets_resolved.json is `load_config(name).to_dict()` for every preset, taken
before those changes (commit 3e489ee's config.py). It is compared as JSON text, so a value that
turns from 0.0 into 0, or from "delete,swap" into a list, fails too: that is the format of
config.json in run folders and bundles.
"""
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
