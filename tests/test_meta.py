"""Meta-analysis against R metafor's published results, and the input rules.

Datasets in ``tests/data/meta/`` are metafor's example datasets (package metadat),
values copied from the package's raw data files
(https://github.com/wviechtb/metadat/tree/master/data-raw):

- ``dat.bcg.csv`` — Colditz et al. (1994), JAMA 271:698-702, 13 BCG vaccine trials
  (tpos, tneg, cpos, cneg as ai, bi, ci, di).
- ``dat.hine1989.csv`` — Hine et al. (1989), as analysed by Normand (1999), Stat Med 18:321-359.
- ``dat.normand1999.csv`` — Normand (1999), stroke-unit length of stay.
- ``dat.pritz1997.csv`` — Pritz (1997) / Zhou et al. (1999), 14 single-arm studies.
- ``dat.miller1978.csv`` — Miller (1978), The American Statistician 32(4):138.

Published values are given with where they were published; metafor prints and publishes
4 decimals, so "to 4 decimals" means ``abs(ours - published) <= 0.00005`` (half a unit in
the last place).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.analysis import data as data_mod
from kb.analysis.csv_input import read_csv
from kb.analysis.data import from_rows
from kb.analysis.effects import (
    NotEstimable,
    back_transform,
    effect_size,
    escalc,
    harmonic_mean,
    hedges_correction,
    ipft,
    pft,
)
from kb.analysis.meta import (
    analyse,
    cochran_q,
    format_csv,
    format_json,
    format_table,
    rma,
    study_ci,
    tau2_pm,
)
from kb.cli import cli
from kb.errors import CheckFailed, UsageError

DATA = Path(__file__).parent / "data" / "meta"


def close4(ours: float, published: float) -> bool:
    """Equal when rounded to the 4 decimals metafor publishes."""
    return abs(ours - published) <= 0.00005 + 1e-12


def close2(ours: float, published: float) -> bool:
    return abs(ours - published) <= 0.005 + 1e-12


def bcg(measure: str) -> tuple[list[float], list[float]]:
    inp = read_csv(DATA / "dat.bcg.csv", measure=measure)
    effects = escalc(measure, [s.values for s in inp.studies])
    return [e.yi for e in effects], [e.vi for e in effects]  # type: ignore[union-attr]


# --------------------------------------------------------------------------- dat.bcg


# Published: rma(yi, vi, data=dat) on escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos,
# di=cneg, data=dat.bcg) — metafor's REML default; the rma.uni example
# (https://wviechtb.github.io/metafor/reference/rma.uni.html), output as printed in
# https://cttir.github.io/courses/course3_design_causal/labs/lab_week4_session2_slides.html:
#   tau^2 0.3132 (SE = 0.1664), I^2 92.22%, H^2 12.86, Q(df = 12) = 152.2330, p < .0001
#   estimate -0.7145 se 0.1798 zval -3.9744 pval <.0001 ci.lb -1.0669 ci.ub -0.3622
def test_bcg_log_risk_ratio_reml_reproduces_metafor_to_4_decimals() -> None:
    r = rma(*bcg("RR"), method="REML")
    assert r.k == 13
    assert close4(r.estimate, -0.7145)
    assert close4(r.se, 0.1798)
    assert close4(r.zval, -3.9744)
    assert r.pval < 0.0001
    assert close4(r.ci_lb, -1.0669)
    assert close4(r.ci_ub, -0.3622)
    assert close4(r.tau2, 0.3132)
    assert r.se_tau2 is not None and close4(r.se_tau2, 0.1664)
    assert close2(r.i2, 92.22)
    assert close2(r.h2, 12.86)
    assert close4(r.q, 152.2330)
    assert r.q_df == 12 and r.q_pval < 0.0001


# Published: metafor's tests/testthat/test_misc_metan_vs_rma.uni_with_dat.bcg.r
# (https://github.com/wviechtb/metafor/blob/master/tests/testthat/test_misc_metan_vs_rma.uni_with_dat.bcg.r),
# metafor's rma() checked against Stata's metan on dat.bcg.
BCG_METAN = {
    ("RR", "EE"): dict(
        est=-0.4303, lb=-0.5097, ub=-0.3509, z=-10.6247, q=152.2330, back=(0.6503, 0.6007, 0.7040)
    ),
    ("RR", "DL"): dict(
        est=-0.7141,
        lb=-1.0644,
        ub=-0.3638,
        z=-3.9952,
        tau2=0.3088,
        i2=92.1173,
        back=(0.4896, 0.3449, 0.6950),
    ),
    ("OR", "EE"): dict(
        est=-0.4361, lb=-0.5190, ub=-0.3533, z=-10.3190, q=163.1649, back=(0.6465, 0.5951, 0.7024)
    ),
    ("OR", "DL"): dict(
        est=-0.7474,
        lb=-1.1242,
        ub=-0.3706,
        z=-3.8873,
        tau2=0.3663,
        i2=92.6455,
        back=(0.4736, 0.3249, 0.6903),
    ),
    ("RD", "EE"): dict(est=-0.0009, lb=-0.0014, ub=-0.0005, z=-4.0448, q=276.4737),
    ("RD", "DL"): dict(est=-0.0071, lb=-0.0101, ub=-0.0040, z=-4.5128, tau2=0.0000, i2=95.6596),
}


@pytest.mark.parametrize(("measure", "method"), sorted(BCG_METAN))
def test_bcg_dl_and_equal_effects_reproduce_metafor_to_4_decimals(
    measure: str, method: str
) -> None:
    pub = BCG_METAN[(measure, method)]
    r = rma(*bcg(measure), method=method)
    assert close4(r.estimate, pub["est"])
    assert close4(r.ci_lb, pub["lb"])
    assert close4(r.ci_ub, pub["ub"])
    assert close4(r.zval, pub["z"])
    if "q" in pub:
        assert close4(r.q, pub["q"])
    if "tau2" in pub:
        assert close4(r.tau2, pub["tau2"])
    if "i2" in pub:
        assert close4(r.i2, pub["i2"])
    if "back" in pub:
        est, lb, ub = pub["back"]
        assert close4(back_transform(measure, r.estimate), est)
        assert close4(back_transform(measure, r.ci_lb), lb)
        assert close4(back_transform(measure, r.ci_ub), ub)


def test_fe_is_accepted_as_the_equal_effects_model() -> None:
    assert rma(*bcg("RR"), method="FE") == rma(*bcg("RR"), method="EE")


def test_prediction_interval_follows_metafor_predict_formula() -> None:
    # predict.rma with test="z": pred +/- z(0.975) * sqrt(se^2 + tau^2).
    r = rma(*bcg("RR"), method="REML")
    half = 1.959963984540054 * math.sqrt(r.se**2 + r.tau2)
    assert math.isclose(r.pi_lb, r.estimate - half) and math.isclose(r.pi_ub, r.estimate + half)
    ee = rma(*bcg("RR"), method="EE")
    assert math.isclose(ee.pi_lb, ee.ci_lb) and math.isclose(ee.pi_ub, ee.ci_ub)


# Published: metafor's tests/testthat/test_misc_rma_uni.r: rma(method="DLIT") on the dat.bcg
# log risk ratios gives tau2 0.3181; iterating DerSimonian-Laird converges to the
# Paule-Mandel estimate, the root of Q(tau2) = k - 1.
def test_paule_mandel_solves_generalised_q_equals_df_and_matches_metafor_dlit() -> None:
    y, v = bcg("RR")
    t = tau2_pm(y, v)
    w = [1 / (vi + t) for vi in v]
    mu = sum(wi * yi for wi, yi in zip(w, y, strict=True)) / sum(w)
    assert math.isclose(
        sum(wi * (yi - mu) ** 2 for wi, yi in zip(w, y, strict=True)), len(y) - 1, rel_tol=1e-9
    )
    assert close4(t, 0.3181)
    assert rma(y, v, method="PM").tau2 == t


def test_paule_mandel_is_zero_when_q_is_below_its_df() -> None:
    assert tau2_pm([0.1, 0.12, 0.11], [0.04, 0.05, 0.06]) == 0.0


# ----------------------------------------------------------------- dat.hine1989 (RD)


# Published: Normand (1999) Table III (p. 330) and Table VII (p. 349), as checked in metafor's
# tests/testthat/test_analysis_example_normand1999.r
# (https://rdrr.io/cran/metafor/src/tests/testthat/test_analysis_example_normand1999.r).
def test_hine1989_risk_differences_reproduce_normand_table_iii_to_4_decimals() -> None:
    inp = read_csv(DATA / "dat.hine1989.csv", measure="RD")
    effects = escalc("RD", [s.values for s in inp.studies])
    yi = [100 * e.yi for e in effects]  # type: ignore[union-attr]
    vi = [100**2 * e.vi for e in effects]  # type: ignore[union-attr]
    for ours, pub in zip(yi, [2.8026, 0.0000, 1.9711, 1.7961, 3.5334, 4.4031], strict=True):
        assert close4(ours, pub)
    for ours, pub in zip(vi, [17.7575, 37.5657, 8.1323, 10.8998, 8.0114, 6.1320], strict=True):
        assert close4(ours, pub)
    cis = [study_ci(y, v) for y, v in zip(yi, vi, strict=True)]
    for (lb, ub), plb, pub in zip(
        cis,
        [-5.4566, -12.0128, -3.6182, -4.6747, -2.0141, -0.4503],
        [11.0618, 12.0128, 7.5604, 8.2669, 9.0810, 9.2566],
        strict=True,
    ):
        assert close4(lb, plb) and close4(ub, pub)
    for method in ("EE", "REML", "DL"):
        r = rma(yi, vi, method=method)
        assert close4(r.estimate, 2.9444)
        assert close4(r.ci_lb, 0.3831)
        assert r.tau2 == 0.0


# -------------------------------------------------------------- dat.normand1999 (MD/SMD)


def normand_pooled_sd() -> list[dict[str, float]]:
    rows = []
    for s in read_csv(DATA / "dat.normand1999.csv", measure="MD").studies:
        v = s.values
        n1, n2, s1, s2 = v["n1i"], v["n2i"], v["sd1i"], v["sd2i"]
        assert n1 and n2 and s1 is not None and s2 is not None
        sdp = math.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
        rows.append(
            {"m1i": v["m1i"], "m2i": v["m2i"], "n1i": n1, "n2i": n2, "sd1i": sdp, "sd2i": sdp}
        )
    return rows  # type: ignore[return-value]


# Published: Normand (1999) Tables VIII (p. 351) and IX (p. 352), to 2 decimals as printed
# there; the same check is in metafor's test_analysis_example_normand1999.r (mean
# differences with the pooled SD in both groups, as Normand computed them).
def test_normand1999_mean_differences_reproduce_normand_tables_viii_and_ix() -> None:
    effects = escalc("MD", normand_pooled_sd())
    yi = [e.yi for e in effects]  # type: ignore[union-attr]
    vi = [e.vi for e in effects]  # type: ignore[union-attr]
    assert yi == [-20, -2, -55, -71, -4, 1, 11, -10, 7]
    for ours, pub in zip(
        vi, [40.59, 2.05, 15.28, 150.22, 20.19, 1.22, 95.38, 8.03, 20.69], strict=True
    ):
        assert close2(ours, pub)
    published = {
        "EE": (-3.49, -5.03, -1.96, 0.0),
        "DL": (-14.10, -24.45, -3.75, 218.72),
        "REML": (-15.12, -32.67, 2.43, 685.20),
    }
    for method, (est, lb, ub, tau2) in published.items():
        r = rma(yi, vi, method=method)
        assert (
            close2(r.estimate, est)
            and close2(r.ci_lb, lb)
            and close2(r.ci_ub, ub)
            and close2(r.tau2, tau2)
        )


# Published: metafor's tests/testthat/test_misc_rma_uni.r: escalc(measure="SMD", ...,
# data=dat.normand1999, subset=1:4) then rma() gives tau2 1.0090.
def test_normand1999_hedges_g_reml_tau2_reproduces_metafor_to_4_decimals() -> None:
    inp = read_csv(DATA / "dat.normand1999.csv", measure="SMD")
    effects = escalc("SMD", [s.values for s in inp.studies[:4]])
    r = rma([e.yi for e in effects], [e.vi for e in effects])  # type: ignore[union-attr]
    assert close4(r.tau2, 1.0090)


def test_hedges_correction_is_the_exact_gamma_ratio() -> None:
    # c(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)); for m = 2 that is sqrt(2/pi)... / ...
    m = 2.0
    exact = math.gamma(1.0) / (math.sqrt(1.0) * math.gamma(0.5))
    assert math.isclose(hedges_correction(m), exact)
    assert abs(hedges_correction(100) - (1 - 3 / (4 * 100 - 1))) < 1e-5


# ----------------------------------------------------------- proportions (Miller 1978)


# Published: Miller (1978), The American Statistician 32(4), p. 138, as checked in metafor's
# tests/testthat/test_analysis_example_miller1978.r (metafor's PFT is half of Miller's
# transform, hence the factors 2 and 4) and http://www.metafor-project.org/doku.php/analyses:miller1978.
def test_miller1978_freeman_tukey_values_and_pooled_proportion_reproduce_published() -> None:
    inp = read_csv(DATA / "dat.miller1978.csv", measure="PFT")
    effects = escalc("PFT", [s.values for s in inp.studies])
    for e, pub in zip(effects, [1.1391, 1.2888, 1.5253, 0.9515], strict=True):
        assert close4(2 * e.yi, pub)  # type: ignore[union-attr]
    for e, pub in zip(effects, [0.0870, 0.0571, 0.0465, 0.1538], strict=True):
        assert close4(4 * e.vi, pub)  # type: ignore[union-attr]
    r = rma([e.yi for e in effects], [e.vi for e in effects], method="EE")  # type: ignore[union-attr]
    assert close4(2 * r.estimate, 1.3093)
    n_hm = harmonic_mean([s.values["ni"] for s in inp.studies])  # type: ignore[misc]
    assert close4(back_transform("PFT", r.estimate, n_hm), 0.3595)


# Published: metafor's test_analysis_example_miller1978.r, "back-transformations work as
# intended": proportions 0, .4, .6, .8, 1 and the EE estimate 0.6886 [0.5734, 0.7943].
def test_freeman_tukey_back_transformation_reproduces_metafor() -> None:
    xi, ni = [0, 4, 9, 16, 20], [10, 10, 15, 20, 20]
    effects = escalc("PFT", [{"xi": x, "ni": n} for x, n in zip(xi, ni, strict=True)])
    back = [ipft(e.yi, n) for e, n in zip(effects, ni, strict=True)]  # type: ignore[union-attr]
    assert [round(b, 10) for b in back] == [0.0, 0.4, 0.6, 0.8, 1.0]
    r = rma([e.yi for e in effects], [e.vi for e in effects], method="EE")  # type: ignore[union-attr]
    n_hm = harmonic_mean(ni)
    assert close4(back_transform("PFT", r.estimate, n_hm), 0.6886)
    assert close4(back_transform("PFT", r.ci_lb, n_hm), 0.5734)
    assert close4(back_transform("PFT", r.ci_ub, n_hm), 0.7943)
    assert ipft(pft(3, 11), 11) == pytest.approx(3 / 11)


def test_logit_proportion_back_transforms_with_the_inverse_logit() -> None:
    e = effect_size("PLO", {"xi": 7, "ni": 10})
    assert math.isclose(e.yi, math.log(7 / 3)) and math.isclose(e.vi, 1 / 7 + 1 / 3)
    assert math.isclose(back_transform("PLO", e.yi), 0.7)


# ------------------------------------------------------------------------ zero cells


def test_zero_cell_gets_one_half_added_to_every_cell_of_that_table_only() -> None:
    with_zero = {"ai": 0, "bi": 10, "ci": 3, "di": 7}
    e = effect_size("RR", with_zero)
    assert e.corrected
    assert math.isclose(e.yi, math.log((0.5 / 11) / (3.5 / 11)))
    assert math.isclose(e.vi, 1 / 0.5 - 1 / 11 + 1 / 3.5 - 1 / 11)
    out = escalc("OR", [with_zero, {"ai": 2, "bi": 8, "ci": 3, "di": 7}])
    assert out[0].corrected and not out[1].corrected  # type: ignore[union-attr]
    assert math.isclose(out[1].yi, math.log(2 * 7 / (8 * 3)))  # type: ignore[union-attr]


def test_risk_difference_also_gets_the_correction_as_in_escalc() -> None:
    e = effect_size("RD", {"ai": 0, "n1i": 10, "ci": 2, "n2i": 10})
    assert e.corrected and math.isclose(e.yi, 0.5 / 11 - 2.5 / 11)


def test_freeman_tukey_never_gets_a_correction_and_logit_does_at_one_hundred_percent() -> None:
    assert not effect_size("PFT", {"xi": 10, "ni": 10}).corrected
    plo = effect_size("PLO", {"xi": 10, "ni": 10})
    assert plo.corrected and math.isclose(plo.yi, math.log(10.5 / 0.5))


def test_double_zero_study_is_kept_by_default_and_dropped_with_drop00() -> None:
    studies = [{"ai": 0, "n1i": 20, "ci": 0, "n2i": 20}, {"ai": 3, "n1i": 20, "ci": 6, "n2i": 20}]
    kept = escalc("RR", studies)
    assert not isinstance(kept[0], NotEstimable) and kept[0].corrected
    dropped = escalc("RR", studies, drop00=True)
    assert isinstance(dropped[0], NotEstimable) and "drop00" in str(dropped[0])
    assert not isinstance(dropped[1], NotEstimable)


def test_without_correction_a_zero_cell_is_not_estimable_with_a_reason() -> None:
    out = escalc("OR", [{"ai": 0, "bi": 10, "ci": 3, "di": 7}], to="none")
    assert isinstance(out[0], NotEstimable) and "zero" in str(out[0])


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"ai": 12, "n1i": 10, "ci": 1, "n2i": 10}, "more events"),
        ({"ai": 1, "ci": 1}, "neither bi nor n1i"),
        ({"ai": 1, "bi": 9, "n1i": 12, "ci": 1, "di": 9}, "n1i = 12"),
        ({"ai": -1, "n1i": 10, "ci": 1, "n2i": 10}, "negative"),
    ],
)
def test_impossible_two_by_two_tables_are_not_estimable_with_the_reason(
    values: dict, fragment: str
) -> None:
    with pytest.raises(NotEstimable, match=fragment):
        effect_size("RR", values)


def test_model_refuses_bad_input() -> None:
    from kb.analysis.meta import ModelError

    with pytest.raises(ModelError):
        rma([], [])
    with pytest.raises(ModelError):
        rma([0.1, 0.2], [0.1, 0.0])
    with pytest.raises(ModelError):
        rma([0.1, 0.2], [0.1, 0.1], method="HS")


def test_cochran_q_is_zero_for_identical_effects() -> None:
    assert cochran_q([0.3, 0.3, 0.3], [0.1, 0.2, 0.3]) == pytest.approx(0.0, abs=1e-20)
    r = rma([0.3, 0.3, 0.3], [0.1, 0.2, 0.3], method="REML")
    assert r.tau2 == 0.0 and r.i2 == 0.0


# ------------------------------------------------------------ input from the KB rows

BASE = "https://w3id.org/evidence-kb/resource/study/"
TERM = "https://w3id.org/evidence-kb/vocab/term/"


def arm_row(study: str, arm: str, role: str, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {
        "study": BASE + study,
        "arm": f"{BASE}{study}/arm/{arm}",
        "arm_label": arm,
        "arm_role": TERM + role,
        "outcome": f"{BASE}{study}/outcome/crr",
        "outcome_label": "complete renal response",
        "design": "https://w3id.org/evidence-kb/vocab/design/randomised-controlled-trial",
        "blinding": TERM + "double-blind",
    }
    row.update(kw)
    return row


def rct(
    study: str, e: tuple[int, int], c: tuple[int, int], **kw: object
) -> list[dict[str, object]]:
    return [
        arm_row(study, "drug", "experimental", events=e[0], total=e[1], **kw),
        arm_row(study, "placebo", "placebo-comparator", events=c[0], total=c[1], **kw),
    ]


def single(study: str, x: int, n: int, **kw: object) -> list[dict[str, object]]:
    return [
        arm_row(
            study,
            "all",
            "single-arm",
            events=x,
            total=n,
            single_arm=True,
            design="https://w3id.org/evidence-kb/vocab/design/single-arm-trial",
            blinding=TERM + "open-label",
            **kw,
        )
    ]


def test_two_arm_studies_pair_experimental_against_comparator_as_risk_ratio() -> None:
    inp = from_rows(
        rct("a", (30, 100), (20, 100), timepoint_weeks=52)
        + rct("b", (10, 50), (5, 50), timepoint_weeks=52)
    )
    assert inp.measure == "RR"
    assert [s.study for s in inp.studies] == ["a", "b"]
    assert inp.studies[0].values == {"ai": 30, "n1i": 100, "ci": 20, "n2i": 100}
    assert inp.studies[0].comparison == "drug vs placebo"
    assert inp.studies[0].n == 200


def test_single_arm_study_is_excluded_from_a_risk_ratio_with_the_reason() -> None:
    inp = from_rows(rct("a", (30, 100), (20, 100)) + single("pilot", 7, 10), measure="RR")
    assert [s.study for s in inp.studies] == ["a"]
    (excl,) = inp.excluded
    assert excl.study == "pilot" and "single-arm" in excl.reason


def test_proportions_take_single_arm_studies_and_exclude_controlled_ones() -> None:
    inp = from_rows(
        rct("a", (30, 100), (20, 100)) + single("p1", 7, 10) + single("p2", 12, 20), measure="PLO"
    )
    assert [s.study for s in inp.studies] == ["p1", "p2"]
    assert inp.studies[0].values == {"xi": 7, "ni": 10}
    assert inp.studies[0].single_arm and inp.studies[0].open_label
    assert [e.study for e in inp.excluded] == ["a"] and "controlled" in inp.excluded[0].reason


def test_default_measure_is_proportion_when_only_single_arm_studies_have_counts() -> None:
    assert from_rows(single("p1", 7, 10)).measure == "PLO"


def test_percentages_without_counts_are_excluded_never_back_calculated() -> None:
    rows = rct("a", (30, 100), (20, 100)) + [
        arm_row("b", "drug", "experimental", total=100),
        arm_row("b", "placebo", "placebo-comparator", total=100),
    ]
    inp = from_rows(rows, measure="RR")
    assert [s.study for s in inp.studies] == ["a"]
    assert inp.excluded[0].study == "b" and "no events/total" in inp.excluded[0].reason


def test_flagged_rows_are_excluded_with_the_flag_as_reason() -> None:
    rows = rct("a", (30, 100), (20, 100)) + rct(
        "b", (3, 10), (2, 10), exclude=True, quality_flag="CI sign lost"
    )
    inp = from_rows(rows, measure="RR")
    assert [s.study for s in inp.studies] == ["a"]
    assert inp.excluded[0].study == "b"
    assert "excluded from meta-analysis by the extractor" in inp.excluded[0].reason
    assert "CI sign lost" in inp.excluded[0].reason


def test_one_analysis_per_study_prefers_no_subgroup_then_most_participants() -> None:
    rows = (
        rct("a", (30, 179), (20, 178), timepoint_weeks=52)
        + rct("a", (50, 116), (40, 100), timepoint_weeks=156)
        + rct("a", (17, 75), (8, 75), timepoint_weeks=104, subgroup="relapsed")
    )
    inp = from_rows(rows, measure="RR")
    (study,) = inp.studies
    assert study.timepoint_weeks == 52 and study.values["n1i"] == 179
    others = [e for e in inp.excluded if e.study == "a"]
    assert len(others) == 2 and all(e.reason == data_mod.OTHER_ANALYSIS for e in others)
    assert any("week 156" in (e.detail or "") for e in others)
    assert any("subgroup relapsed" in (e.detail or "") for e in others)


def test_study_with_one_subgroup_only_enters_with_it_and_says_so() -> None:
    rows = rct("a", (7, 13), (2, 12), subgroup="patients with lupus nephritis")
    (study,) = from_rows(rows, measure="RR").studies
    assert study.values == {"ai": 7, "n1i": 13, "ci": 2, "n2i": 12}
    assert any("subgroup only: patients with lupus nephritis" in n for n in study.notes)


def test_one_subgroup_of_several_never_stands_for_the_trial() -> None:
    rows = (
        [
            arm_row("a", "drug", "experimental", total=224),
            arm_row("a", "placebo", "placebo-comparator", total=224),
        ]
        + rct("a", (50, 148), (36, 148), subgroup="newly diagnosed")
        + rct("a", (17, 75), (8, 75), subgroup="relapsed")
    )
    inp = from_rows(rows, measure="RR")
    assert inp.studies == []
    (excl,) = inp.excluded
    assert "only subgroup results" in excl.reason and "--combine-subgroups" in excl.reason


def test_combine_subgroups_adds_them_up_once() -> None:
    rows = (
        [
            arm_row("a", "drug", "experimental", total=224),
            arm_row("a", "placebo", "placebo-comparator", total=224),
        ]
        + rct("a", (50, 148), (36, 148), subgroup="newly diagnosed")
        + rct("a", (17, 75), (8, 75), subgroup="relapsed")
    )
    inp = from_rows(rows, measure="RR", combine_subgroups=True)
    (study,) = inp.studies
    assert study.values == {"ai": 67, "n1i": 223, "ci": 44, "n2i": 223}
    assert study.comparison == "drug vs placebo"
    assert any("subgroups added up: newly diagnosed + relapsed" in n for n in study.notes)
    assert [e.reason for e in inp.excluded] == [data_mod.OTHER_ANALYSIS]


def test_timepoint_option_selects_that_week_and_excludes_studies_without_it() -> None:
    rows = rct("a", (30, 179), (20, 178), timepoint_weeks=52) + rct(
        "a", (50, 116), (40, 100), timepoint_weeks=156
    )
    rows += rct("b", (5, 50), (4, 50), timepoint_weeks=24)
    inp = from_rows(rows, measure="RR", timepoint=156)
    assert [(s.study, s.timepoint_weeks) for s in inp.studies] == [("a", 156)]
    assert any(e.study == "b" and "week 156" in e.reason for e in inp.excluded)


def test_several_experimental_arms_are_combined_not_double_counting_the_comparator() -> None:
    rows = [
        arm_row("a", "low", "experimental", events=10, total=50),
        arm_row("a", "high", "experimental", events=15, total=50),
        arm_row("a", "placebo", "placebo-comparator", events=8, total=50),
    ]
    (study,) = from_rows(rows, measure="RR").studies
    assert study.values == {"ai": 25, "n1i": 100, "ci": 8, "n2i": 50}
    assert any("2 experimental arms combined" in n for n in study.notes)


def test_continuous_arms_are_combined_with_the_cochrane_formula() -> None:
    rows = [
        arm_row("a", "low", "experimental", mean=10.0, sd=2.0, n=20),
        arm_row("a", "high", "experimental", mean=14.0, sd=3.0, n=30),
        arm_row("a", "placebo", "placebo-comparator", mean=9.0, sd=2.5, n=40),
    ]
    (study,) = from_rows(rows, measure="MD").studies
    n1, n2, m1, m2, s1, s2 = 20, 30, 10.0, 14.0, 2.0, 3.0
    mean = (n1 * m1 + n2 * m2) / (n1 + n2)
    sd = math.sqrt(
        ((n1 - 1) * s1**2 + (n2 - 1) * s2**2 + n1 * n2 / (n1 + n2) * (m1 - m2) ** 2) / (n1 + n2 - 1)
    )
    assert study.values["n1i"] == 50
    assert math.isclose(study.values["m1i"], mean) and math.isclose(study.values["sd1i"], sd)  # type: ignore[arg-type]


def test_analyse_reports_a_single_study_without_pooling() -> None:
    report = analyse(from_rows(single("pilot", 7, 10)))
    assert report.model is None and report.k == 1
    assert "single study" in report.message and "without pooling" in report.message
    (row,) = report.studies
    assert math.isclose(row.est, 0.7)
    text = format_table(report)
    assert "without pooling" in text and "Pooled" not in text


def test_analyse_with_no_usable_study_fails_listing_the_reasons() -> None:
    with pytest.raises(CheckFailed, match="single-arm"):
        analyse(from_rows(single("pilot", 7, 10), measure="RR"))


def test_study_with_impossible_counts_is_listed_as_excluded_by_analyse() -> None:
    rows = rct("a", (30, 100), (20, 100)) + rct("b", (12, 10), (2, 10)) + rct("c", (5, 40), (9, 40))
    report = analyse(from_rows(rows, measure="RR"))
    assert [r.study for r in report.studies] == ["a", "c"]
    assert report.excluded[0][0] == "b" and "more events" in report.excluded[0][1]


def test_from_rows_rejects_unknown_or_generic_measures() -> None:
    with pytest.raises(UsageError):
        from_rows([], measure="XX")
    with pytest.raises(UsageError):
        from_rows([], measure="GEN")


# ------------------------------------------------------------------------------- CSV


def test_csv_labels_come_from_author_and_year() -> None:
    inp = read_csv(DATA / "dat.bcg.csv")
    assert inp.measure == "RR" and inp.studies[0].label == "Aronson 1948"


def test_csv_with_a_non_number_names_row_and_column(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("study,xi,ni\nA,3,ten\n")
    with pytest.raises(UsageError, match=r"bad.csv:2: column ni"):
        read_csv(f)


def test_csv_with_precomputed_yi_vi_is_analysed_as_generic(tmp_path: Path) -> None:
    y, v = bcg("RR")
    f = tmp_path / "yivi.csv"
    f.write_text(
        "study,yi,vi\n"
        + "".join(f"s{i},{a!r},{b!r}\n" for i, (a, b) in enumerate(zip(y, v, strict=True)))
    )
    report = analyse(read_csv(f))
    assert (
        report.measure == "GEN"
        and report.model is not None
        and close4(report.model.estimate, -0.7145)
    )


# ------------------------------------------------------------------------------- CLI


def run(*args: str) -> object:
    return (
        CliRunner(mix_stderr=False).invoke(cli, ["meta", *args])
        if _mix_stderr_supported()
        else CliRunner().invoke(cli, ["meta", *args])
    )


def _mix_stderr_supported() -> bool:
    import inspect

    return "mix_stderr" in inspect.signature(CliRunner.__init__).parameters


def test_cli_data_reproduces_metafor_bcg_reml_in_json() -> None:
    result = run("--data", str(DATA / "dat.bcg.csv"), "-f", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    m = out["model"]
    assert out["measure"] == "RR" and out["method"] == "REML" and out["k"] == 13
    assert close4(m["estimate"], -0.7145) and close4(m["se"], 0.1798) and close4(m["tau2"], 0.3132)
    assert close4(m["q"], 152.2330) and close2(m["i2"], 92.22) and close2(m["h2"], 12.86)
    assert close4(m["back_transformed"]["estimate"], math.exp(m["estimate"]))
    assert len(out["studies"]) == 13 and out["excluded"] == []


@pytest.mark.parametrize("method", ["DL", "EE"])
def test_cli_data_reproduces_metafor_dl_and_ee(method: str) -> None:
    result = run("--data", str(DATA / "dat.bcg.csv"), "--method", method, "-f", "json")
    m = json.loads(result.stdout)["model"]
    pub = BCG_METAN[("RR", method)]
    assert (
        close4(m["estimate"], pub["est"])
        and close4(m["ci_lb"], pub["lb"])
        and close4(m["ci_ub"], pub["ub"])
    )


def test_cli_table_shows_pooled_estimate_heterogeneity_and_prediction_interval() -> None:
    result = run("--data", str(DATA / "dat.bcg.csv"))
    assert result.exit_code == 0
    for fragment in (
        "estimate -0.7145",
        "SE 0.1798",
        "tau^2 0.3132 (SE 0.1664)",
        "I^2 92.22%",
        "H^2 12.86",
        "Q(12) 152.2330",
        "RR 0.4894",
        "prediction interval",
        "Aronson 1948",
    ):
        assert fragment in result.stdout


def test_cli_csv_has_one_row_per_study_then_the_pooled_row() -> None:
    result = run("--data", str(DATA / "dat.pritz1997.csv"), "--measure", "PFT", "-f", "csv")
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("row,study,n,yi,vi")
    assert sum(1 for line in lines if line.startswith("study,")) == 14
    assert lines[-1].startswith("pooled,POOLED (REML)")


def test_cli_writes_output_file_and_plot(tmp_path: Path) -> None:
    out, png = tmp_path / "res.json", tmp_path / "forest.png"
    result = run(
        "--data", str(DATA / "dat.bcg.csv"), "-f", "json", "-o", str(out), "--plot", str(png)
    )
    assert result.exit_code == 0
    assert json.loads(out.read_text())["k"] == 13
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        ((), 2, "give an OUTCOME"),
        (("crr", "--data", "x.csv"), 2, "not both"),
        (("--data", "x.csv", "--plot", "f.pdf"), 2, ".png or .svg"),
        (("--data", "/no/such/file.csv"), 3, "cannot read"),
        (("--data", str(DATA / "dat.bcg.csv"), "--measure", "MD"), 2, "needs columns"),
        (("--data", str(DATA / "dat.bcg.csv"), "--condition", "lupus"), 2, "not with --data"),
        (("--data", str(DATA / "dat.bcg.csv"), "--combine-subgroups"), 2, "not with --data"),
    ],
)
def test_cli_usage_errors_exit_with_documented_codes(
    args: tuple[str, ...], code: int, fragment: str
) -> None:
    result = run(*args)
    assert result.exit_code == code
    assert fragment in (result.stderr if _mix_stderr_supported() else result.output)
    assert "Traceback" not in result.output


def test_cli_single_study_says_it_is_not_pooled(tmp_path: Path) -> None:
    f = tmp_path / "one.csv"
    f.write_text("study,xi,ni\nIL-2 pilot,7,10\n")
    result = run("--data", str(f), "--measure", "PR")
    assert result.exit_code == 0
    assert "single study: reported without pooling" in result.stdout


def test_format_json_and_csv_carry_exclusions() -> None:
    rows = rct("a", (30, 100), (20, 100)) + rct("c", (5, 40), (9, 40)) + single("pilot", 7, 10)
    report = analyse(from_rows(rows, measure="RR"))
    assert json.loads(format_json(report))["excluded"][0]["study"] == "pilot"
    assert "excluded,pilot" in format_csv(report)


# ------------------------------------------------------------ the shipped knowledge base


def test_shipped_corpus_pools_complete_renal_response_across_ln_trials_as_a_risk_ratio(
    tmp_path: Path,
) -> None:
    plot = tmp_path / "crr.png"
    result = run(
        "complete renal response",
        "--combine-subgroups",
        "--measure",
        "RR",
        "-f",
        "json",
        "--plot",
        str(plot),
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    pooled = {s["study"] for s in out["studies"]}
    assert {"bliss-ln-furie-2020", "he-2020-ard-il2-rct"} <= pooled
    assert out["k"] == len(pooled) >= 2
    model = out["model"]["back_transformed"]
    assert model["ci_lb"] < model["estimate"] < model["ci_ub"]
    # Studies that report only percentages are listed as excluded, never back-calculated.
    excluded = {e["study"]: e["reason"] for e in out["excluded"]}
    assert "no events/total" in excluded["aurora1-rovin-2021"]
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_shipped_corpus_pools_the_response_proportion_of_single_arm_il2_studies() -> None:
    result = run(
        "treatment response (any definition)",
        "--intervention",
        "low-dose IL-2",
        "--measure",
        "PLO",
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    studies = {s["study"]: s for s in out["studies"]}
    assert set(studies) == {"il2-refractory-ln-2021", "he-2016-natmed-il2-open-label"}
    assert all(s["single_arm"] for s in studies.values())
    # Controlled IL-2 trials belong to two-group analyses and say so.
    assert {e["study"] for e in out["excluded"]} >= {"he-2020-ard-il2-rct", "lupil2-humrich-2022"}
    # The outcome each study enters with is named, since the definitions differ.
    assert any("proteinuria" in note for note in studies["il2-refractory-ln-2021"]["notes"])
