"""``ekb grade ...``: GRADE ratings per outcome of a review (suggested by rule, final by you)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kb.cli.common import format_option, handle_errors, kb_option


@click.group("grade")
def grade_group() -> None:
    """GRADE certainty per outcome of a review: suggestions, final ratings."""


@grade_group.command("add")
@click.argument("form", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--review", required=True, help="The review the ratings belong to.")
@click.option("--force", is_flag=True, default=False, help="Replace the outcome's ratings.")
@kb_option
@handle_errors
def add_command(form: Path, review: str, force: bool, kb_dir: Path | None) -> None:
    """Store a reviewer's final GRADE ratings (FORM.yaml) in REVIEW's file."""
    from kb.grade.store import add_ratings

    outcome, finals = add_ratings(form, review, kb_dir, force=force)
    click.echo(f"ekb: stored {len(finals)} final rating(s) for {outcome}", err=True)


@grade_group.command("show")
@click.argument("review")
@click.option("--outcome", default=None, help="Only this outcome of the question.")
@format_option("table", "json")
@kb_option
@handle_errors
def show_command(review: str, outcome: str | None, fmt: str, kb_dir: Path | None) -> None:
    """Per outcome and domain: the suggested rating with its rule, the final rating, why."""
    from kb.grade.sof import build

    table = build(review, kb_dir, outcome=outcome)
    if fmt == "json":
        data = [
            {"outcome": r.outcome, "certainty": r.as_dict()["certainty"], "message": r.message}
            for r in table.rows
        ]
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    for r in table.rows:
        click.echo(f"{r.outcome} ({r.label})")
        if r.certainty is None:
            click.echo(f"  {r.message}\n")
            continue
        c = r.certainty
        click.echo(f"  start: {c.start} ({c.start_reason})")
        for d in c.domains:
            mark = "  <- reviewer" if d.changed_by_reviewer else ""
            click.echo(
                f"  {d.domain:24} suggested {d.suggested:18} [{d.rule}]  final "
                f"{d.final or '-'}{mark}"
            )
            click.echo(f"  {'':24} {d.reason}")
        # ``how`` starts with "not rated: ..." when there is no rating.
        click.echo(f"  certainty: {c.how if c.rating is None else f'{c.rating} ({c.how})'}\n")
