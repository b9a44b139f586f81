"""``ekb queries``, ``ekb query``, ``ekb sparql`` and ``ekb stats``: asking the knowledge base.

A thin layer: options are parsed here, the work is done by :mod:`kb.queries`
and the rows are written by :mod:`kb.output`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kb.cli.common import endpoint_options, handle_errors, kb_option, output_option
from kb.cli.completion import complete_query_names
from kb.errors import CouldNotRun, UsageError

F = TypeVar("F", bound=Callable[..., Any])

# The writers' names, repeated here so that `--help` needs no import of kb.output.
FORMATS = ("table", "csv", "tsv", "json", "jsonl", "md")


def _format_option(*names: str) -> Callable[[F], F]:
    return click.option(
        *names,
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output format.",
    )


def _parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"-p takes NAME=VALUE, not {pair!r}")
        if name in params:
            raise UsageError(f"parameter {name!r} given twice")
        params[name] = value
    return params


def _write(result: object, fmt: str, output: Path | None) -> None:
    from kb.output import write_result

    if fmt in ("table", "md"):
        result = _escaped(result)
    write_result(result, fmt, output)  # type: ignore[arg-type]


def _escaped(result: Any) -> Any:
    """Text for reading: control characters in values are shown as escapes, never sent raw."""
    from rdflib import Literal

    from kb.store_api import QueryResult
    from kb.text import escape_controls

    rows = []
    for row in result.rows:
        tidy = {}
        for name, cell in row.items():
            if isinstance(cell, Literal) and escape_controls(str(cell)) != str(cell):
                cell = Literal(escape_controls(str(cell)))
            tidy[name] = cell
        rows.append(tidy)
    return QueryResult(list(result.columns), rows)


@click.command("queries")
@click.argument("name", required=False, shell_complete=complete_query_names)
@_format_option("-f", "--format")
@output_option
@handle_errors
def queries_command(name: str | None, fmt: str, output: Path | None) -> None:
    """List the canned queries with their parameters, or describe one (NAME)."""
    from kb import queries

    if name:
        text = queries.describe(queries.get_query(name))
        if output is not None:
            from kb.fileio import atomic_write_text

            atomic_write_text(output, text)
        else:
            click.echo(text, nl=False)
        return
    _write(queries.catalogue_result(), fmt, output)


@click.command("query")
@click.argument("name", shell_complete=complete_query_names)
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A parameter (repeat for several). Concepts take a label, synonym, CURIE or IRI.",
)
@_format_option("-f", "--format")
@output_option
@kb_option
@endpoint_options
@handle_errors
def query_command(
    name: str,
    params: tuple[str, ...],
    fmt: str,
    output: Path | None,
    kb_dir: Path | None,
    endpoint: str | None,
    timeout: float,
) -> None:
    """Run the canned query NAME (`ekb queries` lists them).

    \b
    Examples:
      ekb query evidence-map -p condition=lupus
      ekb query outcome-results -p outcome=proteinuria -f csv -o proteinuria.csv
      ekb query pico -p study=il2-refractory-ln-2021 -f md
    """
    from kb import queries
    from kb.store import open_store

    values = _parse_params(params)
    canned = queries.get_query(name)  # unknown names fail before the store is loaded
    for param_name in values:
        canned.param(param_name)
    store = open_store(kb_dir, endpoint=endpoint, timeout=timeout)
    _write(queries.run_query(store, name, values), fmt, output)


@click.command("sparql")
@click.argument("query", required=False)
@click.option(
    "-f",
    "--file",
    "query_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Read the query from FILE (`-` for standard input).",
)
@_format_option("--format", "-F")
@click.option(
    "--allow-service",
    is_flag=True,
    default=False,
    help="Let the query use SERVICE (the store then fetches the URLs it names).",
)
@output_option
@kb_option
@endpoint_options
@handle_errors
def sparql_command(
    query: str | None,
    query_file: Path | None,
    fmt: str,
    output: Path | None,
    kb_dir: Path | None,
    endpoint: str | None,
    timeout: float,
    allow_service: bool,
) -> None:
    """Run an ad-hoc, read-only SPARQL query (SELECT, ASK, CONSTRUCT, DESCRIBE).

    Updates (INSERT, DELETE, LOAD, CLEAR, DROP...) are refused with exit code 2, and so is
    SERVICE (which makes the store fetch other URLs) unless --allow-service is given.
    Here -f names the query file; the output format is --format/-F.

    \b
    Examples:
      ekb sparql 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }'
      ekb sparql -f my-query.rq --format csv
    """
    from kb import queries
    from kb.store import open_store

    if (query is None) == (query_file is None):
        raise UsageError("give the query as an argument or with -f FILE (one of them)")
    if query_file is not None:
        try:
            text = (
                sys.stdin.read()
                if str(query_file) == "-"
                else query_file.read_text(encoding="utf-8")
            )
        except OSError as exc:
            raise CouldNotRun(f"{query_file}: cannot read: {exc.strerror}") from exc
    else:
        text = query or ""
    queries.query_form(text, allow_service=allow_service)  # refuse before loading anything
    store = open_store(kb_dir, endpoint=endpoint, timeout=timeout, allow_service=allow_service)
    _write(queries.run_sparql(store, text), fmt, output)


@click.command("stats")
@_format_option("-f", "--format")
@output_option
@kb_option
@endpoint_options
@handle_errors
def stats_command(
    fmt: str, output: Path | None, kb_dir: Path | None, endpoint: str | None, timeout: float
) -> None:
    """Count studies, arms, results, comparisons, safety findings, claims, sources, triples."""
    from kb import queries
    from kb.store import open_store

    store = open_store(kb_dir, endpoint=endpoint, timeout=timeout)
    _write(queries.stats(store), fmt, output)
