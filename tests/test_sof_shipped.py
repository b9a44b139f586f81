"""``ekb sof`` on the shipped worked-example review: pooled effects equal ``ekb meta
OUTCOME --review``'s, and the honest gaps (RoB not assessed: no full text) are said."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

REVIEW = "il2-sle-ln-worked-example"


def ekb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from kb.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def sof() -> dict[str, Any]:
    from kb.grade import sof as sof_mod

    return sof_mod.build(REVIEW).as_dict()


def test_every_outcome_of_the_question_has_a_row(sof: dict[str, Any]) -> None:
    from kb.sysreview import load_review

    keys = [o.key for o in load_review(None, REVIEW).question.outcomes]
    assert [o["outcome"] for o in sof["outcomes"]] == keys


def test_pooled_effect_equals_ekb_meta_and_gaps_are_said(sof: dict[str, Any]) -> None:
    [crr] = [o for o in sof["outcomes"] if o["outcome"] == "complete-renal-response"]
    run = ekb("meta", "complete renal response", "--review", REVIEW, "-f", "json")
    assert run.returncode == 0, run.stderr
    meta = json.loads(run.stdout)
    [study] = meta["studies"]  # one trial with a comparator: reported without pooling
    rel = crr["relative_effect"]
    assert (rel["estimate"], rel["ci_lower"], rel["ci_upper"]) == pytest.approx(
        (study["estimate"], study["estimate_ci_lb"], study["estimate_ci_ub"]), rel=1e-12
    )
    by = {d["domain"]: d for d in crr["certainty"]["domains"]}
    assert by["risk of bias"]["suggested"] == "not assessed"
    assert "full text not available" in by["risk of bias"]["reason"]
    assert crr["certainty"]["rating"] is None
    assert "has not been rated" in crr["statement"]
    unusable = [o for o in sof["outcomes"] if not o["usable_data"]]
    assert unusable and all(o["message"] for o in unusable)
