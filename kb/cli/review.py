"""``ekb review new | add | show | list | status | prisma``: systematic reviews as data."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from kb.cli.common import format_option, handle_errors, kb_option, output_option


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
    else:
        from kb.fileio import atomic_write_text

        atomic_write_text(output, text)
        click.echo(f"wrote {output}", err=True)


@click.group("review", context_settings={"help_option_names": ["-h", "--help"]})
def review_group() -> None:
    """Systematic reviews kept as data: the question, screening decisions, PRISMA 2020.

    A review lives in reviews/<id>.ttl of the knowledge base, written from a
    YAML review form. PRISMA counts and included studies are derived from its
    records, never typed in.
    """


@review_group.command("new")
@output_option
@handle_errors
def new(output: Path | None) -> None:
    """Print a blank review form (YAML, a comment on every field)."""
    from kb.sysreview.form import blank_form

    _write(blank_form(), output)


@review_group.command("add")
@click.argument("form", type=click.Path(dir_okay=False, path_type=Path))
@kb_option
@click.option("--force", is_flag=True, help="Replace the review if it is already there.")
@handle_errors
def add(form: Path, kb_dir: Path | None, force: bool) -> None:
    """Check a review form and add it as reviews/<id>.ttl (nothing is written on a problem).

    Exit 1 when the form does not conform (each problem names its field path),
    2 when the review exists (use --force) or its id is not a safe name, 3 when
    the form cannot be read.
    """
    from kb.sysreview import add_review

    prepared = add_review(form, kb_dir, force=force)
    infos = [w for w in prepared.warnings if w.startswith("Info:")]
    for warning in prepared.warnings:
        if not warning.startswith("Info:"):
            click.echo(f"{prepared.origin}: {warning}", err=True)
    verb = "replaced" if prepared.replaces else "added"
    hint = f" ({len(infos)} info{'s' if len(infos) != 1 else ''})" if infos else ""
    click.echo(f"{verb} review {prepared.review.id}: {prepared.path}{hint}", err=True)


@review_group.command("show")
@click.argument("review")
@format_option(
    "yaml",
    "md",
    "ttl",
    help="yaml: the review form (ekb review add takes it back); md: a page; ttl: canonical Turtle.",
)
@kb_option
@output_option
@handle_errors
def show(review: str, fmt: str, kb_dir: Path | None, output: Path | None) -> None:
    """Show one review (by id)."""
    from kb.sysreview import show_review

    _write(show_review(kb_dir, review, fmt), output)


@review_group.command("list")
@format_option("table", "json")
@kb_option
@handle_errors
def list_command(fmt: str, kb_dir: Path | None) -> None:
    """List the reviews of the knowledge base: id, records, included studies, title."""
    import json

    from kb.sysreview import list_reviews

    reviews = list_reviews(kb_dir)
    rows: list[dict[str, Any]] = [
        {
            "review": r.id,
            "records": len(r.records),
            "included_studies": len(r.included_study_ids),
            "title": r.title,
        }
        for r in reviews
    ]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no reviews in this knowledge base (ekb review new -o review.yaml)", err=True)
        return
    width = max(len(r["review"]) for r in rows)
    click.echo(f"{'review':<{width}}  records  included  title")
    for row in rows:
        click.echo(
            f"{row['review']:<{width}}  {row['records']:>7}  {row['included_studies']:>8}  "
            f"{row['title']}"
        )


@review_group.command("status")
@click.argument("review")
@format_option("text", "json")
@kb_option
@handle_errors
def status(review: str, fmt: str, kb_dir: Path | None) -> None:
    """What is screened, what is left, the included studies, and which of them have no
    result for each outcome of interest."""
    from kb.kbdir import resolve_kb
    from kb.store import EmbeddedStore
    from kb.sysreview import load_review
    from kb.sysreview.status import review_status

    kb = resolve_kb(kb_dir)
    result = review_status(load_review(kb, review), EmbeddedStore.open_kb(kb))
    click.echo(result.to_json() if fmt == "json" else result.to_text(), nl=False)


@review_group.command("prisma")
@click.argument("review")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="flow.svg or flow.png: the diagram; flow.csv: the PRISMA2020 R package's input CSV.",
)
@format_option(
    "text",
    "json",
    help="What goes to standard output: the counts by box as text or JSON.",
)
@kb_option
@handle_errors
def prisma(review: str, output: Path | None, fmt: str, kb_dir: Path | None) -> None:
    """The PRISMA 2020 flow of REVIEW, counted from its records.

    Prints the counts by box (PRISMA2020 CSV key); with -o, also writes the
    diagram (.svg, .png) or the PRISMA2020 CSV (.csv).
    """
    from kb.errors import UsageError
    from kb.sysreview import load_review, prisma_counts, prisma_csv

    if output is not None and output.suffix.lower() not in (".svg", ".png", ".csv"):
        raise UsageError(f"{output}: the output must end in .svg, .png or .csv")
    loaded = load_review(kb_dir, review)
    counts = prisma_counts(loaded)
    if fmt == "json":
        click.echo(counts.to_json(), nl=False)
    else:
        click.echo(_counts_text(counts), nl=False)
    if output is None:
        return
    if output.suffix.lower() == ".csv":
        from kb.fileio import atomic_write_text

        atomic_write_text(output, prisma_csv(counts))
    else:
        from kb.sysreview.diagram import draw_flow

        draw_flow(counts, output, title=loaded.title)
    click.echo(f"wrote {output}", err=True)


def _counts_text(counts: object) -> str:
    from kb.sysreview.prisma import PrismaCounts

    assert isinstance(counts, PrismaCounts)
    boxes = counts.to_dict()["boxes"]
    assert isinstance(boxes, dict)
    lines = []
    for key, value in boxes.items():
        if isinstance(value, dict):
            for label, n in value.items():
                lines.append(f"{key:<28}{n:>6}  {label}")
        else:
            lines.append(f"{key:<28}{value:>6}")
    for note in counts.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(review_group())
