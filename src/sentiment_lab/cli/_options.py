"""The options the commands share, declared once (spaCy's `Arg`/`Opt` aliases): the same thing has
the same name, short form, default and help text in every command.

    -m, --model MODEL     the model a command uses: a shipped name (imdb, general) or a bundle
                          folder (./imdb for a folder named like a shipped model); for the
                          baselines, their DIRECTORY
    -o, --output PATH     every file or folder a command writes
    -n, --examples N      how many examples (predictions, mistakes, failures) a command shows
    --llm-model NAME      an LLM's name at the provider (never a bundle)
    --text-column C       the text column of a table: "text", or the bundle's or config's
    --label-column C      the label column of a table: "label", or the bundle's or config's

Earlier spellings stay accepted, hidden from --help (OLD_NAMES): a command declares one with
`old_name("--run-dir")` beside the option and takes its value with `renamed()`.
`tests/test_cli_options.py` checks that no command declares these options under another name.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, TypeVar, Union

import typer

from sentiment_lab.exceptions import InputError

MODEL = ("--model", "-m")
OUTPUT = ("--output", "-o")
EXAMPLES = ("--examples", "-n")
LLM_MODEL = ("--llm-model",)
TEXT_COLUMN = ("--text-column",)
LABEL_COLUMN = ("--label-column",)

# The names each option had before, still accepted (hidden): predict and data-plots' --bundle;
# train --run-dir, explain --out-dir, experiment --out, download --dest, chat --save (the issue's
# spelling of its transcript file); challenge --failures;
# generate --model (an LLM name, where every other command's --model is a bundle).
OLD_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {
    MODEL: ("--bundle",),
    OUTPUT: ("--run-dir", "--out-dir", "--out", "--dest", "--save"),
    EXAMPLES: ("--failures",),
    LLM_MODEL: ("--model",),
    TEXT_COLUMN: (),
    LABEL_COLUMN: (),
}

MODEL_HELP = "A shipped model (imdb, general) or a bundle folder (default: the default shipped model)."
LLM_MODEL_HELP = "LLM name (Mistral: mistral-small-latest)."
LABEL_VALUES = "0/1, pos/neg, positive/negative, true/false, or star ratings"


def model_option(help: str = MODEL_HELP, metavar: str = "MODEL") -> Any:
    """`-m/--model MODEL`, the same in every command that uses a model. Commands take it as a str
    (a Path would turn "./imdb" into "imdb", a shipped name) and resolve it, and a positional
    model if they take one, with `pick_model`."""
    return typer.Option(None, *MODEL, metavar=metavar, help=help, show_default=False)


def output_option(default: Optional[Path] = None, *, help: str) -> Any:
    """`-o/--output PATH` for what a command writes; the help says what is written there."""
    return typer.Option(default, *OUTPUT, help=help)


def examples_option(default: int, *, help: str) -> Any:
    """`-n/--examples N`: how many examples a command shows."""
    return typer.Option(default, *EXAMPLES, help=help)


def llm_model_option(help: str = LLM_MODEL_HELP) -> Any:
    """`--llm-model NAME`: the model at the LLM provider."""
    return typer.Option(None, *LLM_MODEL, help=help, show_default=False)


def text_column_option(default_from: Optional[str] = None) -> Any:
    """`--text-column`: "text", or None meaning the one `default_from` names (the bundle's, the
    config's), where a command reads it from there."""
    if default_from is None:
        return typer.Option("text", *TEXT_COLUMN, help="Text column of a table.")
    return typer.Option(None, *TEXT_COLUMN, show_default=False,
                        help=f"Text column of a table (default: {default_from}).")


def label_column_option(default_from: Optional[str] = None) -> Any:
    """`--label-column`: "label", or None meaning the one `default_from` names."""
    if default_from is None:
        return typer.Option("label", *LABEL_COLUMN, help=f"Label column of a table: {LABEL_VALUES}.")
    return typer.Option(None, *LABEL_COLUMN, show_default=False,
                        help=f"Label column of a table: {LABEL_VALUES} (default: {default_from}).")


def old_name(*names: str) -> Any:
    """An option's earlier spelling, still accepted and hidden from --help (one of OLD_NAMES)."""
    return typer.Option(None, *names, hidden=True)


T = TypeVar("T")


def renamed(value: T, old_value: Optional[T], name: str, old: str, default: Any = None) -> T:
    """The value given under an option's name or under its old spelling: one of them, or both if
    they agree (`default` is the option's own, which says it was not given)."""
    if old_value is None:
        return value
    if value != default and value != old_value:
        raise InputError(f"{old} is the old name of {name}; give one of them")
    return old_value


ModelRef = Optional[Union[str, Path]]


def pick_model(positional: ModelRef, option: ModelRef, old: ModelRef = None) -> Optional[Path]:
    """The folder of the model given positionally or with -m (or the old --bundle): one of
    them, or both if they name the same folder; a shipped name (a str such as "imdb") is
    resolved to its folder (inference/shipped.py), None stays None (the command's default)."""
    from sentiment_lab.inference.shipped import resolve_model

    option = renamed(option, old, "--model", "--bundle")
    found = [resolve_model(ref) for ref in (option, positional) if ref is not None]
    if len(found) == 2 and found[0].resolve() != found[1].resolve():
        raise InputError(f"two models given: {positional} and -m {option}; give one")
    return found[0] if found else None
