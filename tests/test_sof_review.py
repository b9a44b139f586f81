"""The full path on a clearly labelled SYNTHETIC knowledge base: studies -> review -> RoB ->
GRADE -> ``ekb sof``, through the real command line.

Every study, number, answer and rating below is made up for the test (the ids say
"synthetic"); nothing here describes a real trial. Checks: the pooled effect equals
``ekb meta``'s; absolute effects follow arithmetically; every downgrade has a reason and a
rule; a reviewer's final rating with its reason replaces the suggestion; bad input names the
field, exits 1/2 and writes nothing; the FHIR Bundle validates; the review form can be added
again without losing the assessments.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

DATA = Path(__file__).parent / "data"
SOF = DATA / "sof"
REVIEW = "synthetic-review"

# (study, experimental events/total, comparator events/total)
TRIALS = [
    ("synthetic-trial-a", (30, 100), (20, 100)),
    ("synthetic-trial-b", (45, 150), (30, 150)),
    ("synthetic-trial-c", (18, 60), (15, 60)),
]


def ekb(*args: str | Path, kb: Path | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--kb", str(kb)] if kb is not None else []
    return subprocess.run(
        [sys.executable, "-c", "from kb.cli import main; main()", *map(str, args), *extra],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _study_form(study: str, exp: tuple[int, int], comp: tuple[int, int]) -> dict[str, Any]:
    return {
        "form": "ekb-study/1",
        "defaults": {
            "source": "synthetic",
            "extracted_by": "synthetic test fixture",
            "extracted_on": "2026-12-02",
        },
        "study": {
            "id": study,
            "title": f"SYNTHETIC trial {study} (made up for tests)",
            "year": 2026,
            "design": "randomised controlled trial",
            "blinding": "double blind",
            "follow_up_weeks": 52,
            "source": "synthetic",
        },
        "sources": [
            {
                "key": "synthetic",
                "type": "journal article",
                "title": "SYNTHETIC source: not a real publication",
                "year": 2026,
            }
        ],
        "population": {
            "condition": "lupus nephritis",
            "enrolled": exp[1] + comp[1],
            "source": "synthetic",
        },
        "arms": [
            {
                "key": "drug",
                "label": "synthetic drug",
                "role": "experimental",
                "n": exp[1],
                "source": "synthetic",
                "interventions": [{"agent": "low-dose interleukin-2", "source": "synthetic"}],
            },
            {
                "key": "placebo",
                "label": "placebo",
                "role": "placebo comparator",
                "n": comp[1],
                "source": "synthetic",
                "interventions": [{"agent": "placebo", "source": "synthetic"}],
            },
        ],
        "outcomes": [
            {
                "key": "crr",
                "label": "complete renal response at week 52",
                "concept": "complete renal response",
                "role": "primary",
                "timepoint_weeks": 52,
            }
        ],
        "results": [
            {
                "key": "crr-drug",
                "arm": "drug",
                "outcome": "crr",
                "timepoint_weeks": 52,
                "events": exp[0],
                "total": exp[1],
            },
            {
                "key": "crr-placebo",
                "arm": "placebo",
                "outcome": "crr",
                "timepoint_weeks": 52,
                "events": comp[0],
                "total": comp[1],
            },
        ],
    }


def _rob_form(study: str, **answers: str) -> dict[str, Any]:
    base = {
        "1.1": "Y",
        "1.2": "Y",
        "1.3": "N",
        "2.1": "N",
        "2.2": "N",
        "2.6": "Y",
        "3.1": "Y",
        "4.1": "N",
        "4.2": "N",
        "4.3": "N",
        "5.1": "Y",
        "5.2": "N",
        "5.3": "N",
    }
    base.update({k.replace("_", "."): v for k, v in answers.items()})
    return {
        "tool": "rob2",
        "aim": "assignment",
        "study": study,
        "outcome": "crr",
        "assessor": "synthetic assessor",
        "date": "2026-12-02",
        "answers": base,
    }


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic KB built from tests/data/sof (the files the README's session uses)."""
    root = tmp_path_factory.mktemp("synthetic-kb")
    kb_dir = root / "kb"
    assert ekb("init", kb_dir).returncode == 0
    run = ekb("add", *sorted((SOF / "studies").glob("*.yaml")), kb=kb_dir)
    assert run.returncode == 0, run.stderr
    run = ekb("review", "add", SOF / "review.yaml", kb=kb_dir)
    assert run.returncode == 0, run.stderr
    # a: low; b: D1 some concerns (1.2 NI, 1.3 N -> D1.S3); c: D5 high (5.2 Y -> D5.H1)
    run = ekb("rob", "add", SOF / "rob", "--review", REVIEW, kb=kb_dir)
    assert run.returncode == 0, run.stderr
    return kb_dir


def test_committed_synthetic_files_match_their_generators() -> None:
    """tests/data/sof was written from the generators below; they must not drift apart."""
    for study, exp, comp in TRIALS:
        assert yaml.safe_load((SOF / "studies" / f"{study}.yaml").read_text()) == _study_form(
            study, exp, comp
        )


def _sof(kb: Path, *args: str) -> dict[str, Any]:
    run = ekb("sof", REVIEW, "-f", "json", *args, kb=kb)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def sof(kb: Path) -> dict[str, Any]:
    """``ekb sof -f json`` once, before any test adds GRADE ratings (those use a copy)."""
    return _sof(kb)


@pytest.fixture(scope="module")
def meta(kb: Path) -> dict[str, Any]:
    run = ekb("meta", "complete renal response", "--review", REVIEW, "-f", "json", kb=kb)
    assert run.returncode == 0, run.stderr
    return dict(json.loads(run.stdout))


def test_pooled_effect_equals_ekb_meta(sof: dict[str, Any], meta: dict[str, Any]) -> None:
    [crr] = [o for o in sof["outcomes"] if o["outcome"] == "crr"]
    pooled = meta["model"]["back_transformed"]
    rel = crr["relative_effect"]
    assert rel["measure"] == "RR"
    assert (rel["estimate"], rel["ci_lower"], rel["ci_upper"]) == pytest.approx(
        (pooled["estimate"], pooled["ci_lb"], pooled["ci_ub"]), rel=1e-12
    )
    assert crr["studies"] == 3 and crr["participants"] == 620


def test_absolute_effects_follow_arithmetically(sof: dict[str, Any]) -> None:
    [crr] = [o for o in sof["outcomes"] if o["outcome"] == "crr"]
    rel, ab = crr["relative_effect"], crr["absolute_effect"]
    acr = statistics.median(c[0] / c[1] for _, _, c in TRIALS)  # 0.2, 0.2, 0.25 -> 0.2
    assert acr == 0.2
    assert ab["comparator_per_1000"] == 200
    assert ab["intervention_per_1000"] == round(1000 * acr * rel["estimate"])
    assert ab["difference_per_1000"] == round(1000 * acr * (rel["estimate"] - 1))
    assert ab["difference_ci_lower"] == round(1000 * acr * (rel["ci_lower"] - 1))
    assert ab["difference_ci_upper"] == round(1000 * acr * (rel["ci_upper"] - 1))


def test_every_downgrade_has_a_reason_and_a_rule(sof: dict[str, Any]) -> None:
    [crr] = [o for o in sof["outcomes"] if o["outcome"] == "crr"]
    cert = crr["certainty"]
    by = {d["domain"]: d for d in cert["domains"]}
    # RoB.W75: a (low) carries < 75% of the weight; b is some concerns, c high
    assert by["risk of bias"]["suggested"] == "serious" and by["risk of bias"]["rule"] == "RoB.W75"
    assert by["publication bias"]["suggested"] == "not assessable"  # 3 < 10 studies
    # IND.PICO: each trial's population (lupus nephritis), drug arm (low-dose IL-2) and
    # placebo arm are the question's concepts (tests/test_grade_directness.py has the rest).
    assert by["indirectness"]["suggested"] == "not serious"
    assert by["indirectness"]["rule"] == "IND.PICO"
    # The suggestions alone would rate it, but no reviewer has: not rated, and said why.
    assert cert["rating"] is None
    assert cert["how"].startswith("not rated: no reviewer has recorded GRADE ratings")
    assert "the suggestions alone would give low" in cert["how"]
    for d in cert["domains"]:
        if d["final"] in ("serious", "very serious", "extremely serious"):
            assert d["reason"] and d["rule"]
            assert any(d["domain"].capitalize() in f and d["rule"] in f for f in cert["footnotes"])


def test_no_usable_data_says_so(sof: dict[str, Any]) -> None:
    [sri] = [o for o in sof["outcomes"] if o["outcome"] == "sri-4"]
    assert sri["usable_data"] is False
    assert sri["message"].startswith("no usable data")
    assert sri["relative_effect"] is None and sri["certainty"] is None


def test_reviewer_final_ratings_give_the_certainty(kb: Path, tmp_path: Path) -> None:
    copy = tmp_path / "kb"
    shutil.copytree(kb, copy)
    kb = copy
    form = SOF / "grade-crr.yaml"
    run = ekb("grade", "add", form, "--review", REVIEW, kb=kb)
    assert run.returncode == 0, run.stderr
    [crr] = [o for o in _sof(kb)["outcomes"] if o["outcome"] == "crr"]
    by = {d["domain"]: d for d in crr["certainty"]["domains"]}
    assert by["imprecision"]["final"] == "very serious"
    assert by["imprecision"]["reason"].startswith("synthetic: 620 participants, far below")
    downs = {"not serious": 0, "serious": 1, "very serious": 2, "not assessable": 0}
    total = sum(
        downs[by[d]["final"]]
        for d in (
            "risk of bias",
            "inconsistency",
            "indirectness",
            "imprecision",
            "publication bias",
        )
    )
    levels = ["high", "moderate", "low", "very low"]
    assert crr["certainty"]["rating"] == levels[min(3, total)]
    assert crr["statement"]  # the GRADE statement for that level
    # the same ratings again without --force: refused, file unchanged
    review_file = kb / "reviews" / f"{REVIEW}.ttl"
    before = review_file.read_bytes()
    again = ekb("grade", "add", form, "--review", REVIEW, kb=kb)
    assert again.returncode == 2 and "--force" in again.stderr
    assert review_file.read_bytes() == before


@pytest.mark.parametrize(
    ("ratings", "field"),
    [
        ({"imprecision": {"final": "huge", "reason": "x"}}, "ratings.imprecision.final: 'huge'"),
        ({"imprecision": {"final": "serious"}}, "ratings.imprecision.reason"),
        ({"risk of bias": {"final": "extremely serious", "reason": "x"}}, "not on the scale"),
    ],
)
def test_bad_grade_form_exit_1_writes_nothing(
    kb: Path, tmp_path: Path, ratings: dict[str, Any], field: str
) -> None:
    from kb.errors import CheckFailed
    from kb.grade.store import add_ratings

    form = tmp_path / "bad.yaml"
    form.write_text(yaml.safe_dump({"outcome": "crr", "ratings": ratings}))
    before = (kb / "reviews" / f"{REVIEW}.ttl").read_bytes()
    with pytest.raises(CheckFailed, match=re.escape(field)) as exc:
        add_ratings(form, REVIEW, kb, force=True)
    assert exc.value.exit_code == 1
    assert (kb / "reviews" / f"{REVIEW}.ttl").read_bytes() == before


def test_bad_grade_form_through_the_cli(kb: Path, tmp_path: Path) -> None:
    form = tmp_path / "bad.yaml"
    form.write_text(
        yaml.safe_dump(
            {"outcome": "crr", "ratings": {"imprecision": {"final": "huge", "reason": "x"}}}
        )
    )
    run = ekb("grade", "add", form, "--review", REVIEW, "--force", kb=kb)
    assert run.returncode == 1
    assert "ratings.imprecision.final: 'huge'" in run.stderr and "Traceback" not in run.stderr


def test_sof_for_an_outcome_the_review_does_not_name_exit_2(kb: Path, tmp_path: Path) -> None:
    out = tmp_path / "sof.md"
    run = ekb("sof", REVIEW, "--outcome", "mortality", "-o", out, kb=kb)
    assert run.returncode == 2
    assert "--outcome: 'mortality' is not an outcome of review" in run.stderr
    assert not out.exists()


def test_rob_form_for_an_unknown_outcome_or_study_exit_1(kb: Path, tmp_path: Path) -> None:
    form = tmp_path / "rob.yaml"
    bad = _rob_form("synthetic-trial-z")
    bad["outcome"] = "mortality"
    form.write_text(yaml.safe_dump(bad))
    before = (kb / "reviews" / f"{REVIEW}.ttl").read_bytes()
    run = ekb("rob", "add", form, "--review", REVIEW, kb=kb)
    assert run.returncode == 1
    assert "outcome: 'mortality' is not an outcome" in run.stderr
    assert "study: 'synthetic-trial-z' is not among the studies" in run.stderr
    assert (kb / "reviews" / f"{REVIEW}.ttl").read_bytes() == before


def test_stored_assessments_are_judged_again(kb: Path) -> None:
    run = ekb("rob", "show", REVIEW, "-f", "json", kb=kb)
    assert run.returncode == 0, run.stderr
    got = {a["study"]: (a["overall"], a["rules"]) for a in json.loads(run.stdout)}
    assert got["synthetic-trial-a"][0] == "low"
    assert got["synthetic-trial-b"][0] == "some concerns"
    assert got["synthetic-trial-b"][1]["D1"] == "D1.S3"
    assert got["synthetic-trial-c"][0] == "high"
    assert got["synthetic-trial-c"][1]["D5"] == "D5.H1"


def test_robvis_with_meta_analysis_weights(kb: Path, meta: dict[str, Any]) -> None:
    run = ekb("rob", "show", REVIEW, "--outcome", "crr", "-f", "robvis", kb=kb)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert lines[0] == "Study,D1,D2,D3,D4,D5,Overall,Weight"
    weights = {s["study"]: s["weight_percent"] for s in meta["studies"]}
    for line in lines[1:]:
        study, *_, weight = line.split(",")
        assert float(weight) == pytest.approx(weights[study], abs=0.005)


def test_fhir_bundle_validates(kb: Path) -> None:
    from fhir.resources.bundle import Bundle

    run = ekb("sof", REVIEW, "-f", "fhir", kb=kb)
    assert run.returncode == 0, run.stderr
    bundle = Bundle.model_validate_json(run.stdout)
    [entry] = bundle.entry
    cert = entry.resource.certainty[0]
    assert cert.type.coding[0].code == "Overall"
    assert [s.type.coding[0].code for s in cert.subcomponent][0] == "RiskOfBias"


def test_xlsx_through_the_cli(kb: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "sof.xlsx"
    run = ekb("sof", REVIEW, "-f", "xlsx", "-o", out, kb=kb)
    assert run.returncode == 0, run.stderr
    ws = load_workbook(out).active
    assert ws.cell(3, 1).value == "Outcome"
    assert ws.cell(4, 1).value == "complete renal response"
    assert str(ws.cell(4, 4).value).startswith("RR ")


def test_md_and_html_tables(kb: Path) -> None:
    from kb.grade import sof as sof_mod

    table = sof_mod.build(REVIEW, kb)
    md = sof_mod.format_md(table)
    assert "| complete renal response | critical | 620 (3) | RR " in md
    assert "| SRI-4 response |" in md and "no usable data" in md
    html = sof_mod.format_html(table)
    assert html.startswith("<!DOCTYPE html>") and '<th scope="col">Certainty (GRADE)</th>' in html


def test_readding_the_review_form_keeps_assessments(kb: Path, tmp_path: Path) -> None:
    from kb.sysreview.files import add_review

    copy = tmp_path / "kb"
    shutil.copytree(kb, copy)
    add_review(SOF / "review.yaml", copy, force=True)
    text = (copy / "reviews" / f"{REVIEW}.ttl").read_text()
    assert text.count("a ekb:RiskOfBiasAssessment") == 3
