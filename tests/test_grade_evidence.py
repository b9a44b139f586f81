"""One outcome's GRADE inputs from ``ekb meta`` (metafor's dat.bcg, 13 trials).

The pooled RR is the meta-analysis module's (metafor: RR 0.4894, 95% CI 0.3441 to 0.6962,
I² 92.22%, REML); the absolute effects are recomputed here by hand from the CSV.
The RoB judgements attached are synthetic (nobody assessed these trials here).
"""

from __future__ import annotations

import csv
import statistics
from pathlib import Path

import pytest

from kb.grade import absolute_effect, from_meta, plain_statement, rate, suggest

BCG = Path(__file__).parent / "data" / "meta" / "dat.bcg.csv"


@pytest.fixture(scope="module")
def bcg():  # type: ignore[no-untyped-def]
    from kb.analysis.csv_input import read_csv
    from kb.analysis.meta import analyse

    inp = read_csv(BCG, measure="RR")
    report = analyse(inp)
    return inp, report


def test_pooled_effect_is_meta_s(bcg) -> None:  # type: ignore[no-untyped-def]
    inp, report = bcg
    ev = from_meta(inp, report, rob={})
    assert ev.estimate == report.pooled.est == pytest.approx(0.4894, abs=1e-4)
    assert ev.ci == (report.pooled.lb, report.pooled.ub)
    assert ev.i2 == pytest.approx(92.22, abs=0.01)


def test_absolute_effect_follows_arithmetically(bcg) -> None:  # type: ignore[no-untyped-def]
    inp, report = bcg
    ev = from_meta(inp, report, rob={})
    rows = list(csv.DictReader(BCG.open()))
    risks = [int(r["ci"]) / (int(r["ci"]) + int(r["di"])) for r in rows]
    acr = statistics.median(risks)
    ab = absolute_effect(ev)
    assert ab is not None
    assert ab.comparator_per_1000 == pytest.approx(1000 * acr)
    assert ab.intervention_per_1000 == pytest.approx(1000 * acr * 0.4894, abs=0.01 * 1000 * acr)
    assert ab.intervention_per_1000 == pytest.approx(1000 * acr * report.pooled.est)
    assert ab.difference_per_1000 == pytest.approx(1000 * acr * (report.pooled.est - 1))
    assert ab.difference_ci_lower == pytest.approx(1000 * acr * (report.pooled.lb - 1))
    assert ab.difference_ci_upper == pytest.approx(1000 * acr * (report.pooled.ub - 1))
    assert "median comparator-group risk of 13 studies" in ab.comparator_basis


def test_suggestions_for_bcg_with_synthetic_rob(bcg) -> None:  # type: ignore[no-untyped-def]
    inp, report = bcg
    rob = {s.study: "low" for s in inp.studies}
    ev = from_meta(inp, report, rob=rob, randomised={s.study: True for s in inp.studies})
    start, sugg, ois = suggest(ev)
    by = {s.domain: s for s in sugg}
    assert start[0] == "high"
    assert by["risk of bias"].rating == "not serious"
    # I² 92% with every trial but one... the directions decide one or two levels (CD009172)
    split = any(y > 0 for y in ev.yi) and any(y < 0 for y in ev.yi)
    assert by["inconsistency"].rating == ("very serious" if split else "serious")
    assert by["publication bias"].rule == "PB.EGGER"  # 13 >= 10 studies
    assert ois is not None and ois.rrr == 0.25 and ois.alpha == 0.05 and ois.beta == 0.20
    cert = rate(start, sugg, {"indirectness": _final("not serious", "synthetic")})
    assert cert.rating in {"low", "very low"}
    assert all("rule" in f for f in cert.footnotes() if "rated down" in f)


def _final(rating: str, reason: str):  # type: ignore[no-untyped-def]
    from kb.grade import FinalRating

    return FinalRating(rating, reason)


def test_plain_statements_follow_certainty(bcg) -> None:  # type: ignore[no-untyped-def]
    inp, report = bcg
    ev = from_meta(inp, report, rob={})
    say = {
        lvl: plain_statement(lvl, "BCG vaccine", "tuberculosis", ev, None)
        for lvl in ("high", "moderate", "low", "very low")
    }
    assert say["high"] == "BCG vaccine reduces tuberculosis."
    assert say["moderate"] == "BCG vaccine probably reduces tuberculosis."
    assert say["low"] == "BCG vaccine may reduce tuberculosis."
    assert say["very low"].startswith("The evidence is very uncertain")
    assert "has not been rated" in plain_statement(None, "x", "y", ev, None)
    assert "little to no difference" in plain_statement("low", "x", "y", ev, (0.4, 1.6))
