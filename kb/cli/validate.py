"""``ekb validate``: check study files against the SHACL shapes."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from kb.cli.common import handle_errors, kb_option

_SEVERITY_CHOICES = {"violation": "Violation", "warning": "Warning", "info": "Info"}


@click.command("validate")
@click.argument(
    "paths", nargs=-1, type=click.Path(exists=True, path_type=Path), metavar="[PATH]..."
)
@kb_option
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report format: text for people, json for programs.",
)
@click.option(
    "-s",
    "--severity",
    type=click.Choice(sorted(_SEVERITY_CHOICES)),
    default="warning",
    show_default=True,
    help="Least serious finding listed line by line in the text report (all are counted).",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Validate this many files at once, in worker processes (for large knowledge bases).",
)
@click.option(
    "--engine",
    type=click.Choice(["auto", "pyshacl", "turbo"]),
    default="auto",
    show_default=True,
    help="SHACL engine: pyshacl (the reference), turbo (pySHACL-turbo, many files per run),"
    " auto (turbo for 50 or more files to check, when installed). Same findings either way.",
)
@handle_errors
def validate(
    paths: tuple[Path, ...],
    kb_dir: Path | None,
    fmt: str,
    severity: str,
    jobs: int,
    engine: str,
) -> None:
    """Check studies against the SHACL shapes.

    With no PATH, every study of the knowledge base (--kb, $EKB_KB, or the
    shipped one). A PATH may be a study file, a folder of them, or a knowledge
    base folder. Exit 0 when nothing is a Violation (warnings and infos are
    allowed), 1 when something is, 2 on a usage error, 3 when a file cannot be
    read or is not valid Turtle (the message names the file and line).
    """
    if sys.stderr.isatty():
        # Loading pySHACL and the shapes takes seconds before the first file is done: say at
        # once what is being checked (only on a terminal, so piped output is unchanged).
        what = ", ".join(str(p) for p in paths[:3]) + (" ..." if len(paths) > 3 else "")
        if not paths:
            where = kb_dir or os.environ.get("EKB_KB") or "the shipped knowledge base"
            what = f"the studies of {where}"
        click.echo(f"validating {what} ...", err=True)
    from kb.validation import format_text, validate_kb, validate_paths

    with _progress() as progress:
        if paths:
            report = validate_paths(
                list(paths), kb_dir, jobs=jobs, progress=progress, engine=engine
            )
        else:
            report = validate_kb(kb_dir, jobs=jobs, progress=progress, engine=engine)
    if fmt == "json":
        click.echo(report.to_json(), nl=False)
    else:
        from kb.text import escape_controls

        click.echo(escape_controls(format_text(report, _SEVERITY_CHOICES[severity])), nl=False)
    if not report.conforms:
        sys.exit(1)


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr when it is a terminal and the work is long; else nothing."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress(
        "validating",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = None

    def update(done: int, total: int) -> None:
        nonlocal task
        if total < 20:  # a handful of files needs no bar
            return
        if task is None:
            bar.start()
            task = bar.add_task("validating", total=total)
        bar.update(task, completed=done)

    try:
        yield update
    finally:
        bar.stop()
