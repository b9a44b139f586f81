"""``ekb validate``: check study files against the SHACL shapes."""

from __future__ import annotations

import sys
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
@handle_errors
def validate(paths: tuple[Path, ...], kb_dir: Path | None, fmt: str, severity: str) -> None:
    """Check studies against the SHACL shapes.

    With no PATH, every study of the knowledge base (--kb, $EKB_KB, or the
    shipped one). A PATH may be a study file, a folder of them, or a knowledge
    base folder. Exit 0 when nothing is a Violation (warnings and infos are
    allowed), 1 when something is, 2 on a usage error, 3 when a file cannot be
    read or is not valid Turtle (the message names the file and line).
    """
    from kb.validation import format_text, validate_kb, validate_paths

    report = validate_paths(list(paths), kb_dir) if paths else validate_kb(kb_dir)
    if fmt == "json":
        click.echo(report.to_json(), nl=False)
    else:
        click.echo(format_text(report, _SEVERITY_CHOICES[severity]), nl=False)
    if not report.conforms:
        sys.exit(1)
