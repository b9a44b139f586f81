"""``ekb sof REVIEW``: the review's Summary of Findings, one row per outcome of its question.

(``ekb export sof`` stays: it lists every study's results line by line with each study's own
claim certainty, which is useful before a review exists.)
"""

from __future__ import annotations

from pathlib import Path

import click

from kb.cli.common import format_option, handle_errors, kb_option, output_option


@click.command("sof")
@click.argument("review")
@format_option(
    "md",
    "html",
    "xlsx",
    "json",
    "fhir",
    help="Markdown, HTML, Excel (needs -o), JSON, or a FHIR R5 Bundle of Evidence.",
)
@click.option("--outcome", default=None, help="Only this outcome (a key of the question).")
@output_option
@kb_option
@handle_errors
def sof_command(
    review: str, fmt: str, outcome: str | None, output: Path | None, kb_dir: Path | None
) -> None:
    """Summary of Findings of REVIEW: pooled relative effect (ekb meta), absolute effects per
    1,000, participants (studies), GRADE certainty with a footnote per change of level, and
    the plain-language statement. An outcome without usable data says so.
    """
    from kb.errors import UsageError
    from kb.fileio import atomic_write_bytes, atomic_write_text
    from kb.grade import sof

    if fmt == "xlsx" and output is None:
        raise UsageError("-f xlsx writes a file: give -o FILE.xlsx")
    table = sof.build(review, kb_dir, outcome=outcome)
    if fmt == "xlsx":
        assert output is not None
        atomic_write_bytes(output, sof.xlsx_bytes(table))
        click.echo(f"ekb: summary of findings written to {output}", err=True)
        return
    writer = {
        "md": sof.format_md,
        "html": sof.format_html,
        "json": sof.format_json,
        "fhir": sof.format_fhir,
    }[fmt]
    text = writer(table)
    if output is not None:
        atomic_write_text(output, text)
    else:
        click.echo(text, nl=False)
