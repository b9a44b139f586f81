"""Options and error handling shared by every command.

Library errors (:mod:`kb.errors`) become a one-line message on stderr and the
documented exit code here, in one place; a user's mistake never shows a traceback.
"""

from __future__ import annotations

import functools
import logging
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
        # rdflib logs a traceback for every ill-typed literal ("ten"^^xsd:integer)
        # it meets; validation reports those as findings, so the log is noise.
        logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)
        try:
            return func(*args, **kwargs)
        except KbError as exc:
            click.echo(f"ekb: {safe_message(str(exc))}", err=True)
            sys.exit(exc.exit_code)
        except RecursionError:
            click.echo("ekb: the input is nested too deeply to process", err=True)
            sys.exit(3)
        except OSError as exc:
            # Disk full, quota, read-only file system...: the library wrote
            # atomically, so nothing half written is left.
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"ekb: {safe_message(where + (exc.strerror or str(exc)))}", err=True)
            sys.exit(3)
        except BrokenPipeError:
            # `ekb query ... | head` closes stdout early; that is not an error.
            sys.stderr.close()
            sys.exit(0)

    return wrapper  # type: ignore[return-value]


def safe_message(text: str) -> str:
    """A message fit for a terminal: secrets masked, control characters escaped."""
    from kb.redact import redact_text
    from kb.text import escape_controls

    return escape_controls(redact_text(text))


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


def format_option(*choices: str, help: str | None = None) -> Callable[[F], F]:
    """``-f/--format``, one of ``choices`` (the first is the default), as ``fmt``."""
    return click.option(
        "-f",
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help=help,
    )


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
