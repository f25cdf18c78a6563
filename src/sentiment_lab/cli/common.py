"""Helpers shared by the commands: consoles and error handling (the shared options: _options.py)."""
from __future__ import annotations

import errno
import functools
import sys
from typing import Any, Callable

import typer
from rich.console import Console
from rich.markup import escape

from sentiment_lab.exceptions import SentimentLabError


class LogConsole(Console):
    """The stderr console, which also carries the training log. On a terminal, Rich's `log()`
    (time column, wrapped to the window) without the source location (`train.py:477` is for
    developers). In a file or a pipe, one plain line per message with a date and time, never
    wrapped (Rich wraps and pads log lines at 80 columns there); `print()` does not wrap either."""

    def log(self, *objects: Any, **kwargs: Any) -> None:
        if self.is_terminal:
            kwargs["_stack_offset"] = kwargs.get("_stack_offset", 1) + 1  # Rich finds its caller's frame
            super().log(*objects, **kwargs)
            return
        kwargs.pop("log_locals", None)
        kwargs.pop("_stack_offset", None)
        self.print(f"{self.get_datetime():%Y-%m-%d %H:%M:%S}", *objects, **kwargs)

    def print(self, *objects: Any, **kwargs: Any) -> None:
        if not self.is_terminal:
            kwargs.setdefault("soft_wrap", True)
        super().print(*objects, **kwargs)


class OutConsole(Console):
    """stdout: off a terminal (a pipe, a log file) lines are printed whole, never wrapped at 80
    columns (a run's "bundle: PATH" line was split before its path)."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        if not self.is_terminal:
            kwargs.setdefault("soft_wrap", True)
        super().print(*objects, **kwargs)


console = OutConsole()
err_console = LogConsole(stderr=True, log_path=False)

# a read-only disk, no permission, a full disk or quota: the user's to fix, not a bug
_DISK_ERRORS = {errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT}


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn SentimentLabError into `error: message` and exit code 1 (also under CliRunner)."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SentimentLabError as exc:
            err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except OSError as exc:
            if exc.errno not in _DISK_ERRORS:  # anything else is a bug and keeps its traceback
                raise
            where = f" {exc.filename}" if exc.filename else ""
            err_console.print(f"[red]error:[/red] cannot write{escape(str(where))}: {escape(exc.strerror or str(exc))}",
                              highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise typer.Exit(130) from None
    return wrapper
