"""Options and error handling shared by every command.

Library errors (:mod:`kb.errors`) become a one-line message on stderr and the
documented exit code here, in one place; a user's mistake never shows a traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kb.errors import KbError
from kb.text import did_you_mean  # noqa: F401  (re-exported for the commands)

F = TypeVar("F", bound=Callable[..., Any])


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
