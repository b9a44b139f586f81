"""GRADE suggestion rules, each case against its published rule or an independent computation.

Rule ids and sources are in ``kb.grade.rules.RULE_SOURCES``; each test names the rule.
Data: synthetic numbers, and metafor's dat.bcg (13 BCG trials, a published data set).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from scipy import stats

from kb.errors import CheckFailed
from kb.grade import rules
from kb.grade.rating import FinalRating, rate

DATA = Path(__file__).parent / "data"


# ---------------------------------------------------------- RoB.W75 / RoB.NA (GRADE 4, Pollock)


@pytest.mark.parametrize(
    ("studies", "rating"),
    [
        ([("a", 80.0, "low"), ("b", 20.0, "high")], rules.NOT_SERIOUS),  # 80% low >= 75%
        ([("a", 75.0, "low"), ("b", 25.0, "some concerns")], rules.NOT_SERIOUS),  # boundary
        ([("a", 74.0, "low"), ("b", 26.0, "some concerns")], rules.SERIOUS),
        ([("a", 30.0, "low"), ("b", 70.0, "high")], rules.SERIOUS),
        ([("a", 1.0, "low-except-confounding")], rules.NOT_SERIOUS),  # ROBINS-I best level
        ([("a", 1.0, "serious")], rules.SERIOUS),
    ],
)
def test_risk_of_bias_weighted_rule(studies: list[tuple[str, float, str]], rating: str) -> None:
    """RoB.W75: not serious iff >= 75% of the meta-analysis weight is at low risk."""
    s = rules.risk_of_bias(studies)
    assert (s.rating, s.rule) == (rating, "RoB.W75")


def test_risk_of_bias_not_assessed_is_never_guessed() -> None:
    s = rules.risk_of_bias([("a", 90.0, "low"), ("b", 10.0, None)])
    assert (s.rating, s.rule) == (rules.NOT_ASSESSED, "RoB.NA")
    assert "b" in s.reason


# ---------------------------------------------------------------- INC (I² bands, CD009172)


@pytest.mark.parametrize(
    ("yi", "i2", "pi", "rating"),
    [
        ([-0.5, -0.2], 30.0, (-0.9, -0.1), rules.NOT_SERIOUS),  # I² < 40%
        ([-0.5, -0.2], 50.0, (-0.9, -0.1), rules.NOT_SERIOUS),  # 40-74%, same side, PI clear
        ([-0.5, -0.2], 50.0, (-0.9, 0.3), rules.SERIOUS),  # 40-74%, PI includes no effect
        ([-0.5, 0.2], 50.0, (-0.9, -0.1), rules.SERIOUS),  # 40-74%, different directions
        ([-0.5, -0.2], 80.0, (-1.5, 0.5), rules.SERIOUS),  # >= 75%, same direction
        ([-0.5, 0.4], 80.0, (-1.5, 0.9), rules.VERY_SERIOUS),  # >= 75%, different
    ],
)
def test_inconsistency_bands(
    yi: list[float], i2: float, pi: tuple[float, float], rating: str
) -> None:
    s = rules.inconsistency(yi, i2, 0.1, pi, 0.0)
    assert (s.rating, s.rule) == (rating, "INC.I2")
    assert f"I² {i2:.0f}%" in s.reason


def test_inconsistency_single_study() -> None:
    s = rules.inconsistency([-0.3], None, None, None, 0.0)
    assert (s.rating, s.rule) == (rules.NOT_SERIOUS, "INC.1")


# ----------------------------------------------------------------- IMP (GRADE 6, Core GRADE 2)


@pytest.mark.parametrize(
    ("ci", "thresholds", "participants", "rating", "rule"),
    [
        ((0.60, 1.40), None, 5000, rules.VERY_SERIOUS, "IMP.CI2"),  # GRADE 6 0.75/1.25 both
        ((0.60, 1.10), None, 5000, rules.SERIOUS, "IMP.MID"),  # crosses 0.75 and 1
        ((0.80, 1.10), None, 5000, rules.NOT_SERIOUS, "IMP.OK"),  # precise: no important effect
        ((0.60, 0.80), None, 5000, rules.SERIOUS, "IMP.MID"),  # crosses 0.75, excludes 1
        ((0.40, 0.70), None, 5000, rules.NOT_SERIOUS, "IMP.OK"),  # clear benefit, OIS met
        ((0.40, 0.70), None, 200, rules.SERIOUS, "IMP.OIS"),  # clear, OIS not met
        ((0.40, 0.70), (0.5, 2.0), 5000, rules.SERIOUS, "IMP.MID"),  # review's own MID
    ],
)
def test_imprecision_ratio(
    ci: tuple[float, float],
    thresholds: tuple[float, float] | None,
    participants: int,
    rating: str,
    rule: str,
) -> None:
    ois = rules.optimal_information_size(0.2)
    s = rules.imprecision(
        math.sqrt(ci[0] * ci[1]),
        ci,
        ratio=True,
        thresholds=thresholds,
        participants=participants,
        ois=ois,
    )
    assert (s.rating, s.rule) == (rating, rule)


def test_imprecision_difference_without_threshold_uses_no_effect() -> None:
    s = rules.imprecision(-1.0, (-2.0, 0.5), ratio=False)
    assert (s.rating, s.rule) == (rules.SERIOUS, "IMP.CI1")
    s = rules.imprecision(-1.0, (-2.0, -0.5), ratio=False)
    assert (s.rating, s.rule) == (rules.NOT_SERIOUS, "IMP.OK")


def test_optimal_information_size_by_hand() -> None:
    """Two-proportion sample size, alpha 0.05 two-sided, beta 0.20, RRR 25%, control 20%.

    By hand: p2 = 0.15; (1.959964 + 0.841621)² x (0.2 x 0.8 + 0.15 x 0.85) / 0.05² = 902.6
    per group -> 903 -> 1806 in total.
    """
    by_hand = (1.959964 + 0.841621) ** 2 * (0.2 * 0.8 + 0.15 * 0.85) / 0.05**2
    assert by_hand == pytest.approx(902.6, abs=0.1)
    ois = rules.optimal_information_size(0.2, rrr=0.25, alpha=0.05, beta=0.20)
    assert ois.total == 2 * math.ceil(by_hand) == 1806


# ------------------------------------------------------------- PB (Handbook 13.3.5.4, Egger)


def _bcg() -> tuple[list[float], list[float]]:
    from kb.analysis.csv_input import read_csv
    from kb.analysis.meta import analyse

    report = analyse(read_csv(DATA / "meta" / "dat.bcg.csv", measure="RR"))
    return [r.yi for r in report.studies], [r.vi for r in report.studies]


def test_egger_matches_an_independent_regression() -> None:
    """Egger's intercept, its SE and p against scipy.stats.linregress on yi/sei ~ 1/sei."""
    yi, vi = _bcg()
    sei = [math.sqrt(v) for v in vi]
    ref = stats.linregress([1 / s for s in sei], [y / s for y, s in zip(yi, sei, strict=True)])
    test = rules.egger_test(yi, vi)
    assert test.intercept == pytest.approx(ref.intercept, rel=1e-9)
    assert test.se == pytest.approx(ref.intercept_stderr, rel=1e-9)
    t = ref.intercept / ref.intercept_stderr
    assert test.p == pytest.approx(2 * stats.t.sf(abs(t), len(yi) - 2), rel=1e-9)
    assert test.df == 11


def test_publication_bias_needs_ten_studies() -> None:
    yi, vi = _bcg()
    s = rules.publication_bias(yi[:9], vi[:9])
    assert (s.rating, s.rule) == (rules.NOT_ASSESSABLE, "PB.K10")
    s = rules.publication_bias(yi, vi)
    assert s.rule == "PB.EGGER"
    expected = rules.SERIOUS if rules.egger_test(yi, vi).p < 0.10 else rules.NOT_SERIOUS
    assert s.rating == expected


# ------------------------------------------------------------------ rating up, indirectness


@pytest.mark.parametrize(
    ("rr", "rating"),
    [
        (0.15, rules.UP_TWO),
        (0.4, rules.UP_ONE),
        (0.7, rules.NO_UPGRADE),
        (2.5, rules.UP_ONE),
        (6.0, rules.UP_TWO),
    ],
)
def test_large_effect_for_observational_evidence(rr: float, rating: str) -> None:
    assert rules.large_effect(rr, True, observational=True).rating == rating
    assert rules.large_effect(rr, True, observational=False).rating == rules.NO_UPGRADE


def test_indirectness_left_to_the_reviewer_when_data_cannot_tell() -> None:
    assert rules.indirectness(None).rating == rules.REVIEWER
    assert rules.indirectness([]).rating == rules.NOT_SERIOUS
    assert rules.indirectness([("s", "surrogate outcome")]).rating == rules.SERIOUS


# ------------------------------------------------------------------------ certainty


def _suggestions(**ratings: str) -> list[rules.Suggestion]:
    base = {d: rules.NOT_SERIOUS for d in rules.DOWN_DOMAINS}
    base.update({d: rules.NO_UPGRADE for d in rules.UP_DOMAINS})
    base.update({k.replace("_", " "): v for k, v in ratings.items()})
    return [rules.Suggestion(d, r, "TEST", "synthetic") for d, r in base.items()]


@pytest.mark.parametrize(
    ("start", "ratings", "expected"),
    [
        ("high", {}, "high"),
        ("high", {"imprecision": rules.SERIOUS}, "moderate"),
        ("high", {"imprecision": rules.VERY_SERIOUS, "risk_of_bias": rules.SERIOUS}, "very low"),
        (
            "high",
            {"imprecision": rules.EXTREMELY_SERIOUS, "inconsistency": rules.SERIOUS},
            "very low",
        ),  # floor
        ("low", {}, "low"),
        ("low", {"large_effect": rules.UP_ONE}, "moderate"),
    ],
)
def test_certainty_from_final_ratings(start: str, ratings: dict[str, str], expected: str) -> None:
    # A reviewer confirms one domain as suggested; the others keep their suggestions.
    confirmed = {"indirectness": FinalRating(rules.NOT_SERIOUS, "synthetic")}
    cert = rate((start, "synthetic"), _suggestions(**ratings), confirmed)
    assert cert.rating == expected
    # Without any rating recorded by a reviewer the same suggestions give no certainty.
    unconfirmed = rate((start, "synthetic"), _suggestions(**ratings))
    assert unconfirmed.rating is None
    assert unconfirmed.how == (
        "not rated: no reviewer has recorded GRADE ratings for this outcome "
        f"(the suggestions alone would give {expected}: {cert.how})"
    )


def test_final_rating_changes_need_a_reason_and_stay_on_scale() -> None:
    sugg = _suggestions(imprecision=rules.SERIOUS)
    cert = rate(("high", ""), sugg, {"imprecision": FinalRating("very serious", "tiny trial")})
    assert cert.rating == "low"
    [imp] = [d for d in cert.domains if d.domain == "imprecision"]
    assert (imp.suggested, imp.final, imp.changed_by_reviewer) == ("serious", "very serious", True)
    assert any("rated down 2 levels" in f for f in cert.footnotes())
    with pytest.raises(CheckFailed, match=r"grade\.imprecision\.reason"):
        rate(("high", ""), sugg, {"imprecision": FinalRating("very serious")})
    with pytest.raises(CheckFailed, match=r"grade\.inconsistency\.final: 'huge'"):
        rate(("high", ""), sugg, {"inconsistency": FinalRating("huge", "x")})
    with pytest.raises(CheckFailed, match=r"'extremely serious' is not on the scale"):
        rate(("high", ""), sugg, {"risk of bias": FinalRating("extremely serious", "x")})


def test_unassessed_risk_of_bias_leaves_certainty_unrated() -> None:
    sugg = _suggestions(risk_of_bias=rules.NOT_ASSESSED)
    cert = rate(("high", ""), sugg)
    assert cert.rating is None
    assert "risk of bias" in cert.how
    cert = rate(("high", ""), sugg, {"risk of bias": FinalRating("serious", "no full text")})
    assert cert.rating == "moderate"
