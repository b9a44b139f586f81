"""``ekb summary`` and ``ekb ask``: plain-language text for patients and clinicians."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kb.cli.common import endpoint_options, handle_errors, kb_option, output_option
from kb.cli.completion import complete_study_ids


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        from kb.fileio import atomic_write_text

        atomic_write_text(output, text if text.endswith("\n") else text + "\n")


def _render(plain: object, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(plain.to_json(), indent=2, ensure_ascii=False)  # type: ignore[attr-defined]
    from kb.text import escape_controls

    # Text for reading: control characters from the data must not reach a terminal.
    return escape_controls(plain.to_markdown())  # type: ignore[attr-defined]


@click.command()
@click.argument("study", shell_complete=complete_study_ids)
@click.option(
    "--plain",
    is_flag=True,
    default=True,
    help="Plain language for patients (the only style so far).",
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["md", "json"]),
    default="md",
    show_default=True,
    help="Markdown with numbered sources, or JSON with the evidence behind every sentence.",
)
@kb_option
@endpoint_options
@output_option
@handle_errors
def summary(
    study: str,
    plain: bool,
    fmt: str,
    kb_dir: Path | None,
    endpoint: str | None,
    timeout: float,
    output: Path | None,
) -> None:
    """A plain-language summary of STUDY, generated from its data.

    Every sentence is traceable: -f json lists, for each sentence, the results,
    claims and sources it states.
    """
    from kb.kbdir import resolve_kb
    from kb.plain import summarise_study
    from kb.queries import resolve_study
    from kb.store import open_store

    store = open_store(kb_dir, endpoint=endpoint, timeout=timeout)
    # The id is checked and turned into a bound IRI term here, so no text the
    # user typed is ever pasted into a query. Reviews are read from the folder
    # the store was loaded from (a remote endpoint has none).
    reviews_from = None if endpoint else resolve_kb(kb_dir)
    text = summarise_study(store, resolve_study(store, study), kb_dir=reviews_from)
    _emit(_render(text, fmt), output)


@click.command()
@click.argument("question")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["md", "json"]),
    default="md",
    show_default=True,
    help="Markdown with numbered sources, or JSON with the evidence behind every sentence.",
)
@kb_option
@endpoint_options
@output_option
@handle_errors
def ask(
    question: str,
    fmt: str,
    kb_dir: Path | None,
    endpoint: str | None,
    timeout: float,
    output: Path | None,
) -> None:
    """Answer a patient's QUESTION from the evidence in the knowledge base.

    Lists the treatments the knowledge base holds evidence for, strongest
    first, each with its benefit, safety and caveats, and says what it does
    not cover. It never recommends anything the knowledge base does not hold.
    """
    from kb.kbdir import resolve_kb
    from kb.plain import answer_question
    from kb.store import open_store

    store = open_store(kb_dir, endpoint=endpoint, timeout=timeout)
    # Reviews are read from the folder the store was loaded from; a remote
    # endpoint has no such folder, so its answers use the studies alone.
    reviews_from = None if endpoint else resolve_kb(kb_dir)
    _emit(_render(answer_question(store, question, kb_dir=reviews_from), fmt), output)
