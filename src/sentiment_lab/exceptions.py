"""User-facing errors. The CLI and the web API turn these into one-line messages;
anything else is a bug and keeps its traceback."""
from pathlib import Path


class SentimentLabError(Exception):
    """Base class: the message is written for the user and fits on one line."""


class ConfigError(SentimentLabError, ValueError):
    """An unknown key, a wrong type or an invalid value in a config, override or argument
    (also a ValueError, what Python code catches for a bad argument)."""


class DataError(SentimentLabError):
    """Unreadable data: a missing column, an unknown label, a corrupted archive."""


class BundleError(SentimentLabError):
    """A model bundle that is missing a file, or whose files do not match their checksums."""


class InputError(SentimentLabError):
    """Text that cannot be classified: empty, too long, not UTF-8."""


def require_file(path: "str | Path", error: type[SentimentLabError] = DataError) -> "Path":
    """The path of an input file, or a one-line error that says whether it is missing or a folder."""
    path = Path(path)
    if path.is_dir():
        raise error(f"{path} is a folder; give a file")
    if not path.is_file():
        raise error(f"file not found: {path}")
    return path
