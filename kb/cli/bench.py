"""``ekb bench``: synthetic knowledge bases and the benchmark against rdflib + pySHACL."""

from __future__ import annotations

from pathlib import Path

import click

from kb.cli.common import handle_errors


@click.group("bench")
def bench_group() -> None:
    """Synthetic knowledge bases and the performance benchmark.

    \b
    ekb bench generate N DIR     write N synthetic studies (valid, plainly not real)
    ekb bench run                measure evidence-kb against rdflib + pySHACL
    ekb bench show FILE.json     print the table of an earlier run
    ekb bench remote             push and query a large KB on an Oxigraph server
    """


@bench_group.command("generate")
@click.argument("n", type=click.IntRange(min=1))
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same studies.")
@handle_errors
def generate(n: int, directory: Path, seed: int) -> None:
    """Write a knowledge base folder of N synthetic studies into DIR.

    Every study is titled "Synthetic benchmark study ..." and sourced to
    example.org; the folder validates with `ekb validate --kb DIR`. DIR must
    not already hold study files.
    """
    from kb.bench.generate import generate_kb
    from kb.errors import UsageError

    studies = directory / "studies"
    if studies.is_dir() and any(studies.glob("*.ttl")):
        raise UsageError(f"{directory}: already holds study files; give a new or empty folder")
    written = generate_kb(n, directory, seed=seed)
    click.echo(f"wrote {written} synthetic studies to {studies}", err=True)


@bench_group.command("run")
@click.option(
    "--n",
    "sizes",
    default="1000,10000",
    show_default=True,
    metavar="N[,N...]",
    help="Knowledge base sizes (studies), comma-separated; 10k is 10000.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write every measurement as JSON to FILE.",
)
@click.option(
    "--baseline/--no-baseline",
    default=True,
    show_default=True,
    help="Also measure plain rdflib + pySHACL.",
)
@click.option(
    "--repeat",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Runs per query (the median is reported).",
)
@click.option(
    "--limit",
    type=click.FloatRange(min=1),
    default=300.0,
    show_default=True,
    help="Seconds each baseline operation may take before it is stopped and shown as '> limit'.",
)
@click.option(
    "--ekb-limit",
    type=click.FloatRange(min=1),
    default=600.0,
    show_default=True,
    help="Seconds each evidence-kb operation may take.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the synthetic studies."
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep generated knowledge bases here and reuse them (default: a temporary folder).",
)
@click.option(
    "--markdown",
    is_flag=True,
    help="Print the table as Markdown (for a README) instead of a terminal table.",
)
@handle_errors
def run(
    sizes: str,
    json_path: Path | None,
    baseline: bool,
    repeat: int,
    limit: float,
    ekb_limit: float,
    seed: int,
    workdir: Path | None,
    markdown: bool,
) -> None:
    """Measure load, warm start, every canned query, validation, export csv and memory.

    Each operation runs in a fresh process on a synthetic knowledge base of each
    size, then the same operations on a plain rdflib Graph with pySHACL. Prints
    a table with the ratios (baseline time / evidence-kb time) and the targets
    at 10,000 studies; progress goes to stderr. Speed depends on the machine:
    the numbers are measurements, not guarantees.
    """
    from kb.bench.run import markdown_table, parse_sizes, render_table, run_benchmark
    from kb.fileio import atomic_write_text

    result = run_benchmark(
        parse_sizes(sizes),
        workdir=workdir,
        seed=seed,
        repeat=repeat,
        baseline=baseline,
        limit=limit,
        ekb_limit=ekb_limit,
        progress=lambda message: click.echo(message, err=True),
    )
    if json_path is not None:
        atomic_write_text(json_path, result.to_json())
        click.echo(f"wrote {json_path}", err=True)
    if markdown:
        click.echo(markdown_table(result), nl=False)
    else:
        from rich.console import Console

        Console(width=160).print(render_table(result))


@bench_group.command("show")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--markdown", is_flag=True, help="Print the table as Markdown.")
@handle_errors
def show(files: tuple[Path, ...], markdown: bool) -> None:
    """Print the table of one or more JSON files written by `ekb bench run --json`."""
    from kb.bench.run import load_result, markdown_table, render_table

    result = load_result(list(files))
    if markdown:
        click.echo(markdown_table(result), nl=False)
    else:
        from rich.console import Console

        Console(width=160).print(render_table(result))


@bench_group.command("remote")
@click.option(
    "--n",
    "n",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="Studies to push and query.",
)
@click.option(
    "--part",
    type=click.IntRange(min=1),
    default=None,
    help="Studies per knowledge-base folder, each pushed on its own (default: one folder).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=300.0,
    show_default=True,
    help="Seconds each request (push or query) may take.",
)
@click.option(
    "--repeat",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Runs per query (the median is reported).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--memory",
    is_flag=True,
    help="The server keeps its store in memory (no database folder) instead of on disk.",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Where the studies and the server's database go (several GB at 100,000).",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the measurements as JSON.",
)
@handle_errors
def remote(
    n: int,
    part: int | None,
    timeout: float,
    repeat: int,
    seed: int,
    memory: bool,
    workdir: Path,
    json_path: Path | None,
) -> None:
    """Push N synthetic studies to a local Oxigraph server and time every canned query.

    Starts `oxigraph serve` (pip install oxigraph) on loopback with a fresh
    database in WORKDIR, uploads with the code of `ekb push`, queries with the
    code of `--endpoint`, and stops the server. Takes minutes; not run in CI.
    """
    import json

    from kb.bench.remote import remote_table, run_remote
    from kb.fileio import atomic_write_text

    result = run_remote(
        n,
        workdir,
        part=part,
        seed=seed,
        timeout=timeout,
        repeat=repeat,
        memory=memory,
        progress=lambda m: click.echo(m, err=True),
    )
    if json_path is not None:
        atomic_write_text(json_path, json.dumps(result, indent=2) + "\n")
    from rich.console import Console

    Console(width=160).print(remote_table(result))
