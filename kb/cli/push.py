"""``ekb push``: upload the knowledge base to a triple store (SPARQL 1.1 Graph Store Protocol)."""

from __future__ import annotations

from pathlib import Path

import click

from kb.cli.common import handle_errors, kb_option


@click.command("push")
@click.option(
    "--store",
    "store_url",
    metavar="URL",
    required=True,
    help="Graph store URL (Oxigraph server: http://HOST:PORT/store).",
)
@click.option(
    "--graph", "graph", metavar="IRI", default=None, help="Put everything into this named graph."
)
@click.option(
    "--graph-per-study",
    is_flag=True,
    help="Ontology and vocabularies in the schema graph, each study in the graph of its study IRI.",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Replace each graph whole (PUT), one at a time, instead of adding.",
)
@kb_option
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds to wait for the store on each request before giving up (exit 3).",
)
@handle_errors
def push_command(
    store_url: str,
    graph: str | None,
    graph_per_study: bool,
    replace: bool,
    kb_dir: Path | None,
    timeout: float,
) -> None:
    """Upload the knowledge base (studies, ontology and vocabularies) to a triple store.

    Without --graph or --graph-per-study everything goes into the store's default
    graph. Credentials: $EKB_STORE_TOKEN (bearer), $EKB_STORE_USER and
    $EKB_STORE_PASSWORD, user:password@ in the URL, or ~/.netrc; never printed.
    """
    from kb.errors import UsageError
    from kb.push import Layout, check_graph_iri, check_store_url, plan_push, push

    if graph is not None and graph_per_study:
        raise UsageError("--graph and --graph-per-study exclude each other: choose one layout")
    if graph is not None:
        check_graph_iri(graph)
    check_store_url(store_url)
    layout: Layout = "graph" if graph is not None else "per-study" if graph_per_study else "default"
    plan = plan_push(kb_dir, layout=layout, graph=graph)

    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("pushing"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    ) as progress:
        task = progress.add_task("push", total=plan.total_bytes)
        report = push(
            plan,
            store_url,
            replace=replace,
            timeout=timeout,
            on_progress=lambda n: progress.advance(task, n),
        )

    verb = "replaced" if replace else "added"
    click.echo(
        f"{verb} {report.triples} triples in {len(report.graphs)} "
        f"graph{'s' if len(report.graphs) != 1 else ''} at {report.store} "
        f"({report.requests} {report.method} request{'s' if report.requests != 1 else ''})"
    )
    width = max(len(g.label) for g in report.graphs) if report.graphs else 0
    for written in report.graphs:
        click.echo(f"  {written.label:<{width}}  {written.triples:>8} triples")
