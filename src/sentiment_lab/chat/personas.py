"""Personas: the system prompts the chat starts from, shipped as versioned TOML in personas/
(name, version, language, description, prompt as a Jinja2 template).

    tutor-fr   the course's teaching assistant in French (the default when the interface
               language, $LC_ALL / $LC_MESSAGES / $LANG / $LANGUAGE, is French)
    tutor-en   the same in English (the default otherwise)
    plain      a helpful assistant with no course role

A persona may also be a FILE: a .toml in the same format, or any text file whose text is the
system prompt. The tutors are given the course's topics and, per concept, the sentiment-lab
command that shows it (COMMANDS), so that they suggest commands that exist.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2

from sentiment_lab.exceptions import SentimentLabError

NAMES = ("tutor-fr", "tutor-en", "plain")
TOPICS = ("RNN", "LSTM", "GRU", "gates", "embeddings", "padding", "overfitting", "attention")
COMMANDS = (  # (concept, command): each command is a real one (tests/test_chat.py checks)
    ("gates, hidden states, which words pushed a prediction", "sentiment-lab explain \"a review\""),
    ("embeddings", "sentiment-lab embeddings"),
    ("overfitting, learning curves", "sentiment-lab plot RUN_DIR"),
    ("training an RNN, LSTM or GRU", "sentiment-lab train --preset seed"),
    ("negation, sarcasm and other hard cases", "sentiment-lab challenge"),
    ("a prediction on your own sentence", "sentiment-lab predict \"a review\""),
)


@dataclass(frozen=True)
class Persona:
    name: str
    version: int
    language: str
    prompt: str  # the rendered system prompt


def interface_language() -> str:
    """"fr" when the locale variables say French, else "en"."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(var, "")
        if value:
            return "fr" if value.lower().startswith("fr") else "en"
    return "en"


def default_persona() -> str:
    return "tutor-fr" if interface_language() == "fr" else "tutor-en"


def load_persona(name_or_file: str | Path | None = None) -> Persona:
    """A shipped persona by name, or a persona file; None: the interface language's tutor."""
    name = str(name_or_file or default_persona())
    if name in NAMES:
        source = resources.files("sentiment_lab").joinpath("chat", "personas", f"{name}.toml").read_text("utf-8")
        return _from_toml(source, name)
    path = Path(name)
    if not path.is_file():
        raise SentimentLabError(f"unknown persona {name!r}: choose one of {', '.join(NAMES)}, or give a file "
                                "(.toml like the shipped ones, or a text file holding the system prompt)")
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as exc:
        raise SentimentLabError(f"cannot read the persona file {path}: {exc.__class__.__name__}") from None
    if path.suffix == ".toml":
        return _from_toml(text, str(path))
    if not text.strip():
        raise SentimentLabError(f"the persona file {path} is empty")
    return Persona(name=path.stem, version=0, language=interface_language(), prompt=text.strip())


def _from_toml(text: str, where: str) -> Persona:
    try:
        data = tomllib.loads(text)
        template = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False).from_string(data["prompt"])
        prompt = template.render(topics=TOPICS, commands=COMMANDS).strip()
        return Persona(name=str(data["name"]), version=int(data["version"]), language=str(data.get("language", "en")),
                       prompt=prompt)
    except tomllib.TOMLDecodeError as exc:
        raise SentimentLabError(f"persona {where}: not valid TOML ({exc})") from None
    except KeyError as exc:
        raise SentimentLabError(f"persona {where}: missing key {exc} (name, version and prompt are required)") from None
    except (jinja2.TemplateError, TypeError, ValueError) as exc:
        raise SentimentLabError(f"persona {where}: the prompt does not render ({exc})") from None
