"""``ekb report``: write the knowledge base as a static HTML site."""

from __future__ import annotations

from pathlib import Path

import click

from kb.cli.common import handle_errors, kb_option


@click.command()
@click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the site into (new, empty, or a site written before).",
)
@click.option("--review", default=None, help="Only this review's page (default: every review).")
@click.option(
    "--condition",
    default=None,
    help="Only studies of this condition and narrower ones (label, CURIE or IRI).",
)
@kb_option
@handle_errors
def report(
    out_dir: Path,
    review: str | None,
    condition: str | None,
    kb_dir: Path | None,
) -> None:
    """Write a self-contained static HTML site: evidence map, study and review pages.

    Open OUTPUT/index.html from disk or put the folder on any web host: it makes no
    network requests and works without JavaScript (except the search box).
    """
    from kb.report import build_report
    from kb.store import open_store

    # The embedded store only: review files are read from the knowledge base folder,
    # so a remote endpoint would mix two sources of truth.
    store = open_store(kb_dir)
    written = build_report(store, out_dir, condition=condition, review=review, kb_dir=kb_dir)

    def count(n: int, what: str) -> str:
        return f"{n} {what}{'' if n == 1 else 's'}"

    click.echo(
        f"wrote {written.directory}/index.html: {count(written.studies, 'study page')}, "
        f"{count(written.reviews, 'review page')}, {len(written.pages)} pages in all",
        err=True,
    )
