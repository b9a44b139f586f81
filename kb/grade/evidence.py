"""From one outcome's meta-analysis (``ekb meta``) and its RoB judgements to GRADE suggestions.

The pooled effect is :func:`kb.analysis.meta.analyse`'s, never recomputed here; this module
only reads the report (estimates, weights, I², tau², the prediction interval) and the input's
comparator-arm counts.

**Assumed comparator risk** (for the absolute effects and the OIS): the median, over the
included studies with counts, of the comparator group's risk (events / participants), as
the Cochrane Handbook (section 14.1.5.1) suggests when no external baseline risk is chosen.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kb.grade import rules
from kb.grade.rules import Suggestion

RATIO_MEASURES = frozenset({"RR", "OR"})


@dataclass(frozen=True)
class StudyEvidence:
    study: str
    label: str
    weight: float | None  # percent, the model's; None for a single study
    participants: float | None
    comparator_risk: float | None
    randomised: bool | None
    rob: str | None  # the final overall RoB judgement, or None (not assessed)
    rob_reason: str | None = None  # why not assessed


@dataclass(frozen=True)
class OutcomeEvidence:
    """What GRADE needs about one outcome, all derived from recorded data."""

    measure: str
    studies: tuple[StudyEvidence, ...]
    estimate: float | None  # natural scale (RR, OR, MD ...)
    ci: tuple[float, float] | None
    pi: tuple[float, float] | None
    yi: tuple[float, ...]
    vi: tuple[float, ...]
    i2: float | None
    tau2: float | None
    pi_analysis: tuple[float, float] | None

    @property
    def participants(self) -> int | None:
        ns = [s.participants for s in self.studies]
        if not ns or any(n is None for n in ns):
            return None
        return int(sum(n for n in ns if n is not None))

    @property
    def comparator_risk(self) -> float | None:
        risks = [s.comparator_risk for s in self.studies if s.comparator_risk is not None]
        return statistics.median(risks) if risks else None


def _comparator_risk(values: Mapping[str, float | None]) -> float | None:
    c = values.get("ci")
    n2 = values.get("n2i")
    if n2 is None and c is not None and values.get("di") is not None:
        n2 = c + (values.get("di") or 0)
    if c is None or not n2:
        return None
    return c / n2


def from_meta(
    inp: object,
    report: object,
    rob: Mapping[str, str | None],
    rob_reasons: Mapping[str, str] | None = None,
    randomised: Mapping[str, bool] | None = None,
) -> OutcomeEvidence:
    """Read one ``ekb meta`` result (input and report) into :class:`OutcomeEvidence`.

    :param rob: study -> final overall RoB judgement (missing or None: not assessed).
    :param randomised: study -> randomised or not; default from the study's design text.
    """
    from kb.analysis.data import MetaInput
    from kb.analysis.meta import MetaReport

    assert isinstance(inp, MetaInput) and isinstance(report, MetaReport)
    records = {s.study: s for s in inp.studies}
    studies = []
    for row in report.studies:
        rec = records.get(row.study)
        design = (row.design or "").lower()
        is_rct = (randomised or {}).get(row.study)
        if is_rct is None:
            is_rct = ("random" in design and "non-random" not in design) if design else None
        studies.append(
            StudyEvidence(
                study=row.study,
                label=row.label,
                weight=row.weight,
                participants=row.n,
                comparator_risk=_comparator_risk(rec.values) if rec else None,
                randomised=is_rct,
                rob=rob.get(row.study),
                rob_reason=(rob_reasons or {}).get(row.study),
            )
        )
    model, pooled = report.model, report.pooled
    if pooled is not None and model is not None:
        estimate: float | None = pooled.est
        ci: tuple[float, float] | None = (pooled.lb, pooled.ub)
        pi: tuple[float, float] | None = (pooled.pi_lb, pooled.pi_ub)
        pi_analysis: tuple[float, float] | None = (model.pi_lb, model.pi_ub)
        i2, tau2 = model.i2, model.tau2
    elif len(report.studies) == 1:
        only = report.studies[0]
        estimate, ci, pi, pi_analysis, i2, tau2 = (
            only.est,
            (only.lb, only.ub),
            None,
            None,
            None,
            None,
        )
    else:
        estimate = ci = pi = pi_analysis = None
        i2 = tau2 = None
    return OutcomeEvidence(
        measure=report.measure,
        studies=tuple(studies),
        estimate=estimate,
        ci=ci,
        pi=pi,
        yi=tuple(r.yi for r in report.studies),
        vi=tuple(r.vi for r in report.studies),
        i2=i2,
        tau2=tau2,
        pi_analysis=pi_analysis,
    )


def suggest(
    ev: OutcomeEvidence,
    thresholds: tuple[float, float] | None = None,
    threshold_source: str = "",
    mismatches: Sequence[tuple[str, str]] | None = None,
    indirectness_detail: str | None = None,
) -> tuple[tuple[str, str], list[Suggestion], rules.OIS | None]:
    """The starting level and one suggestion per GRADE domain, by the rules in :mod:`rules`.

    :returns: ``((start, why), suggestions, ois)``.
    """
    ratio = ev.measure in RATIO_MEASURES
    designs = [bool(s.randomised) for s in ev.studies]
    start = rules.starting_level(designs)
    weights = [(s.label, s.weight if s.weight is not None else 1.0, s.rob) for s in ev.studies]
    rob = rules.risk_of_bias(weights)
    if rob.rating == rules.NOT_ASSESSED:
        why = [f"{s.label}: {s.rob_reason}" for s in ev.studies if s.rob is None and s.rob_reason]
        if why:
            rob = Suggestion(
                rob.domain, rob.rating, rob.rule, rob.reason + " (" + "; ".join(why) + ")"
            )
    null = 0.0  # log ratios and differences
    inc = rules.inconsistency(list(ev.yi), ev.i2, ev.tau2, ev.pi_analysis, null)
    ois = None
    control = ev.comparator_risk
    if ev.measure in {"RR", "OR", "RD"} and control is not None and 0 < control < 1:
        ois = rules.optimal_information_size(control)
    imp = rules.imprecision(
        ev.estimate,
        ev.ci,
        ratio=ratio,
        thresholds=thresholds,
        threshold_source=threshold_source,
        participants=ev.participants,
        ois=ois,
    )
    pub = rules.publication_bias(list(ev.yi), list(ev.vi))
    ind = rules.indirectness(mismatches, indirectness_detail)
    observational = start[0] == "low"
    up = [
        rules.large_effect(ev.estimate, ratio, observational),
        rules.left_to_reviewer("dose-response gradient"),
        rules.left_to_reviewer("plausible confounding"),
    ]
    return start, [rob, inc, ind, imp, pub, *up], ois


@dataclass(frozen=True)
class AbsoluteEffect:
    """Anticipated absolute effects per 1,000, from the assumed comparator risk."""

    comparator_per_1000: float
    intervention_per_1000: float
    difference_per_1000: float
    difference_ci_lower: float
    difference_ci_upper: float
    comparator_basis: str


def _apply(measure: str, risk: float, effect: float) -> float:
    if measure == "RR":
        return risk * effect
    if measure == "OR":
        odds = risk / (1 - risk) * effect
        return odds / (1 + odds)
    if measure == "RD":
        return risk + effect
    raise ValueError(f"no absolute effect for {measure}")


def absolute_effect(ev: OutcomeEvidence) -> AbsoluteEffect | None:
    """Risk with the comparator (the assumed risk) and with the intervention, per 1,000.

    Intervention risk = ACR x RR (RR), ACR x OR / (1 - ACR + ACR x OR) (OR) or ACR + RD
    (Cochrane Handbook 14.1.5.1); the difference's CI applies the same formula to the
    bounds of the relative effect's CI. Risks are kept within 0 to 1,000 per 1,000.
    """
    acr = ev.comparator_risk
    if ev.estimate is None or ev.ci is None or acr is None or ev.measure not in {"RR", "OR", "RD"}:
        return None
    if ev.measure == "OR" and not 0 < acr < 1:
        return None

    # A risk cannot pass 1,000 per 1,000 (RR x ACR can): capped there, as GRADEpro does.
    def risk_of(effect: float) -> float:
        return min(1.0, max(0.0, _apply(ev.measure, acr, effect)))

    risk = risk_of(ev.estimate)
    lo = risk_of(ev.ci[0])
    hi = risk_of(ev.ci[1])
    n = sum(1 for s in ev.studies if s.comparator_risk is not None)
    basis = f"median comparator-group risk of {n} {'study' if n == 1 else 'studies'} ({acr:.3f})"
    return AbsoluteEffect(
        comparator_per_1000=1000 * acr,
        intervention_per_1000=1000 * risk,
        difference_per_1000=1000 * (risk - acr),
        difference_ci_lower=1000 * (min(lo, hi) - acr),
        difference_ci_upper=1000 * (max(lo, hi) - acr),
        comparator_basis=basis,
    )


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def plain_statement(
    level: str | None,
    intervention: str,
    outcome: str,
    ev: OutcomeEvidence,
    thresholds: tuple[float, float] | None,
) -> str:
    """GRADE's informative statement (Santesso et al., J Clin Epidemiol 2020;119:126-135).

    The size word follows the point estimate: inside the thresholds (or, without them, a
    ratio within GRADE 6's 0.75-1.25) is "little to no difference"; otherwise the direction
    of the estimate (reduces / increases). The certainty picks the verb: high (no qualifier),
    moderate "probably", low "may", very low "the evidence is very uncertain".
    """
    if level is None:
        return (
            f"The certainty of the evidence about the effect of {intervention} on "
            f"{outcome} has not been rated."
        )
    if level == "very low":
        return f"The evidence is very uncertain about the effect of {intervention} on {outcome}."
    est = ev.estimate
    if est is None:
        return f"No estimate of the effect of {intervention} on {outcome}."
    ratio = ev.measure in RATIO_MEASURES
    null = 1.0 if ratio else 0.0
    lo, hi = (
        thresholds
        if thresholds is not None
        else (rules.DEFAULT_RATIO_THRESHOLDS if ratio else (null, null))
    )
    trivial = lo <= est <= hi if thresholds is not None or ratio else math.isclose(est, null)
    qualifier = {"high": "", "moderate": "probably ", "low": "may "}[level]
    if trivial:
        verb = {"high": "results", "moderate": "probably results", "low": "may result"}[level]
        return f"{_first_upper(intervention)} {verb} in little to no difference in {outcome}."
    direction = "reduce" if est < null else "increase"
    s = "" if level == "low" else "s"
    return f"{_first_upper(intervention)} {qualifier}{direction}{s} {outcome}."
