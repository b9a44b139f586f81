"""``ekb import``: bring records from other systems into the knowledge base."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kb.cli.common import handle_errors, kb_option

if TYPE_CHECKING:
    from kb.importers.ctgov import ImportReport


@click.group("import")
def import_group() -> None:
    """Import study records from other systems (ClinicalTrials.gov)."""


@import_group.command("ctgov")
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="FILE|DIR..."
)
@kb_option
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show what would be written (study ids, counts, files); write nothing.",
)
@click.option(
    "--keep-going",
    is_flag=True,
    help="Import the other files when one cannot be read; summarise failures at the end.",
)
@click.option(
    "--force", is_flag=True, help="Replace study files that `ekb import ctgov` did not write."
)
@handle_errors
def ctgov(
    paths: tuple[Path, ...], kb_dir: Path | None, dry_run: bool, keep_going: bool, force: bool
) -> None:
    """Import ClinicalTrials.gov API v2 JSON records as study files.

    Each FILE holds one study object or a response {"studies": [...]}; a DIR
    stands for the .json files in it (recursively). A study NCT01234567 becomes
    <kb>/studies/nct01234567.ttl, checked against the SHACL shapes before it is
    written: warnings are allowed, a study with violations is not written.
    Importing the same record again gives the same bytes.

    Exit 0 when every study was written (or was already up to date); 1 when a
    study was not written (violations, or a file not written by this importer
    without --force); 2 on a usage error; 3 when a file is not JSON or not a
    study (with --keep-going: after importing the others).
    """
    from kb import paths as kb_paths
    from kb.errors import UsageError
    from kb.importers.ctgov import import_ctgov

    kb = kb_dir if kb_dir is not None else kb_paths.default_kb_dir()
    if not kb.is_dir():
        raise UsageError(f"{kb}: no such knowledge base folder (make one with `ekb init {kb}`)")
    if not dry_run:
        from kb.kbdir import refuse_shipped

        refuse_shipped(kb, "imported studies")
    with _progress() as (advance, set_total):
        report = import_ctgov(
            list(paths),
            kb,
            dry_run=dry_run,
            keep_going=keep_going,
            force=force,
            progress=advance,
            on_total=set_total,
        )
    _print_report(report, kb, dry_run)
    if report.exit_code:
        sys.exit(report.exit_code)


class _progress:
    """A rich progress bar on a terminal when there are several records; silent otherwise."""

    def __enter__(self):  # type: ignore[no-untyped-def]
        self._bar = None
        self._task = None
        return self._advance, self._set_total

    def _set_total(self, total: int) -> None:
        if total < 2 or not sys.stderr.isatty():
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar = Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=Console(stderr=True),
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task("", total=total)

    def _advance(self, origin: str) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=1, description=Path(origin.split(" (")[0]).name)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _print_report(report: ImportReport, kb: Path, dry_run: bool) -> None:
    from kb.importers.ctgov import iter_counts

    def shown(path: Path) -> str:
        try:
            return str(path.relative_to(kb))
        except ValueError:
            return str(path)

    for study in report.studies:
        counts = ", ".join(iter_counts(study.counts))
        # SHACL warnings and the importer's own (unmatched results groups, listed below).
        count = study.warnings + len(study.import_warnings)
        warnings = f"; {count} warning{'s' if count != 1 else ''}"
        line = f"{study.status:<12} {shown(study.path)}  {study.nct_id}: {counts}{warnings}"
        if dry_run:
            # What would be written is the command's output.
            click.echo(line)
        else:
            click.echo(line, err=True)
        for warning in study.import_warnings:
            click.echo(f"  warning: {warning}", err=True)
        if study.status == "invalid":
            click.echo(f"  {len(study.messages)} violation(s); not written:", err=True)
        for message in study.messages:
            click.echo(f"  {message}", err=True)
    if report.failures:
        click.echo(f"ekb: {len(report.failures)} file(s) could not be imported:", err=True)
        for failure in report.failures:
            click.echo(f"  {failure}", err=True)
