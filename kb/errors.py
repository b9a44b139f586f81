"""The one small hierarchy of errors the library raises.

The command line maps each class to a message and an exit code in one place
(:func:`kb.cli.common.handle_errors`), so library code never calls ``sys.exit``.

Exit codes (also in the README): 0 ok; 1 the data does not conform or a check
failed; 2 usage error; 3 could not run.
"""

from __future__ import annotations


class KbError(Exception):
    """Base class; ``exit_code`` is what the CLI exits with."""

    exit_code: int = 3


class UsageError(KbError):
    """The user asked for something that does not exist or is malformed (exit 2)."""

    exit_code = 2


class CheckFailed(KbError):
    """The data was read but does not conform, or a check failed (exit 1)."""

    exit_code = 1


class CouldNotRun(KbError):
    """A file, endpoint or resource could not be read or reached (exit 3)."""

    exit_code = 3


class RdfSyntaxError(CouldNotRun):
    """An RDF file could not be parsed; the message names the file and line."""

    #: Longest excerpt of a parser's message shown: the message may quote the
    #: file, and the file may be anything (a link to a secret, binary data).
    MAX_DETAIL = 160

    def __init__(self, path: str, line: int | None, detail: str) -> None:
        from kb.text import escape_controls

        detail = escape_controls(" ".join(str(detail).split()))
        if len(detail) > self.MAX_DETAIL:
            detail = detail[: self.MAX_DETAIL] + "..."
        self.path = path
        self.line = line
        self.detail = detail
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: could not parse Turtle: {detail}")


class EndpointError(CouldNotRun):
    """A remote SPARQL endpoint or graph store failed, timed out or refused (exit 3)."""
