"""--help over every registered command and subcommand, and one vocabulary for the options that
cli/_options.py declares: `-m/--model` in every command that uses a model, `-o/--output` in every
command that writes, and no command declaring one of them under another name (train's
`--run-dir`, explain's `--out-dir`, experiment's `--out`, download's `--dest`, generate's LLM
`--model`, challenge's `--failures`: now hidden old names)."""
import re

import pytest
import typer.main
from typer.testing import CliRunner

from sentiment_lab.cli import app
from sentiment_lab.cli._options import (EXAMPLES, LABEL_COLUMN, LLM_MODEL, MODEL, OLD_NAMES, OUTPUT, TEXT_COLUMN,
                                        label_column_option, text_column_option)

runner = CliRunner()


def walk(command, path=()):
    """(path, click command) for the application, every group and every command in them."""
    yield path, command
    for name in sorted(getattr(command, "commands", {})):
        yield from walk(command.commands[name], (*path, name))


ROOT = typer.main.get_command(app)
ALL = {" ".join(path): command for path, command in walk(ROOT)}
COMMANDS = {name: command for name, command in ALL.items() if not hasattr(command, "commands")}

# What each command does, written out so that a new command has to be placed here.
USES_A_MODEL = {"predict", "evaluate", "challenge", "explain", "embeddings", "errors", "data-plots", "compare",
                "export", "serve", "baseline evaluate", "baseline predict"}
WRITES = {"train", "evaluate", "predict", "experiment", "report", "data-plots", "embeddings", "explain", "errors",
          "challenge", "compare", "baseline train", "baseline evaluate", "export", "download", "generate", "chat"}
NEITHER = {"plot", "datasets"}  # writes RUN_DIR/plots/, inside the run it reads: nothing to choose

# The Python name each shared option has in a command's signature.
SHARED = {"model": MODEL, "output": OUTPUT, "examples": EXAMPLES, "llm_model": LLM_MODEL,
          "text_column": TEXT_COLUMN, "label_column": LABEL_COLUMN}


SHAPES = {frozenset(canonical) for canonical in OLD_NAMES}  # the shared options as declared
RESERVED = {name for canonical, old in OLD_NAMES.items() for name in (*canonical, *old)}  # their names, old too


def options(command):
    return [p for p in command.params if p.param_type_name == "option" and p.name != "help"]


def names(param) -> set[str]:
    return {*param.opts, *param.secondary_opts}


def test_every_command_is_placed():
    assert len(COMMANDS) >= 19
    assert set(COMMANDS) == USES_A_MODEL | WRITES | NEITHER and not NEITHER & (USES_A_MODEL | WRITES)


@pytest.mark.parametrize("name", sorted(ALL))
def test_help_of_every_command_and_subcommand(name):
    r = runner.invoke(app, [*name.split(), "--help"])
    assert r.exit_code == 0, r.output
    assert r.output.lstrip().startswith(f"Usage: sentiment-lab {name}".rstrip()), r.output
    shown = r.output.replace("│", " ").split()
    if name in USES_A_MODEL:
        assert re.search(r"--model\s+-m\s", r.output), r.output
    if name in WRITES:
        assert re.search(r"--output\s+-o\s", r.output), r.output
    for param in ALL[name].params:
        if param.hidden:
            assert not names(param) & set(shown), (name, param.opts)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_shared_options_have_one_name_everywhere(name):
    """Each option either is a shared option as _options.py declares it, or a hidden old name of
    one that the command also declares, or uses none of their names."""
    command = COMMANDS[name]
    declared = {frozenset(names(p)) for p in options(command) if not p.hidden}
    assert (frozenset(MODEL) in declared) == (name in USES_A_MODEL)
    assert (frozenset(OUTPUT) in declared) == (name in WRITES)
    wrong = []
    for p in options(command):
        if p.hidden:
            new = [canonical for canonical, old in OLD_NAMES.items() if names(p) <= set(old)]
            if not (new and frozenset(new[0]) in declared and p.name.startswith("old_")):
                wrong.append(f"hidden {p.opts}: not an old name of an option the command has")
            continue
        if frozenset(names(p)) not in SHAPES and names(p) & RESERVED:
            wrong.append(f"{p.name} {p.opts}: _options.py declares " + " and ".join(
                "/".join(canonical) for canonical, old in OLD_NAMES.items() if names(p) & {*canonical, *old}))
        if p.name in SHARED and names(p) != set(SHARED[p.name]):
            wrong.append(f"{p.name} {p.opts}: _options.py declares {'/'.join(SHARED[p.name])}")
    assert wrong == []


@pytest.mark.parametrize("option, factory, value", [(TEXT_COLUMN, text_column_option, "text"),
                                                    (LABEL_COLUMN, label_column_option, "label")])
def test_one_default_and_help_text_for_the_table_columns(option, factory, value):
    """"text" (or "label"), or None where a command takes the one its bundle or config names."""
    found = {}
    inherited = factory("SOURCE").help.split("SOURCE")[0]
    for name, command in COMMANDS.items():
        for p in options(command):
            if set(option) & names(p):
                assert (p.default, p.help) == (value, factory().help) or \
                    (p.default is None and p.help.startswith(inherited)), (name, p.default, p.help)
                found[name] = p.default
    assert len(found) >= 6 and found["errors"] == value and found["evaluate"] is None and found["train"] is None


def test_the_synopses_in_commands_md_use_the_names_help_shows():
    """docs/commands.md listed `download [--dest PATH]` and `evaluate [--examples 8]`; each option a
    synopsis names is one that the command's --help shows (not a hidden old name)."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "commands.md").read_text()
    synopses: list[str] = []
    for block in re.findall(r"```\n(.*?)```", doc, re.S):
        for line in block.splitlines():
            line = line.split("  #")[0]
            if line.startswith(" ") and synopses:
                synopses[-1] += line
            elif line.startswith("sentiment-lab "):
                synopses += re.split(r"\s\|\s+(?=sentiment-lab )", line)
    assert len(synopses) >= 20
    wrong = []
    for synopsis in synopses:
        words = synopsis.split()[1:]
        name = " ".join(words[:2]) if words[0] in ALL and hasattr(ALL[words[0]], "commands") else words[0]
        shown = {n for p in options(COMMANDS[name]) if not p.hidden for n in names(p)}
        wrong += [(name, flag) for flag in re.findall(r"(?<![\w-])(--?[a-z][\w-]*)(?![\w.-])", synopsis)
                  if flag not in shown]
    assert wrong == []
