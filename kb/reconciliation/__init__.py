"""Double extraction: compare two extractions of a study (``ekb diff``), measure agreement
over many (``ekb diff --summary``), and reconcile them into one consensus form with every
decision recorded (``ekb reconcile``).

One module per step: :mod:`~kb.reconciliation.load` (read a form, Turtle file or study
id), :mod:`~kb.reconciliation.compare` (match records, normalise, list differences),
:mod:`~kb.reconciliation.agreement` (percent agreement, Cohen's kappa),
:mod:`~kb.reconciliation.decide` (decisions file, consensus form). The record of a
reconciliation inside a form and a study file is :mod:`kb.forms.reconciliation`.

Two assessors' risk-of-bias forms of one result go through the same entry points:
:mod:`~kb.reconciliation.rob` (read, compare), :mod:`~kb.reconciliation.rob_agreement`
(kappa of answers and judgements), :mod:`~kb.reconciliation.rob_decide` (consensus form);
its record in the form and the review file is :mod:`kb.rob.reconciliation`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kb.errors import UsageError
from kb.reconciliation.agreement import AgreementSummary, cohen_kappa, summarise
from kb.reconciliation.compare import Comparison, Difference, compare, value_text
from kb.reconciliation.decide import Reconciled, check_consensus, read_decisions, reconcile
from kb.reconciliation.load import Extraction, load_extraction
from kb.reconciliation.rob import RobComparison
from kb.reconciliation.rob_decide import RobReconciled

__all__ = [
    "AgreementSummary",
    "Comparison",
    "Difference",
    "Extraction",
    "Reconciled",
    "RobComparison",
    "RobReconciled",
    "agreement_text",
    "cohen_kappa",
    "compare",
    "diff",
    "diff_text",
    "load_extraction",
    "reconcile",
    "reconcile_files",
    "summary",
]


def _vocab(kb_dir: Path | None) -> Any:
    from kb.forms import Vocabulary
    from kb.kbdir import resolve_kb

    return Vocabulary.for_kb(resolve_kb(kb_dir) if kb_dir is not None else None)


def _same_study(a: Extraction, b: Extraction) -> None:
    if a.study_id != b.study_id:
        raise UsageError(
            f"{a.origin} is study {a.study_id!r} but {b.origin} is study {b.study_id!r}: "
            "ekb diff compares two extractions of one study"
        )


def _rob_pair(a_given: str, b_given: str) -> bool:
    """Are A and B risk-of-bias forms? (Both or neither: else a usage error.)"""
    from kb.reconciliation.rob import is_rob_form

    for given in (a_given, b_given):
        if Path(given).suffix.lower() in (".yaml", ".yml") and not Path(given).is_file():
            raise UsageError(f"{given}: no such form file")
    ra, rb = is_rob_form(a_given), is_rob_form(b_given)
    if ra != rb:
        rob, other = (a_given, b_given) if ra else (b_given, a_given)
        raise UsageError(
            f"{rob} is a risk-of-bias form but {other} is not: ekb diff compares two "
            "extractions of one study, or two risk-of-bias forms of one result"
        )
    return ra


def diff(a_given: str, b_given: str, kb_dir: Path | None = None) -> Comparison | RobComparison:
    """Compare two extractions (form files, Turtle files or study ids), or two assessors'
    risk-of-bias forms of one result (:mod:`kb.reconciliation.rob`).

    :raises UsageError: they are of different studies (or results), or an input does not exist.
    """
    if _rob_pair(a_given, b_given):
        from kb.reconciliation.rob import compare_rob, load_rob_form

        return compare_rob(load_rob_form(a_given), load_rob_form(b_given))
    vocab = _vocab(kb_dir)
    a = load_extraction(a_given, kb_dir, vocab)
    b = load_extraction(b_given, kb_dir, vocab)
    _same_study(a, b)
    return compare(a, b, vocab)


_HEADINGS = {
    "structure": "Structure",
    "value": "Values",
    "only-a": "Filled by one extractor only",
    "only-b": "Filled by one extractor only",
    "renamed": "Renamed (matched by content; the consensus keeps a's key)",
}


def _who(ex: Extraction) -> str:
    bits = [b for b in (ex.extracted_by, ex.extracted_on) if b]
    return f"{ex.origin} ({', '.join(bits)})" if bits else ex.origin


def _shown(value: Any) -> str:
    return "(blank)" if value is None else value_text(value)


def diff_text(comparison: Comparison | RobComparison) -> str:
    """The differences as the text ``ekb diff`` prints."""
    if isinstance(comparison, RobComparison):
        from kb.reconciliation.rob import rob_diff_text

        return rob_diff_text(comparison)
    out = [f"a: {_who(comparison.a)}", f"b: {_who(comparison.b)}"]
    counts = {k: 0 for k in ("structure", "value", "only", "renamed")}
    for d in comparison.differences:
        if d.decidable or d.kind == "renamed":
            counts["only" if d.kind.startswith("only") else d.kind] += 1
    n = len(comparison.decidable())
    if comparison.agree:
        head = f"study {comparison.study_id}: the two extractions agree"
    else:
        head = (
            f"study {comparison.study_id}: {n} disagreement{'s' if n != 1 else ''} to decide "
            f"({counts['structure']} structural, {counts['value']} values, "
            f"{counts['only']} filled by one only)"
        )
    if counts["renamed"]:
        head += f"; {counts['renamed']} record{'s' if counts['renamed'] != 1 else ''} renamed"
    out.append(head)
    heading = None
    for d in comparison.differences:
        if _HEADINGS[d.kind] != heading:
            heading = _HEADINGS[d.kind]
            out.append(heading)
        if d.kind == "renamed":
            out.append(f"  {d.path}: b calls it {d.b}")
        elif d.kind == "structure" and d.slot is None:
            out.append(f"  {d.path}: a {_shown(d.a)}, b {_shown(d.b)}")
        elif d.kind == "structure":
            which = "a" if d.b is None else "b"
            out.append(f"  {d.path}: only in {which} ({_shown(d.a if which == 'a' else d.b)})")
        else:
            out.append(f"  {d.path}: a {_shown(d.a)}, b {_shown(d.b)}")
    return "\n".join(out) + "\n"


def _folder(
    folder: Path, kb_dir: Path | None, vocab: Any, rob: dict[str, Any]
) -> dict[str, Extraction]:
    """The extractions of a folder by study id; its risk-of-bias forms go into ``rob`` by
    "study / outcome"."""
    from kb.reconciliation.rob import is_rob_form, load_rob_form

    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder (ekb diff --summary DIR_A DIR_B)")
    files = sorted(
        p for p in folder.iterdir() if p.suffix.lower() in (".yaml", ".yml", ".ttl") and p.is_file()
    )
    if not files:
        raise UsageError(f"{folder}: no extraction forms (.yaml) or study files (.ttl) in it")
    out: dict[str, Extraction] = {}
    for path in files:
        if is_rob_form(str(path)):
            form = load_rob_form(str(path))
            key = f"{form.assessment.study} / {form.assessment.outcome}"
            if key in rob:
                raise UsageError(
                    f"{path}: the result {key} is also assessed in {rob[key].origin}; "
                    "one risk-of-bias form per result in each folder"
                )
            rob[key] = form
            continue
        ex = load_extraction(str(path), kb_dir, vocab)
        if ex.study_id in out:
            raise UsageError(
                f"{path}: study {ex.study_id!r} is also in {out[ex.study_id].origin}; "
                "one extraction per study in each folder"
            )
        out[ex.study_id] = ex
    return out


def summary(dir_a: Path, dir_b: Path, kb_dir: Path | None = None) -> AgreementSummary:
    """Agreement statistics over the studies both folders hold (paired by study id).

    :raises UsageError: a folder is missing or empty, or holds two extractions of one study;
        no study is in both.
    """
    from kb.reconciliation.rob_agreement import rob_fields

    vocab = _vocab(kb_dir)
    rob_a: dict[str, Any] = {}
    rob_b: dict[str, Any] = {}
    a, b = _folder(dir_a, kb_dir, vocab, rob_a), _folder(dir_b, kb_dir, vocab, rob_b)
    both = sorted(set(a) & set(b))
    rob_both = sorted(set(rob_a) & set(rob_b))
    if not both and not rob_both:
        raise UsageError(
            f"{dir_a} and {dir_b} have no study in common (paired by study.id) and no "
            "risk-of-bias form of the same result (paired by study and outcome)"
        )
    comparisons = [compare(a[s], b[s], vocab) for s in both]
    result = summarise(comparisons, vocab, sorted(set(a) - set(b)), sorted(set(b) - set(a)))
    if rob_both:
        result.rob_pairs = rob_both
        result.rob_only_a = sorted(set(rob_a) - set(rob_b))
        result.rob_only_b = sorted(set(rob_b) - set(rob_a))
        result.fields = sorted(
            [*result.fields, *rob_fields([(rob_a[k], rob_b[k]) for k in rob_both])],
            key=lambda f: f.path,
        )
    return result


def _aligned(columns: list[str], rows: list[dict[str, Any]], left: tuple[str, ...]) -> list[str]:
    widths = {c: max([len(c), *(len(str(r[c])) for r in rows)]) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip()]
    for r in rows:
        cells = [
            str(r[c]).ljust(widths[c]) if c in left else str(r[c]).rjust(widths[c]) for c in columns
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def _percent(agreed: int, compared: int) -> str:
    return f"{100 * agreed / compared:.1f}%" if compared else ""


def agreement_text(result: AgreementSummary) -> str:
    """The agreement tables ``ekb diff --summary`` prints: per kind of field, then per field."""
    n = len(result.pairs)
    lines = []
    if n or not result.rob_pairs:  # folders of risk-of-bias forms only: no study lines
        lines.append(
            f"{n} stud{'y' if n == 1 else 'ies'} in both folders: {', '.join(result.pairs)}"
        )
    for label, ids in (("only in the first", result.only_a), ("only in the second", result.only_b)):
        if ids:
            lines.append(f"{label} (not compared): {', '.join(ids)}")
    if n or not result.rob_pairs:
        lines.append(f"records only one extractor has: {result.unmatched_records}")
    if result.rob_pairs:
        m = len(result.rob_pairs)
        lines.append(
            f"{m} risk-of-bias assessment{'s' if m != 1 else ''} in both folders: "
            + ", ".join(result.rob_pairs)
        )
        for label, ids in (
            ("only in the first", result.rob_only_a),
            ("only in the second", result.rob_only_b),
        ):
            if ids:
                lines.append(f"assessments {label} (not compared): {', '.join(ids)}")
    lines.append("")
    by_kind = [
        {
            "kind": k.kind,
            "fields": k.fields,
            "compared": k.compared,
            "agreed": k.agreed,
            "agreement": _percent(k.agreed, k.compared),
            "one only": k.only_one,
        }
        for k in result.by_kind()
    ]
    lines += _aligned(
        ["kind", "fields", "compared", "agreed", "agreement", "one only"], by_kind, ("kind",)
    )
    lines.append("")
    rows = [
        {
            "field": f.path,
            "kind": f.kind,
            "compared": f.compared,
            "agreed": f.agreed,
            "agreement": _percent(f.agreed, f.compared),
            "kappa": ("n/a" if f.kappa is None else f"{f.kappa:.2f}") if f.categorical else "",
            "one only": f.only_one,
        }
        for f in result.fields
    ]
    columns = ["field", "kind", "compared", "agreed", "agreement", "kappa", "one only"]
    lines += _aligned(columns, rows, ("field", "kind"))
    lines.append("")
    lines.append(
        "kappa: Cohen's kappa for categorical fields; n/a where both used a single category."
    )
    return "\n".join(lines) + "\n"


def reconcile_files(
    a_given: str,
    b_given: str,
    decisions_file: Path | None,
    output: Path,
    kb_dir: Path | None = None,
) -> Reconciled | RobReconciled:
    """Reconcile two extractions (or two risk-of-bias forms of one result) and write the
    consensus form to ``output`` (atomically).

    Nothing is written unless every disagreement has a valid decision and the consensus
    passes the checks of ``ekb add`` (of ``ekb rob check`` for risk-of-bias forms).
    """
    from kb.fileio import atomic_write_text
    from kb.forms import dump_form

    if _rob_pair(a_given, b_given):
        from kb.reconciliation.rob_decide import reconcile_rob_files

        return reconcile_rob_files(a_given, b_given, decisions_file, output)

    vocab = _vocab(kb_dir)
    a = load_extraction(a_given, kb_dir, vocab)
    b = load_extraction(b_given, kb_dir, vocab)
    _same_study(a, b)
    if decisions_file is not None and not decisions_file.is_file():
        raise UsageError(f"{decisions_file}: no such decisions file")
    decisions = read_decisions(decisions_file) if decisions_file is not None else None
    result = reconcile(a, b, decisions, vocab)
    check_consensus(result.form, kb_dir, str(output))
    head = (
        f"# Consensus of {a.origin} and {b.origin} (ekb reconcile); "
        f"{result.decided} decision{'s' if result.decided != 1 else ''} recorded.\n"
    )
    atomic_write_text(output, head + dump_form(result.form))
    return result
