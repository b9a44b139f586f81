"""The ``ekb`` command line: a thin layer over the library.

Each command lives in ``kb/cli/<noun>.py`` and is imported only when it runs,
so ``ekb --help`` stays fast (rdflib, pyshacl and pyoxigraph load on demand).
To add a command, add one line to :data:`COMMANDS`.
"""

from __future__ import annotations

import importlib

import click

from kb import __version__

#: command name -> ("module", "attribute", one-line help shown by ``ekb --help``)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "export": (
        "kb.cli.export",
        "export_command",
        "Export studies for reviews: csv, xlsx, ris, fhir, revman, metafor, sof, ttl, nt, jsonld,"
        " trig.",
    ),
    "validate": ("kb.cli.validate", "validate", "Check studies against the SHACL shapes."),
    "import": (
        "kb.cli.importer",
        "import_group",
        "Import registry records: ekb import ctgov FILE|DIR...",
    ),
    "summary": ("kb.cli.plain", "summary", "A plain-language summary of one study."),
    "ask": ("kb.cli.plain", "ask", "Answer a patient's question from the evidence held."),
    "push": (
        "kb.cli.push",
        "push_command",
        "Upload the knowledge base to a triple store (Graph Store Protocol).",
    ),
    "meta": (
        "kb.cli.meta",
        "meta",
        "Meta-analysis of an outcome across studies, with a forest plot.",
    ),
    "queries": ("kb.cli.query", "queries_command", "List the canned queries and their parameters."),
    "query": ("kb.cli.query", "query_command", "Run a canned query: ekb query NAME -p name=value."),
    "sparql": ("kb.cli.query", "sparql_command", "Run an ad-hoc read-only SPARQL query."),
    "stats": ("kb.cli.query", "stats_command", "Count studies, arms, results, claims and triples."),
    "new": (
        "kb.cli.forms",
        "new",
        "Print a blank extraction form (YAML, a comment on every field).",
    ),
    "add": (
        "kb.cli.forms",
        "add",
        "Check extraction forms and add them as studies (all or nothing).",
    ),
    "show": (
        "kb.cli.forms",
        "show",
        "Show one study as a form (yaml), canonical Turtle (ttl) or a card (md).",
    ),
    "fmt": (
        "kb.cli.forms",
        "fmt",
        "Rewrite study files as canonical Turtle; --check only reports.",
    ),
    "init": ("kb.cli.forms", "init", "Make a new, empty knowledge base folder."),
    "report": (
        "kb.cli.report",
        "report",
        "Write a static HTML site: evidence map, study pages, reviews, ontology.",
    ),
    "review": (
        "kb.cli.review",
        "review_group",
        "Systematic reviews as data: new, add, show, list, status, prisma (PRISMA 2020 flow).",
    ),
    "search": (
        "kb.cli.search",
        "search_command",
        "Find studies by words in titles, conditions, treatments, outcomes, claims, notes.",
    ),
    # -- double extraction (issue 20)
    "diff": (
        "kb.cli.reconcile",
        "diff",
        "Compare two extractions of one study; --summary: agreement and kappa.",
    ),
    "reconcile": (
        "kb.cli.reconcile",
        "reconcile",
        "Write the consensus of two extractions, recording every decision.",
    ),
    "discrepancies": (
        "kb.cli.discrepancies",
        "discrepancies",
        "Registry vs publication: outcomes switched, added or omitted; enrolment changed.",
    ),
    "bench": (
        "kb.cli.bench",
        "bench_group",
        "Benchmark against rdflib + pySHACL; generate synthetic KBs.",
    ),
    # risk of bias and GRADE (issue 15)
    "rob": (
        "kb.cli.rob",
        "rob_group",
        "Risk of bias per result (RoB 2, ROBINS-I V2): check forms, robvis table and plots.",
    ),
    "grade": (
        "kb.cli.grade",
        "grade_group",
        "GRADE certainty per outcome of a review: suggested ratings and final ones.",
    ),
    "sof": (
        "kb.cli.sof",
        "sof_command",
        "A review's Summary of Findings: pooled effects, absolute effects, GRADE certainty.",
    ),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attr, _ = COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module_name), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Read the short help from COMMANDS instead of importing every module.
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def resolve_command(self, ctx: click.Context, args: list[str]):  # type: ignore[no-untyped-def]
        name = args[0] if args else None
        if name is not None and name not in COMMANDS and not name.startswith("-"):
            from kb.cli.common import did_you_mean

            hint = did_you_mean(name, COMMANDS)
            raise click.UsageError(f"no such command {name!r}.{hint}", ctx)
        return super().resolve_command(ctx, args)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ekb")
def cli() -> None:
    """evidence-kb: clinical study claims as validated, queryable RDF.

    Exit codes: 0 ok; 1 the data does not conform or a check failed;
    2 usage error; 3 could not run (unreadable file, bad Turtle, unreachable endpoint).
    """


def main() -> None:
    cli(prog_name="ekb")
