"""``ekb meta``: pool one outcome across studies, from the knowledge base or a CSV."""

from __future__ import annotations

from pathlib import Path

import click

from kb.cli.common import endpoint_options, handle_errors, kb_option, output_option

_MEASURES = ("RR", "OR", "RD", "PR", "PLO", "PFT", "MD", "SMD", "GEN")
_METHODS = ("REML", "DL", "EE", "FE", "PM")


@click.command("meta")
@click.argument("outcome", required=False)
@click.option(
    "--data",
    "data_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Analyse this CSV (metafor column names: ai,bi,ci,di / ai,ci,n1i,n2i; "
    "m1i,sd1i,n1i,m2i,sd2i,n2i; xi,ni; or yi,vi) instead of the knowledge base.",
)
@click.option(
    "--condition", default=None, help="Only studies of this condition (CURIE, IRI or label)."
)
@click.option(
    "--intervention", default=None, help="Only arms receiving this agent (CURIE, IRI or label)."
)
@click.option(
    "--review",
    default=None,
    metavar="REVIEW",
    help="Only the studies this review includes (its id; see `ekb review list`).",
)
@click.option(
    "--measure",
    type=click.Choice(_MEASURES, case_sensitive=False),
    default=None,
    help="Effect measure (default: RR for two arms with counts, SMD for means, "
    "PLO for single arms).",
)
@click.option(
    "--method",
    type=click.Choice(_METHODS, case_sensitive=False),
    default="REML",
    show_default=True,
    help="REML, DL (DerSimonian-Laird), PM (Paule-Mandel) or EE/FE (equal effects).",
)
@click.option(
    "--timepoint",
    type=float,
    default=None,
    metavar="WEEKS",
    help="Use this timepoint from every study (default: one analysis per study, see the README).",
)
@click.option(
    "--combine-subgroups",
    is_flag=True,
    default=False,
    help="A study reporting the outcome only by subgroups enters with them added up "
    "(use when the subgroups split the population).",
)
@click.option(
    "--level",
    type=click.FloatRange(50, 99.99),
    default=95.0,
    show_default=True,
    help="Confidence and prediction interval level, in percent.",
)
@click.option(
    "--drop00",
    is_flag=True,
    default=False,
    help="Drop studies with no events (or only events) in both arms (metafor's drop00).",
)
@click.option(
    "--plot",
    "plot_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a forest plot to FILE.png or FILE.svg.",
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@output_option
@kb_option
@endpoint_options
@handle_errors
def meta(
    outcome: str | None,
    data_file: Path | None,
    condition: str | None,
    intervention: str | None,
    review: str | None,
    measure: str | None,
    method: str,
    timepoint: float | None,
    combine_subgroups: bool,
    level: float,
    drop00: bool,
    plot_file: Path | None,
    fmt: str,
    output: Path | None,
    kb_dir: Path | None,
    endpoint: str | None,
    timeout: float,
) -> None:
    """Meta-analysis of OUTCOME across the studies of the knowledge base, or of --data FILE.

    Prints per-study effect sizes (yi, vi), weights, the pooled estimate with its CI
    (back-transformed for RR, OR, PLO, PFT), tau², I², H², Q and its p-value, the
    prediction interval, and the studies left out with the reason. Numbers follow R
    metafor's escalc() and rma() with their defaults.
    """
    from kb.analysis import csv_input
    from kb.analysis import data as data_mod
    from kb.analysis.meta import FORMATS, analyse
    from kb.errors import UsageError

    if data_file is None and not outcome:
        raise UsageError("give an OUTCOME (e.g. complete-renal-response) or --data FILE.csv")
    if data_file is not None and outcome:
        raise UsageError("give either an OUTCOME or --data FILE.csv, not both")
    if data_file is not None and (
        condition or intervention or review or timepoint is not None or combine_subgroups
    ):
        raise UsageError(
            "--condition, --intervention, --review, --timepoint and --combine-subgroups "
            "select from the knowledge base; "
            "not with --data"
        )
    if plot_file is not None and plot_file.suffix.lower() not in (".png", ".svg"):
        raise UsageError(f"{plot_file}: the plot file must end in .png or .svg")
    measure_up = measure.upper() if measure else None

    if data_file is not None:
        inp = csv_input.read_csv(data_file, measure=measure_up)
    else:
        assert outcome is not None
        inp = data_mod.from_kb(
            outcome,
            condition=condition,
            intervention=intervention,
            review=review,
            measure=measure_up,
            timepoint=timepoint,
            combine_subgroups=combine_subgroups,
            kb_dir=kb_dir,
            endpoint=endpoint,
            timeout=timeout,
        )
    report = analyse(inp, method=method, level=level / 100, drop00=drop00)
    text = FORMATS[fmt](report)
    if output is not None:
        from kb.fileio import atomic_write_text

        atomic_write_text(output, text)
    else:
        click.echo(text, nl=False)
    if plot_file is not None:
        from kb.analysis.forest import save_forest

        save_forest(report, plot_file)
        click.echo(f"ekb: forest plot written to {plot_file}", err=True)
    if report.model is None:
        click.echo(f"ekb: {report.message}", err=True)
