"""``ekb search TEXT``: ranked free-text search over the studies."""

from __future__ import annotations

from pathlib import Path

import click

from kb.cli.common import endpoint_options, handle_errors, kb_option, output_option
from kb.cli.query import FORMATS

# Repeated from kb.search so that `--help` imports nothing heavy.
SEARCH_FIELDS = ("title", "condition", "intervention", "outcome", "claim", "note")


@click.command("search")
@click.argument("text", nargs=-1, required=True)
@click.option(
    "-f", "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True
)
@click.option(
    "--field",
    "fields",
    multiple=True,
    type=click.Choice(SEARCH_FIELDS),
    help="Search only this field (repeatable; default: all).",
)
@click.option(
    "-n",
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="At most this many studies.",
)
@output_option
@kb_option
@endpoint_options
@handle_errors
def search_command(
    text: tuple[str, ...],
    fmt: str,
    fields: tuple[str, ...],
    limit: int,
    output: Path | None,
    kb_dir: Path | None,
    endpoint: str | None,
    timeout: float,
) -> None:
    """Find studies by words in their titles, conditions, interventions, outcomes, claims and
    notes, best match first, with the field that matched.

    Each search word scores the weight of the heaviest field holding it (title 3, condition 2,
    intervention 2, outcome 1.5, claim 1, note 0.5), plus that weight once more for the whole
    phrase. Exit 0 also when nothing matches (an empty table).
    """
    from kb.output import write_result
    from kb.search import FIELDS, as_result, search
    from kb.store import open_store

    store = open_store(kb_dir, endpoint=endpoint, timeout=timeout)
    hits = search(store, " ".join(text), fields=fields or FIELDS, limit=limit)
    write_result(as_result(hits), fmt, output)
