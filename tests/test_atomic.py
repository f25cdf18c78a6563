"""Atomic writes: outputs appear whole or not at all, with ordinary permissions, and an output
folder never replaces a file or someone else's folder."""
import os
import stat

import pytest

from sentiment_lab.fileio import check_dir_target, replacing, swap_dir, write_json, write_text
from sentiment_lab.exceptions import InputError


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_written_files_get_the_mode_open_would_give(tmp_path, umask_022):
    # mkstemp makes 0600 files: a bundle copied to a server or shared with a class was unreadable
    write_json(tmp_path / "m.json", {"a": 1})
    assert mode(tmp_path / "m.json") == 0o644
    assert (tmp_path / "m.json").read_text() == '{\n  "a": 1\n}\n'


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    target = write_text(tmp_path / "out.txt", "old")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_a_folder_or_missing_parent_is_a_one_line_error(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(InputError, match="is a folder"):
        write_json(tmp_path / "d", {})
    with pytest.raises(InputError, match="does not exist"):
        write_json(tmp_path / "nope" / "m.json", {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"] and not any((tmp_path / "d").iterdir())


def test_output_folders_replace_only_their_own_kind(tmp_path, umask_022):
    (tmp_path / "notes.txt").write_text("precious")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("precious")
    for target in ("notes.txt", "mine"):
        with pytest.raises(InputError):
            check_dir_target(tmp_path / target, "config.json")
    check_dir_target(tmp_path / "new", "config.json")
    (tmp_path / "empty").mkdir()
    check_dir_target(tmp_path / "empty", "config.json")

    def build(text):
        tmp = tmp_path / ".tmp"
        tmp.mkdir(mode=0o700)
        (tmp / "config.json").write_text(text)
        os.chmod(tmp / "config.json", 0o600)
        return tmp

    out = swap_dir(build("v1"), tmp_path / "out", "config.json")
    out = swap_dir(build("v2"), out, "config.json")  # an earlier output of the same kind is replaced
    assert (out / "config.json").read_text() == "v2"
    assert mode(out) == 0o755 and mode(out / "config.json") == 0o644
    with pytest.raises(InputError):
        swap_dir(build("v3"), tmp_path / "mine", "config.json")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "precious"
