"""GRADE domains as pure functions: each suggests a rating by a published, named rule.

A suggestion is never a final rating. It carries the rule id, the rule's source and a reason
in words built from the numbers it used, so a reviewer can accept it or set a final rating
with their own reason (stored in the review file). The sources:

- GRADE 4, risk of bias: Guyatt et al., J Clin Epidemiol 2011;64:407-415 (judge the body of
  evidence by the studies that carry its weight); operationalised as in Pollock et al., J Clin
  Epidemiol 2016;70:106-110 (Table 2: rate down one level unless >=75% of the evidence comes
  from studies at low risk), with the meta-analysis weight in place of participants;
- inconsistency: the I² bands of the Cochrane Handbook (section 10.10.2) and the decision
  matrix of Cochrane review CD009172 (PMC7195185, table 8): I² 40-74% rated down only when
  study estimates point in different directions, I² >=75% one level (same direction) or two
  (different directions); with the prediction interval and tau² reported in the reason and
  the prediction interval as the tie-breaker in the 40-74% band (Core GRADE 3, Guyatt et al.
  BMJ 2025;389:e081905: judge the spread of estimates against the threshold);
- imprecision: GRADE 6, Guyatt et al., J Clin Epidemiol 2011;64:1283-1293 (rate down when the
  95% CI includes no effect or appreciable benefit/harm; rough guide RR 0.75/1.25; rate down two
  levels when it includes appreciable effects on both sides; rate down when the optimal
  information size (OIS) is not met) and Core GRADE 2, BMJ 2025;389:e081904 (the CI against the
  review's decision threshold / MID);
- publication bias: Cochrane Handbook section 13.3.5.4 (tests for funnel-plot asymmetry only
  with at least 10 studies) and Egger et al., BMJ 1997;315:629-634 (regression of the
  standardised effect on precision, asymmetry when the intercept's p < 0.10);
- rating up for a large effect: GRADE 9, Guyatt et al., J Clin Epidemiol 2011;64:1311-1316
  (RR > 2 or < 0.5: up one; > 5 or < 0.2: up two; observational evidence with no reason to
  rate down).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

# Ratings for the five domains that rate down, and their change in levels.
NOT_SERIOUS = "not serious"
SERIOUS = "serious"
VERY_SERIOUS = "very serious"
EXTREMELY_SERIOUS = "extremely serious"  # imprecision only (GRADE 35)
DOWN_LEVELS = {NOT_SERIOUS: 0, SERIOUS: -1, VERY_SERIOUS: -2, EXTREMELY_SERIOUS: -3}
# Ratings for the three domains that rate up.
NO_UPGRADE = "none"
UP_ONE = "upgrade one level"
UP_TWO = "upgrade two levels"
UP_LEVELS = {NO_UPGRADE: 0, UP_ONE: 1, UP_TWO: 2}
# A suggestion may also be no rating at all: the data cannot tell.
NOT_ASSESSED = "not assessed"
NOT_ASSESSABLE = "not assessable"
REVIEWER = "left to the reviewer"

DOWN_DOMAINS = ("risk of bias", "inconsistency", "indirectness", "imprecision", "publication bias")
UP_DOMAINS = ("large effect", "dose-response gradient", "plausible confounding")
DOMAINS = DOWN_DOMAINS + UP_DOMAINS

LEVELS = ("very low", "low", "moderate", "high")


def allowed_ratings(domain: str) -> tuple[str, ...]:
    """The final ratings a reviewer may give a domain."""
    if domain in UP_DOMAINS:
        return tuple(UP_LEVELS)
    if domain == "imprecision":
        return tuple(DOWN_LEVELS)
    return (NOT_SERIOUS, SERIOUS, VERY_SERIOUS)


def level_change(domain: str, rating: str) -> int:
    return UP_LEVELS[rating] if domain in UP_DOMAINS else DOWN_LEVELS[rating]


@dataclass(frozen=True)
class Suggestion:
    """A domain's suggested rating, the rule that gave it, and why (numbers in words)."""

    domain: str
    rating: str
    rule: str
    reason: str

    @property
    def is_rating(self) -> bool:
        return self.rating in DOWN_LEVELS or self.rating in UP_LEVELS


RULE_SOURCES = {
    "RoB.W75": "Pollock 2016 (J Clin Epidemiol 70:106) Table 2, by meta-analysis weight; GRADE 4",
    "RoB.NA": "no judgement without a risk-of-bias assessment (GRADE 4)",
    "INC.1": "a single study: nothing to be inconsistent with (Pollock 2016 Table 2)",
    "INC.I2": "I² bands, Cochrane Handbook 10.10.2; decision matrix of CD009172; Core GRADE 3",
    "IMP.CI2": "GRADE 6: CI includes appreciable benefit and harm -> two levels",
    "IMP.CI1": "Core GRADE 2, minimally contextualised: no threshold set, CI includes no effect",
    "IMP.MID": "GRADE 6 / Core GRADE 2: CI crosses a decision threshold (MID)",
    "IMP.OIS": "GRADE 6: optimal information size not met",
    "IMP.OK": "GRADE 6: CI on one side of every threshold, OIS met (or not applicable)",
    "IMP.NA": "no pooled or single-study estimate",
    "PB.K10": "Cochrane Handbook 13.3.5.4: fewer than 10 studies, no test",
    "PB.EGGER": "Egger 1997 (BMJ 315:629): regression test, asymmetry if p < 0.10",
    "IND.PICO": "GRADE 8 (J Clin Epidemiol 2011;64:1303): PICO of studies vs question",
    "IND.REV": "the recorded data cannot tell; the reviewer judges",
    "UP.LARGE": "GRADE 9: large effect (RR >2 or <0.5; >5 or <0.2) in observational evidence",
    "UP.REV": "the recorded data cannot tell; the reviewer judges",
}


# ------------------------------------------------------------------------ risk of bias


def risk_of_bias(studies: Sequence[tuple[str, float, str | None]]) -> Suggestion:
    """Risk of bias of the body of evidence from each result's overall RoB judgement.

    :param studies: ``(study, weight, overall)``: the meta-analysis weight (any positive
        scale; one study may carry weight 1) and the final overall judgement, normalised to
        ``low`` / ``some concerns`` / ``high`` (RoB 2) or the ROBINS-I levels; ``None`` when
        the result was not assessed.
    """
    missing = [s for s, _, j in studies if j is None or j == NOT_ASSESSED]
    if missing:
        return Suggestion(
            "risk of bias",
            NOT_ASSESSED,
            "RoB.NA",
            "risk of bias not assessed for " + ", ".join(missing) + "; no rating is suggested",
        )
    total = sum(w for _, w, _ in studies)
    low_levels = {"low", "low-except-confounding"}
    low = sum(w for _, w, j in studies if j in low_levels)
    share = 100 * low / total
    worst = [f"{s} ({j})" for s, _, j in studies if j not in low_levels]
    if share >= 75:
        return Suggestion(
            "risk of bias",
            NOT_SERIOUS,
            "RoB.W75",
            f"{share:.0f}% of the weight is from results at low risk of bias (>= 75%)",
        )
    return Suggestion(
        "risk of bias",
        SERIOUS,
        "RoB.W75",
        f"only {share:.0f}% of the weight is from results at low risk of bias (< 75%): "
        + ", ".join(worst),
    )


# ----------------------------------------------------------------------- inconsistency


def inconsistency(
    estimates: Sequence[float],
    i2: float | None,
    tau2: float | None,
    pi: tuple[float, float] | None,
    null: float,
    pi_label: str = "",
) -> Suggestion:
    """Inconsistency from I², the direction of the study estimates and the prediction interval.

    :param estimates: the study estimates on the analysis scale (log ratio, MD ...).
    :param null: no effect on that scale (0 for log ratios and differences).
    :param pi: the prediction interval on the analysis scale.
    """
    k = len(estimates)
    if k < 2 or i2 is None:
        return Suggestion(
            "inconsistency", NOT_SERIOUS, "INC.1", "one study: inconsistency cannot arise"
        )
    above = sum(1 for y in estimates if y > null)
    below = sum(1 for y in estimates if y < null)
    split = above > 0 and below > 0
    direction = (
        f"estimates on both sides of no effect ({below} below, {above} above)"
        if split
        else "all estimates on the same side of no effect"
    )
    pi_crosses = pi is not None and pi[0] < null < pi[1]
    extra = f"; tau² {tau2:.3g}" if tau2 is not None else ""
    if pi is not None:
        extra += "; the prediction interval " + ("includes" if pi_crosses else "excludes")
        extra += f" no effect{pi_label}"
    words = f"I² {i2:.0f}%, {direction}{extra}"
    if i2 < 40:
        return Suggestion("inconsistency", NOT_SERIOUS, "INC.I2", words + " (I² < 40%)")
    if i2 < 75:
        if split or pi_crosses:
            return Suggestion("inconsistency", SERIOUS, "INC.I2", words + " (I² 40-74%)")
        return Suggestion("inconsistency", NOT_SERIOUS, "INC.I2", words + " (I² 40-74%)")
    rating = VERY_SERIOUS if split else SERIOUS
    return Suggestion("inconsistency", rating, "INC.I2", words + " (I² >= 75%)")


# ------------------------------------------------------------------------- imprecision

#: GRADE 6's rough guide to "appreciable" benefit or harm for ratio measures (RRR 25%).
DEFAULT_RATIO_THRESHOLDS = (0.75, 1.25)


@dataclass(frozen=True)
class OIS:
    """An optimal information size: total participants for one adequately powered trial."""

    total: int
    control_risk: float
    rrr: float
    alpha: float
    beta: float

    def describe(self) -> str:
        return (
            f"OIS {self.total} participants (control risk {self.control_risk:.3f}, "
            f"RRR {self.rrr:.0%}, two-sided alpha {self.alpha}, beta {self.beta})"
        )


def optimal_information_size(
    control_risk: float, rrr: float = 0.25, alpha: float = 0.05, beta: float = 0.20
) -> OIS:
    """Participants needed to detect a relative risk reduction ``rrr`` (two groups, equal size).

    The usual normal-approximation sample size for two proportions (GRADE 6 uses it for the
    OIS): n per group = (z_{1-alpha/2} + z_{1-beta})² (p1 q1 + p2 q2) / (p1 - p2)², with
    p2 = p1 (1 - rrr); each group rounded up, the total is twice that.
    """
    if not 0 < control_risk < 1:
        raise ValueError("the control risk must be between 0 and 1")
    if not 0 < rrr < 1:
        raise ValueError("the relative risk reduction must be between 0 and 1")
    p1 = control_risk
    p2 = p1 * (1 - rrr)
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(1 - beta)
    per_group = z**2 * (p1 * (1 - p1) + p2 * (1 - p2)) / (p1 - p2) ** 2
    return OIS(2 * math.ceil(per_group), control_risk, rrr, alpha, beta)


def imprecision(
    estimate: float | None,
    ci: tuple[float, float] | None,
    *,
    ratio: bool,
    thresholds: tuple[float, float] | None = None,
    threshold_source: str = "",
    participants: int | None = None,
    ois: OIS | None = None,
) -> Suggestion:
    """Imprecision from the CI against no effect and the thresholds, then the OIS.

    :param ratio: a ratio measure (RR, OR; no effect = 1) or a difference (no effect = 0).
    :param thresholds: the (lower, upper) limits of a trivial effect on the natural scale:
        the review's MID / decision thresholds; for ratios without them GRADE 6's 0.75/1.25.
    """
    if estimate is None or ci is None:
        return Suggestion("imprecision", NOT_ASSESSABLE, "IMP.NA", "no effect estimate")
    null = 1.0 if ratio else 0.0
    source = threshold_source
    if thresholds is None and ratio:
        thresholds, source = DEFAULT_RATIO_THRESHOLDS, "GRADE 6 rough guide"
    lb, ub = ci
    ci_words = f"95% CI {lb:.3g} to {ub:.3g}"
    includes_null = lb < null < ub
    if thresholds is not None:
        lo, hi = thresholds
        t_words = f"thresholds {lo:g} and {hi:g}" + (f" ({source})" if source else "")
        if lb < lo and ub > hi:
            return Suggestion(
                "imprecision",
                VERY_SERIOUS,
                "IMP.CI2",
                f"{ci_words} includes appreciable effects on both sides of no effect ({t_words})",
            )
        if lb < lo < ub or lb < hi < ub:
            null_words = ", and no effect" if includes_null else ""
            return Suggestion(
                "imprecision",
                SERIOUS,
                "IMP.MID",
                f"{ci_words} crosses a decision threshold{null_words} ({t_words})",
            )
    elif includes_null:
        return Suggestion(
            "imprecision", SERIOUS, "IMP.CI1", f"{ci_words} includes no effect (no threshold set)"
        )
    if ois is not None and participants is not None and participants < ois.total:
        return Suggestion(
            "imprecision",
            SERIOUS,
            "IMP.OIS",
            f"{participants} participants, fewer than the {ois.describe()}",
        )
    tail = (
        f"; {participants} participants meet the {ois.describe()}" if ois and participants else ""
    )
    return Suggestion(
        "imprecision",
        NOT_SERIOUS,
        "IMP.OK",
        f"{ci_words} excludes no effect and the thresholds{tail}",
    )


# -------------------------------------------------------------------- publication bias


@dataclass(frozen=True)
class EggerTest:
    intercept: float
    se: float
    t: float
    df: int
    p: float


def egger_test(yi: Sequence[float], vi: Sequence[float]) -> EggerTest:
    """Egger's regression test: OLS of yi/sei on 1/sei; the intercept measures asymmetry.

    Written with numpy least squares (a few lines; no statsmodels dependency for one model).
    """
    y = np.asarray(yi, dtype=float)
    se = np.sqrt(np.asarray(vi, dtype=float))
    k = len(y)
    if k < 3:
        raise ValueError("Egger's test needs at least 3 studies")
    x = np.column_stack([np.ones(k), 1 / se])
    z = y / se
    coef, *_ = np.linalg.lstsq(x, z, rcond=None)
    resid = z - x @ coef
    df = k - 2
    sigma2 = float(resid @ resid) / df
    cov = sigma2 * np.linalg.inv(x.T @ x)
    intercept, se_int = float(coef[0]), math.sqrt(float(cov[0, 0]))
    t = intercept / se_int
    p = 2 * float(stats.t.sf(abs(t), df))
    return EggerTest(intercept, se_int, t, df, p)


def publication_bias(yi: Sequence[float], vi: Sequence[float]) -> Suggestion:
    k = len(yi)
    if k < 10:
        return Suggestion(
            "publication bias",
            NOT_ASSESSABLE,
            "PB.K10",
            f"{k} {'study' if k == 1 else 'studies'}: too few for a funnel plot "
            "or Egger's test (needs 10)",
        )
    test = egger_test(yi, vi)
    words = f"Egger's test intercept {test.intercept:.2f}, p = {test.p:.3f} ({k} studies)"
    if test.p < 0.10:
        return Suggestion(
            "publication bias", SERIOUS, "PB.EGGER", words + ": funnel plot asymmetric (p < 0.10)"
        )
    return Suggestion(
        "publication bias", NOT_SERIOUS, "PB.EGGER", words + ": no evidence of asymmetry"
    )


# ------------------------------------------------------------------------ indirectness


def indirectness(
    mismatches: Sequence[tuple[str, str]] | None, detail: str | None = None
) -> Suggestion:
    """Indirectness where the recorded data can tell.

    :param mismatches: ``(study, what differs from the question)`` found by comparing the
        studies' recorded concepts with the question's PICO (:mod:`kb.grade.directness`);
        ``None`` when they could not be compared (the reviewer judges).
    :param detail: what was compared and what could not be told, for the reason.
    """
    extra = f" ({detail})" if detail else ""
    if mismatches is None:
        return Suggestion(
            "indirectness",
            REVIEWER,
            "IND.REV",
            "the recorded data cannot show whether the evidence is direct" + extra,
        )
    if not mismatches:
        return Suggestion(
            "indirectness",
            NOT_SERIOUS,
            "IND.PICO",
            "every study's recorded concepts are those of the question, or narrower" + extra,
        )
    return Suggestion(
        "indirectness",
        SERIOUS,
        "IND.PICO",
        "; ".join(f"{s}: {w}" for s, w in mismatches) + extra,
    )


# ------------------------------------------------------------------------- rating up


def large_effect(estimate: float | None, ratio: bool, observational: bool) -> Suggestion:
    if not observational:
        return Suggestion(
            "large effect", NO_UPGRADE, "UP.LARGE", "randomised evidence is not rated up"
        )
    if estimate is None or not ratio:
        return Suggestion(
            "large effect",
            REVIEWER,
            "UP.REV",
            "no ratio estimate to judge the size of the effect by",
        )
    if estimate > 5 or estimate < 0.2:
        return Suggestion("large effect", UP_TWO, "UP.LARGE", f"ratio {estimate:.2f}: very large")
    if estimate > 2 or estimate < 0.5:
        return Suggestion("large effect", UP_ONE, "UP.LARGE", f"ratio {estimate:.2f}: large")
    return Suggestion("large effect", NO_UPGRADE, "UP.LARGE", f"ratio {estimate:.2f}")


def left_to_reviewer(domain: str) -> Suggestion:
    return Suggestion(
        domain, REVIEWER, "UP.REV", "the recorded data cannot show this; the reviewer judges"
    )


# ----------------------------------------------------------------------- certainty


def starting_level(designs: Sequence[bool]) -> tuple[str, str]:
    """High for a body of randomised evidence, low for observational (GRADE 1, 3).

    :param designs: one flag per study: randomised or not. A mix starts low, with the reason:
        GRADE rates such bodies separately, and the lower start is the cautious one.
    """
    if designs and all(designs):
        return "high", "randomised trials start at high certainty"
    if designs and not any(designs):
        return "low", "non-randomised studies start at low certainty"
    return "low", "randomised and non-randomised studies mixed: started at low"


def certainty(start: str, finals: dict[str, str]) -> tuple[str | None, str]:
    """The certainty from the starting level and the final domain ratings.

    :returns: ``(level, how)``; ``level`` is ``None`` when a rating-down domain has no final
        rating (e.g. risk of bias not assessed and no reviewer's rating): no guess.
    """
    # Publication bias that cannot be assessed (< 10 studies) is not rated down: GRADE calls
    # it "undetected". Every other domain needs a rating.
    finals = dict(finals)
    if finals.get("publication bias") == NOT_ASSESSABLE:
        finals["publication bias"] = NOT_SERIOUS
    unrated = [d for d in DOWN_DOMAINS if finals.get(d) not in DOWN_LEVELS]
    if unrated:
        return None, "not rated: no final rating for " + ", ".join(unrated)
    down = sum(DOWN_LEVELS[finals[d]] for d in DOWN_DOMAINS)
    up = sum(UP_LEVELS.get(finals.get(d, NO_UPGRADE), 0) for d in UP_DOMAINS)
    index = max(0, min(3, LEVELS.index(start) + down + up))
    how = f"start {start}, {down:+d} for the domains rating down"
    if up:
        how += f", {up:+d} for rating up"
    return LEVELS[index], how
