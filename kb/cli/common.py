"""Options and error handling shared by every command.

Library errors (:mod:`kb.errors`) become a one-line message on stderr and the
documented exit code here, in one place; a user's mistake never shows a traceback.
"""

from __future__ import annotations

import difflib
import functools
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from kb.errors import KbError

F = TypeVar("F", bound=Callable[..., Any])


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the closest candidate, or an empty string.

    >>> did_you_mean("studie", ["studies", "claims"])
    " Did you mean 'studies'?"
    """
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.5)
    return f" Did you mean {close[0]!r}?" if close else ""


def handle_errors(func: F) -> F:
    """Turn :class:`KbError` into a message on stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KbError as exc:
            click.echo(f"ekb: {exc}", err=True)
            sys.exit(exc.exit_code)
        except BrokenPipeError:
            # `ekb query ... | head` closes stdout early; that is not an error.
            sys.stderr.close()
            sys.exit(0)

    return wrapper  # type: ignore[return-value]


def kb_option(func: F) -> F:
    """``--kb DIR`` (or ``$EKB_KB``): the knowledge base folder; default the shipped one."""
    return click.option(
        "--kb",
        "kb_dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="EKB_KB",
        default=None,
        help="Knowledge base folder (default: $EKB_KB, else the shipped lupus KB).",
    )(func)


def output_option(func: F) -> F:
    """``-o/--output FILE``: write there (atomically) instead of stdout."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write to FILE instead of standard output.",
    )(func)


def endpoint_options(func: F) -> F:
    """``--endpoint URL`` and ``--timeout SECONDS``: query a remote SPARQL 1.1 endpoint."""
    func = click.option(
        "--timeout",
        type=click.FloatRange(min=0.1),
        default=30.0,
        show_default=True,
        help="Seconds to wait for a remote endpoint before giving up (exit 3).",
    )(func)
    return click.option(
        "--endpoint",
        metavar="URL",
        default=None,
        help="Query this SPARQL 1.1 endpoint instead of the embedded store.",
    )(func)
