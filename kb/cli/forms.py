"""``ekb new | add | show | fmt | init``: extraction forms and the study files they become."""

from __future__ import annotations

from pathlib import Path

import click

from kb.cli.common import handle_errors, kb_option, output_option
from kb.cli.completion import complete_study_ids

DESIGN_CHOICES = (
    "randomised",
    "randomised-withdrawal",
    "non-randomised",
    "single-arm",
    "cohort",
    "case-series",
    "case-report",
)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
    else:
        from kb.fileio import atomic_write_text

        atomic_write_text(output, text)
        click.echo(f"wrote {output}", err=True)


@click.command("new")
@click.option(
    "--design",
    type=click.Choice(DESIGN_CHOICES),
    default="randomised",
    show_default=True,
    help="Pre-fill the design and the usual arms.",
)
@output_option
@click.option(
    "--force", is_flag=True, help="With -o: overwrite FILE when it exists (a filled form?)."
)
@handle_errors
def new(design: str, output: Path | None, force: bool) -> None:
    """Print a blank extraction form (YAML, a comment on every field).

    Fill it in, then `ekb add FORM.yaml`. `-o FILE` onto an existing file needs --force
    (exit 2 without it), so a filled-in form is never replaced by a blank one.
    """
    from kb.errors import UsageError
    from kb.form_template import blank_form

    if output is not None and output.exists() and not force:
        raise UsageError(
            f"{output} already exists (it may be a filled-in form); use --force to overwrite it"
        )
    _write(blank_form(design), output)


@click.command("add")
@click.argument("forms", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@kb_option
@click.option(
    "--force", is_flag=True, help="Replace studies that are already in the knowledge base."
)
@handle_errors
def add(forms: tuple[Path, ...], kb_dir: Path | None, force: bool) -> None:
    """Check extraction forms and add them to the knowledge base as studies/<id>.ttl.

    Every form is checked (schema, keys and references, concepts, SHACL shapes)
    before anything is written: if one fails, the knowledge base is left
    unchanged. Exit 1 when a form does not conform, 2 when a study already
    exists (use --force), 3 when a form cannot be read.
    """
    from kb.kbdir import add_forms

    written = add_forms(list(forms), kb_dir, force=force)
    for study in written:
        # Warnings line by line; infos (hints such as a missing extraction date) only
        # counted, as `ekb validate` does, so they do not bury the warnings.
        infos = [w for w in study.warnings if w.startswith("Info:")]
        for warning in study.warnings:
            if not warning.startswith("Info:"):
                click.echo(f"{study.origin}: {warning}", err=True)
        verb = "replaced" if study.replaces else "added"
        hint = ""
        if infos:
            plural = "s" if len(infos) != 1 else ""
            hint = f" ({len(infos)} info{plural}; `ekb validate -s info` lists them)"
        click.echo(f"{verb} {study.study_id}: {study.path}{hint}", err=True)


@click.command("show")
@click.argument("study", shell_complete=complete_study_ids)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["yaml", "ttl", "md"]),
    default="yaml",
    show_default=True,
    help="yaml: the extraction form (ekb add takes it back); ttl: canonical Turtle;"
    " md: a study card.",
)
@kb_option
@output_option
@handle_errors
def show(study: str, fmt: str, kb_dir: Path | None, output: Path | None) -> None:
    """Show one study (by id) as a form, as Turtle or as a readable card."""
    from kb.kbdir import show_study
    from kb.text import escape_controls

    text = show_study(kb_dir, study, fmt)
    # A card is for reading: control characters in titles must not reach a terminal.
    _write(escape_controls(text) if fmt == "md" else text, output)


@click.command("fmt")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 listing the files that are not canonical."
)
@kb_option
@handle_errors
def fmt(paths: tuple[Path, ...], check: bool, kb_dir: Path | None) -> None:
    """Rewrite Turtle files in canonical form (default: the knowledge base's studies/*.ttl).

    Canonical: fixed prefixes, sorted subjects and predicates, one triple per
    line, so that changing one number is a one-line diff. The graph is never
    changed; the comment block at the top of a file is kept.
    """
    from kb.kbdir import format_files, turtle_files_in

    files = turtle_files_in(list(paths), kb_dir)
    result = format_files(files, check=check)
    for f, count in sorted(result.dropped_comments.items()):
        click.echo(
            f"{f}: {count} comment line(s) below the header {'would be' if check else 'were'} "
            "dropped",
            err=True,
        )
    if check:
        for f in result.not_canonical:
            click.echo(f"not canonical: {f}")
        if result.not_canonical:
            click.echo(
                f"{len(result.not_canonical)} of {len(result.checked)} file(s) not canonical; run "
                "`ekb fmt` to fix",
                err=True,
            )
            raise SystemExit(1)
        click.echo(f"{len(result.checked)} file(s) canonical", err=True)
        return
    for f in result.not_canonical:
        click.echo(f"formatted {f}", err=True)
    unchanged = len(result.checked) - len(result.not_canonical)
    click.echo(
        f"{len(result.not_canonical)} file(s) formatted, {unchanged} already canonical", err=True
    )


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@handle_errors
def init(directory: Path) -> None:
    """Make a new, empty knowledge base in DIRECTORY (studies/, vocab/).

    Then: `ekb add FORM.yaml --kb DIRECTORY`, or export EKB_KB=DIRECTORY.
    """
    from kb.kbdir import init_kb

    init_kb(directory)
    click.echo(f"made an empty knowledge base in {directory}", err=True)
    click.echo(f"next: ekb new -o study.yaml; ekb add study.yaml --kb {directory}", err=True)
