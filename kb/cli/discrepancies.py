"""``ekb discrepancies``: what a publication reports against what its trial registered."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kb.cli.common import handle_errors, kb_option


@click.command("discrepancies")
@click.argument("study", required=False)
@click.argument("registry_study", required=False)
@click.option(
    "--all",
    "across_kb",
    is_flag=True,
    help="Every study with a registration id: its registry record and counts of each kind.",
)
@click.option(
    "-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@kb_option
@handle_errors
def discrepancies(
    study: str | None, registry_study: str | None, across_kb: bool, fmt: str, kb_dir: Path | None
) -> None:
    """Compare a study extracted from a publication with its registry record.

    STUDY is a study id; REGISTRY_STUDY the registry record imported with `ekb import
    ctgov` (found by registration id when omitted). Reports new_primary, primary_omitted,
    primary_to_secondary, secondary_to_primary, outcome_added, outcome_omitted,
    timeframe_changed and enrollment_changed, each with both sides and the basis of the
    outcome match (outcome concept, or text similarity with its score). Exit 0 with the
    report (also when it finds discrepancies); 2 for an unknown study or no registry record.
    """
    from kb import discrepancies as lib
    from kb.errors import UsageError
    from kb.store import open_store

    if across_kb == bool(study):
        raise UsageError("name a STUDY, or use --all for the whole knowledge base")
    store = open_store(kb_dir)
    if across_kb:
        rows = lib.kb_report(store)
        if fmt == "json":
            click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        for row in rows:
            if row["registry_study_id"] is None:
                click.echo(
                    f"{row['study_id']} ({row['registration']}): no registry record in the KB"
                )
                continue
            counts = ", ".join(f"{k} {row[k]}" for k in lib.KINDS if row[k])
            click.echo(
                f"{row['study_id']} ({row['registration']}) vs {row['registry_study_id']}: "
                + (counts or "no discrepancy")
            )
        return
    assert study is not None
    found = lib.compare(store, study, registry_study)
    if fmt == "json":
        click.echo(json.dumps([d.as_dict() for d in found], indent=2, ensure_ascii=False))
        return
    registry = registry_study or lib.registry_study_for(store, study)
    click.echo(f"{study} vs registry record {registry}: {len(found)} discrepancies")
    for d in found:
        click.echo(lib.describe(d))
