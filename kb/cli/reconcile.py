"""``ekb diff | reconcile``: double extraction (two extractors, one consensus)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from kb.cli.common import handle_errors, kb_option


@click.command("diff")
@click.argument("a")
@click.argument("b")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help='text, or json: a list of {"path", "a", "b", "kind"}.',
)
@click.option(
    "--summary",
    is_flag=True,
    help="A and B are folders of extractions (paired by study id): agreement per field and "
    "Cohen's kappa for categorical fields.",
)
@kb_option
@handle_errors
def diff(a: str, b: str, fmt: str, summary: bool, kb_dir: Path | None) -> None:
    """Compare two extractions of one study, field by field.

    A and B are extraction forms (.yaml), study files (.ttl) or study ids in the
    knowledge base. Structural differences come first (records or timepoints only one
    has), then values filled differently, then fields only one extractor filled.

    A and B may also be two assessors' risk-of-bias forms (.yaml with tool:) of one
    result: signalling answers per question, quotes, overrides, then the judgements
    that follow from each side's answers (kind "derived", no decision needed).

    Exit 0 when they agree, 1 when they differ, 2 when they are of different studies
    (or results, tools, RoB 2 aims). With --summary, exit 0 (the table is the result).
    """
    from kb import reconciliation

    if summary:
        result = reconciliation.summary(Path(a), Path(b), kb_dir)
        if fmt == "json":
            click.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
        else:
            click.echo(reconciliation.agreement_text(result), nl=False)
        return
    comparison = reconciliation.diff(a, b, kb_dir)
    if fmt == "json":
        shown = [d.as_json() for d in comparison.differences]
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
    else:
        click.echo(reconciliation.diff_text(comparison), nl=False)
    sys.exit(0 if comparison.agree else 1)


@click.command("reconcile")
@click.argument("a")
@click.argument("b")
@click.option(
    "--decisions",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="YAML: adjudicated_by, adjudicated_on and decisions: {PATH: {take: a|b | value: V, "
    "reason: WHY}}.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Write the consensus form here (only when every disagreement is decided).",
)
@kb_option
@handle_errors
def reconcile(a: str, b: str, decisions: Path | None, output: Path, kb_dir: Path | None) -> None:
    """Write the consensus form of two extractions of one study (or of two assessors'
    risk-of-bias forms of one result: the consensus passes `ekb rob check`, and
    `ekb rob add` stores it with its decisions in the review's file).

    Values both agree on are kept; every disagreement `ekb diff A B` lists needs a
    decision in --decisions. The consensus records each decision (candidates with
    extractor and date, chosen value, adjudicator, date, reason); `ekb add` keeps it.

    Exit 1, writing nothing, while a disagreement has no decision, a decision names no
    disagreement or gives a value that does not suit its field, or the consensus does
    not pass the checks of `ekb add`; exit 2 for extractions of different studies.
    """
    from kb import reconciliation

    result = reconciliation.reconcile_files(a, b, decisions, output, kb_dir)
    click.echo(
        f"wrote {output}: consensus of {result.comparison.subject}, "
        f"{result.decided} decision{'s' if result.decided != 1 else ''} recorded",
        err=True,
    )
