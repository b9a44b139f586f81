"""``ekb rob ...``: risk-of-bias forms (RoB 2, ROBINS-I V2), judgements and robvis exports."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kb.cli.common import format_option, handle_errors, kb_option, output_option


@click.group("rob")
def rob_group() -> None:
    """Risk of bias per study result: check forms, robvis table and plots."""


def _format_check(assessment: object, fmt: str) -> str:
    from kb.rob.assessment import Assessment

    assert isinstance(assessment, Assessment)
    if fmt == "json":
        return json.dumps(assessment.summary(), indent=2, ensure_ascii=False) + "\n"
    from kb.rob import rob2, robins_i

    names = rob2.DOMAIN_NAMES if assessment.tool == "rob2" else robins_i.DOMAIN_NAMES
    lines = [
        f"{assessment.tool} ({assessment.variant or '-'}) — study {assessment.study}, "
        f"outcome {assessment.outcome}"
    ]
    if assessment.not_assessed:
        lines.append(f"not assessed: {assessment.not_assessed}")
    rows = [*assessment.domains.values(), assessment.overall]
    for j in rows:
        label = names.get(j.domain, "Overall")
        proposed = j.proposed or "-"
        rule = f" [{j.rule}]" if j.rule else ""
        mark = ""
        if j.overridden:
            mark = f"  (override of {proposed}: {j.justification})"
        elif j.source == "reviewer":
            mark = "  (reviewer's judgement)"
        lines.append(f"{j.domain:8} {j.final:24} proposed {proposed}{rule}{mark}  — {label}")
    if assessment.reconciliation:  # a consensus of two assessors (ekb reconcile)
        from kb.rob.reconciliation import text_lines

        lines += text_lines(assessment.reconciliation)
    return "\n".join(lines) + "\n"


@rob_group.command("check")
@click.argument("form", type=click.Path(dir_okay=False, path_type=Path))
@format_option(
    "table",
    "json",
    help="Output format.",
)
@output_option
@handle_errors
def check_command(form: Path, fmt: str, output: Path | None) -> None:
    """Print the judgements that FORM's answers imply (proposed, final, overrides).

    Adds nothing anywhere. Exit 1 when the form does not conform (every problem is
    named with its field), 3 when it cannot be read.
    """
    from kb.rob.assessment import assess_file

    text = _format_check(assess_file(form), fmt)
    if output is not None:
        from kb.fileio import atomic_write_text

        atomic_write_text(output, text)
    else:
        click.echo(text, nl=False)


def _load_forms(forms: tuple[Path, ...]) -> list[object]:
    """Check every form before anything is written (all or nothing)."""
    from kb.errors import CheckFailed
    from kb.paths import expand_inputs
    from kb.rob.assessment import RobFormError, assess_file

    files = expand_inputs(
        forms,
        lambda d: sorted([*d.glob("*.yaml"), *d.glob("*.yml")]),
        "holds no .yaml risk-of-bias forms",
    )
    out: list[object] = []
    problems: list[str] = []
    for f in files:
        try:
            out.append(assess_file(f))
        except RobFormError as exc:
            problems.append(str(exc))
    if problems:
        raise CheckFailed("\n".join(problems))
    return out


@rob_group.command("robvis")
@click.argument("forms", nargs=-1, required=True, type=click.Path(path_type=Path))
@output_option
@handle_errors
def robvis_command(forms: tuple[Path, ...], output: Path | None) -> None:
    """The robvis table (Study, D1..Dn, Overall) of the assessments in FORMS (files, folders).

    Results that were not assessed are left out of the table (robvis has no value for
    them) and listed on stderr. The Weight column needs each study's meta-analysis
    weight, which forms alone do not give, so it is not written here (the library's
    ``kb.rob.robvis.robvis_table(..., weights=...)`` writes it).
    """
    from kb.rob.robvis import ROBVIS_TOOL, format_csv, robvis_table

    assessments = _load_forms(forms)
    header, rows, left_out = robvis_table(assessments)  # type: ignore[arg-type]
    text = format_csv(header, rows)
    if output is not None:
        from kb.fileio import atomic_write_text

        atomic_write_text(output, text)
    else:
        click.echo(text, nl=False)
    tool = ROBVIS_TOOL[assessments[0].tool]  # type: ignore[attr-defined]
    click.echo(f"ekb: robvis tool {tool!r}; {len(rows)} result(s)", err=True)
    for a in left_out:
        click.echo(f"ekb: not assessed, left out: {a.study} ({a.not_assessed})", err=True)  # type: ignore[attr-defined]


@rob_group.command("plot")
@click.argument("forms", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--type",
    "kind",
    type=click.Choice(["traffic-light", "summary"]),
    default="traffic-light",
    show_default=True,
    help="robvis' traffic-light plot or its summary bar plot.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The plot file, .svg or .png.",
)
@click.option("--title", default=None, help="A title above the plot.")
@handle_errors
def plot_command(forms: tuple[Path, ...], kind: str, output: Path, title: str | None) -> None:
    """Draw the traffic-light or summary plot of the assessments in FORMS."""
    from kb.errors import UsageError
    from kb.rob.robvis import summary_bars, traffic_light

    if output.suffix.lower() not in (".svg", ".png"):
        raise UsageError(f"{output}: the plot file must end in .png or .svg")
    assessments = _load_forms(forms)
    if kind == "traffic-light":
        traffic_light(assessments, output, title=title)  # type: ignore[arg-type]
    else:
        summary_bars(assessments, output, title=title)  # type: ignore[arg-type]
    click.echo(f"ekb: {kind} plot written to {output}", err=True)


@rob_group.command("add")
@click.argument("forms", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--review", "review", required=True, help="The review the assessments belong to.")
@click.option("--force", is_flag=True, default=False, help="Replace an existing assessment.")
@kb_option
@handle_errors
def add_command(forms: tuple[Path, ...], review: str, force: bool, kb_dir: Path | None) -> None:
    """Check RoB forms against REVIEW (its outcomes, its included studies) and store them in
    the review's file. Each form is checked before anything is written; a bad form writes
    nothing.
    """
    from kb.paths import expand_inputs
    from kb.rob.assessment import assess_file
    from kb.rob.store import add_assessment

    files = expand_inputs(
        forms,
        lambda d: sorted([*d.glob("*.yaml"), *d.glob("*.yml")]),
        "holds no .yaml risk-of-bias forms",
    )
    for f in files:  # judge every form first: all or nothing for the form checks
        assess_file(f)
    for f in files:
        a = add_assessment(f, review, kb_dir, force=force)
        click.echo(
            f"ekb: stored {a.tool} assessment of {a.study} for {a.outcome} "
            f"(overall: {a.overall.final})",
            err=True,
        )


@rob_group.command("show")
@click.argument("review")
@click.option("--outcome", default=None, help="Only this outcome of the question.")
@format_option(
    "table",
    "json",
    "robvis",
    "fhir",
    help="Table, JSON, the robvis CSV (with the meta-analysis Weight when --outcome is given), "
    "or a FHIR R5 Bundle of ArtifactAssessment resources (EBM IG RiskOfBias).",
)
@output_option
@kb_option
@handle_errors
def show_command(
    review: str, outcome: str | None, fmt: str, output: Path | None, kb_dir: Path | None
) -> None:
    """The RoB assessments stored in REVIEW, judged again from their stored answers."""
    from kb.errors import UsageError
    from kb.rob.store import review_assessments

    found = review_assessments(kb_dir, review)
    if outcome is not None:
        found = [a for a in found if a.outcome == outcome]
    if not found:
        raise UsageError(
            f"review {review} has no risk-of-bias assessments"
            + (f" for {outcome}" if outcome else "")
        )
    if fmt == "json":
        text = json.dumps([a.summary() for a in found], indent=2, ensure_ascii=False) + "\n"
    elif fmt == "robvis":
        from kb.rob.robvis import format_csv, robvis_table

        weights = None
        if outcome is not None:
            from kb.grade.sof import build

            [row] = build(review, kb_dir, outcome=outcome).rows
            weights = row.weights or None
        header, rows, left_out = robvis_table(found, weights)
        text = format_csv(header, rows)
        for a in left_out:
            click.echo(f"ekb: not assessed, left out: {a.study} ({a.not_assessed})", err=True)
    elif fmt == "fhir":
        from kb.rob.fhir import bundle

        text = json.dumps(bundle(found, review), indent=2, ensure_ascii=False) + "\n"
    else:
        text = "".join(_format_check(a, "table") + "\n" for a in found)
    if output is not None:
        from kb.fileio import atomic_write_text

        atomic_write_text(output, text)
    else:
        click.echo(text, nl=False)
