"""``ekb export FORMAT``: write the selected studies in a review format."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from kb.cli.common import did_you_mean, endpoint_options, handle_errors, kb_option
from kb.cli.completion import complete_study_ids
from kb.export import FORMATS, format_names


class FormatChoice(click.Choice):
    """A choice of the registered formats; an unknown one suggests the closest."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value in self.choices:
            return value
        hint = did_you_mean(str(value), self.choices)
        self.fail(f"unknown format {value!r}.{hint} Formats: {', '.join(self.choices)}", param, ctx)


def _formats_help() -> str:
    return "\n".join(f"  {name:8} {FORMATS[name][1]}" for name in format_names())


@click.command(
    "export",
    help="Write the selected studies as FORMAT for a systematic review.\n\n\b\nFormats:\n"
    + _formats_help()
    + "\n\nEvery row carries its caveats and provenance;"
    " the same knowledge base gives the same bytes."
    " csv writes a folder (-o DIR); the others write -o FILE or standard output."
    " Exit 1 when no study matches, or when RevMan cannot carry any selected study (single-arm).",
)
@click.argument("fmt", metavar="FORMAT", type=FormatChoice(format_names()))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Write to FILE (a folder for csv) instead of standard output.",
)
@click.option(
    "--study",
    "study_ids",
    multiple=True,
    metavar="ID",
    shell_complete=complete_study_ids,
    help="Only this study (repeatable).",
)
@click.option(
    "--condition",
    metavar="C",
    default=None,
    help="Only studies of this condition or a narrower one (label, synonym, CURIE or IRI).",
)
@click.option(
    "--intervention",
    metavar="I",
    default=None,
    help="Only studies with an arm receiving this agent (or a narrower one).",
)
@click.option(
    "--outcome",
    metavar="O",
    default=None,
    help="Only studies measuring this outcome; outcome tables keep only it.",
)
@click.option(
    "--review",
    metavar="REVIEW",
    default=None,
    help="Only the studies this review includes (its id; see `ekb review list`).",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="List every item behind a summary line (revman: each skipped comparison).",
)
@kb_option
@endpoint_options
@handle_errors
def export_command(
    fmt: str,
    output: Path | None,
    study_ids: tuple[str, ...],
    condition: str | None,
    intervention: str | None,
    outcome: str | None,
    review: str | None,
    verbose: bool,
    kb_dir: Path | None,
    endpoint: str | None,
    timeout: float,
) -> None:
    from kb.export import export

    rendered = export(
        fmt,
        kb_dir=kb_dir,
        endpoint=endpoint,
        timeout=timeout,
        study_ids=study_ids,
        condition=condition,
        intervention=intervention,
        outcome=outcome,
        output=output,
        review=review,
    )
    for message in rendered.messages + (rendered.details if verbose else []):
        click.echo(message, err=True)
    if output is None:
        data = rendered.files[""]
        if fmt == "xlsx" and sys.stdout.isatty():
            raise click.UsageError("xlsx is binary: give a file with -o FILE.xlsx")
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        click.echo(f"wrote {fmt} to {output}", err=True)
