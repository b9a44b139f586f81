"""Answers that lead with a review's findings (issue 16): when a review with GRADE ratings
covers the question, the answer gives its per-outcome pooled effect and certainty before the
single studies; when the review's certainty is not rated, it says so and gives no pooled
numbers.

Two knowledge bases: the shipped one (its worked-example review has no risk-of-bias
assessment, so its certainty is not rated), and the clearly labelled SYNTHETIC one of
``tests/data/sof`` (three made-up trials, a made-up review, made-up RoB and GRADE forms;
nothing there describes a real trial). Numbers in the sentences are checked against
``ekb sof -f json`` and ``ekb meta -f json`` run as separate commands; the certainty word
against the reviewer's final ratings, counted here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from rdflib import Graph, Namespace

from kb.paths import shipped_kb_dir
from kb.plain import answer_question, readability_grade
from kb.plain.text import PlainText
from kb.store import EmbeddedStore

REPO = Path(__file__).resolve().parents[1]
SOF = Path(__file__).parent / "data" / "sof"
REVIEW = "synthetic-review"
SHIPPED_REVIEW = "il2-sle-ln-worked-example"
QUESTION = "Does IL-2 work for lupus nephritis?"
SECTION = "Low-dose interleukin-2 (IL-2)"
TERM = Namespace("https://w3id.org/evidence-kb/vocab/term/")
EKB = Namespace("https://w3id.org/evidence-kb/ontology#")


def ekb(*args: str | Path, kb: Path | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--kb", str(kb)] if kb is not None else []
    return subprocess.run(
        [sys.executable, "-c", "from kb.cli import main; main()", *map(str, args), *extra],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _answer(kb: Path, question: str = QUESTION) -> PlainText:
    return answer_question(EmbeddedStore.open_kb(kb), question, kb_dir=kb)


def _review_sentences(answer: PlainText) -> list[str]:
    return [s.text for s in answer.sentences if s.reviews]


@pytest.fixture(scope="module")
def synthetic_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SYNTHETIC KB of tests/data/sof with its RoB assessments, before any GRADE rating."""
    from kb.kbdir import add_forms, init_kb
    from kb.rob.store import add_assessment
    from kb.sysreview import add_review

    kb = tmp_path_factory.mktemp("synthetic") / "kb"
    init_kb(kb)
    add_forms(sorted((SOF / "studies").glob("*.yaml")), kb)
    add_review(SOF / "review.yaml", kb)
    for form in sorted((SOF / "rob").glob("*.yaml")):
        add_assessment(form, REVIEW, kb)
    return kb


@pytest.fixture(scope="module")
def graded_kb(synthetic_kb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic KB with the reviewer's final ratings of tests/data/sof/grade-crr.yaml."""
    from kb.grade.store import add_ratings

    kb = tmp_path_factory.mktemp("graded") / "kb"
    shutil.copytree(synthetic_kb, kb)
    add_ratings(SOF / "grade-crr.yaml", REVIEW, kb)
    return kb


@pytest.fixture(scope="module")
def certainty_words() -> dict[str, str]:
    """The plain words of each GRADE level, read from the vocabulary file directly."""
    graph = Graph().parse(REPO / "ontology" / "vocab" / "plain-language.ttl")
    return {
        level: str(graph.value(TERM[f"certainty-{level.replace(' ', '-')}"], EKB.plainLabel))
        for level in ("high", "moderate", "low", "very low")
    }


def _sof_crr(kb: Path) -> dict[str, Any]:
    """The crr row of the review's Summary of Findings, from `ekb sof -f json`."""
    run = ekb("sof", REVIEW, "-f", "json", kb=kb)
    assert run.returncode == 0, run.stderr
    [crr] = [o for o in json.loads(run.stdout)["outcomes"] if o["outcome"] == "crr"]
    return dict(crr)


@pytest.fixture(scope="module")
def graded_sof(graded_kb: Path) -> dict[str, Any]:
    return _sof_crr(graded_kb)


@pytest.fixture(scope="module")
def graded_answer(graded_kb: Path) -> PlainText:
    return _answer(graded_kb)


# --------------------------------------------------------------------------
# A review with GRADE final ratings (SYNTHETIC)
# --------------------------------------------------------------------------


def test_rated_review_leads_with_its_pooled_effect_from_the_sof_table(
    graded_kb: Path, graded_sof: dict[str, Any]
) -> None:
    run = ekb("ask", QUESTION, "-f", "json", kb=graded_kb)
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    crr = graded_sof  # an independent run of `ekb sof`
    section = [s for s in answer["sentences"] if s["section"] == SECTION]
    # The review comes first in the treatment's part, before the single studies.
    assert section[0]["reviews"] == [f"https://w3id.org/evidence-kb/resource/review/{REVIEW}"]
    first_study = next(i for i, s in enumerate(section) if s["text"].startswith("There are"))
    review_text = " ".join(s["text"] for s in section[:first_study])
    assert all(s["reviews"] for s in section[:first_study])

    m = re.search(r"it pooled (\w+) studies with (\d+) people", review_text)
    assert m and m.groups() == ("three", str(crr["participants"])) and crr["studies"] == 3
    ab = crr["absolute_effect"]
    m = re.search(r"about (\d+) in 1,000 people had full kidney improvement", review_text)
    assert m and int(m.group(1)) == ab["intervention_per_1000"]
    m = re.search(r"usual treatment, (\d+) in 1,000 did", review_text)
    assert m and int(m.group(1)) == ab["comparator_per_1000"]
    m = re.search(
        r"about (\d+) more in 1,000\. "
        r"The true difference is likely to be between (\d+) and (\d+) more",
        review_text,
    )
    assert m and [int(x) for x in m.groups()] == [
        ab["difference_per_1000"],
        ab["difference_ci_lower"],
        ab["difference_ci_upper"],
    ]
    # The JSON keeps the table's exact numbers beside the rounded text.
    values = next(v for s in section for v in s["values"].values() if "absolute_effect" in v)
    assert values["relative_effect"]["estimate"] == pytest.approx(
        crr["relative_effect"]["estimate"], rel=1e-12
    )
    [told] = answer["reviews"]
    assert told["review"] == REVIEW and told["outcomes"][0]["certainty"] == "very low"
    # The review is a numbered source that says where its table is.
    [src] = [s for s in answer["sources"] if s["iri"].endswith(f"review/{REVIEW}")]
    assert src["where"] == f"Its table of findings: ekb sof {REVIEW}" and src["link"] is None


def test_rated_numbers_follow_from_ekb_meta(graded_kb: Path, graded_answer: PlainText) -> None:
    """Intervention risk = assumed comparator risk (median of the comparator groups,
    20/100, 30/150, 15/60 -> 0.2) x the pooled RR of `ekb meta`."""
    run = ekb("meta", "complete renal response", "--review", REVIEW, "-f", "json", kb=graded_kb)
    assert run.returncode == 0, run.stderr
    pooled = json.loads(run.stdout)["model"]["back_transformed"]
    text = " ".join(_review_sentences(graded_answer))
    assert f"about {round(1000 * 0.2 * pooled['estimate'])} in 1,000 people had" in text
    low, high = round(200 * (pooled["ci_lb"] - 1)), round(200 * (pooled["ci_ub"] - 1))
    assert f"between {low} and {high} more" in text


DOWN = {"not serious": 0, "serious": 1, "very serious": 2, "not assessable": 0}
LEVELS = ["high", "moderate", "low", "very low"]
#: GRADE's informative statements (Santesso 2020) for an RR above the 1.25 threshold.
STATEMENTS = {
    "high": "Low-dose interleukin-2 (IL-2) increases full kidney improvement.",
    "moderate": "Low-dose interleukin-2 (IL-2) probably increases full kidney improvement.",
    "low": "Low-dose interleukin-2 (IL-2) may increase full kidney improvement.",
    "very low": "The evidence is very uncertain about the effect of low-dose interleukin-2 (IL-2) "
    "on full kidney improvement.",
}
#: SYNTHETIC final ratings for each certainty (risk of bias is suggested "serious" by rule).
FINALS: dict[str, dict[str, dict[str, str]]] = {
    "high": {
        "risk of bias": {"final": "not serious", "reason": "synthetic: made up for the test"},
        "indirectness": {"final": "not serious", "reason": "synthetic: made up for the test"},
        "imprecision": {"final": "not serious", "reason": "synthetic: made up for the test"},
    },
    "moderate": {
        "indirectness": {"final": "not serious", "reason": "synthetic: made up for the test"},
        "imprecision": {"final": "not serious", "reason": "synthetic: made up for the test"},
    },
    "low": {
        "indirectness": {"final": "not serious", "reason": "synthetic: made up for the test"},
    },
}


@pytest.mark.parametrize("level", ["high", "moderate", "low", "very low"])
def test_certainty_words_follow_the_final_rating(
    level: str,
    synthetic_kb: Path,
    graded_sof: dict[str, Any],
    graded_answer: PlainText,
    tmp_path: Path,
    certainty_words: dict[str, str],
) -> None:
    from kb.grade import sof
    from kb.grade.store import add_ratings

    crr, answer = graded_sof, graded_answer
    if level != "very low":
        kb = tmp_path / "kb"
        shutil.copytree(synthetic_kb, kb)
        form = tmp_path / "grade.yaml"
        form.write_text(
            yaml.safe_dump(
                {"outcome": "crr", "rater": "synthetic reviewer", "ratings": FINALS[level]}
            )
        )
        add_ratings(form, REVIEW, kb)
        [crr] = [o for o in sof.build(REVIEW, kb).as_dict()["outcomes"] if o["outcome"] == "crr"]
        answer = _answer(kb)
    finals = {d["domain"]: d["final"] for d in crr["certainty"]["domains"]}
    downs = sum(
        DOWN[finals[d]]
        for d in (
            "risk of bias",
            "inconsistency",
            "indirectness",
            "imprecision",
            "publication bias",
        )
    )
    assert crr["certainty"]["rating"] == LEVELS[min(3, downs)] == level

    told = _review_sentences(answer)
    assert f"How sure can we be? {certainty_words[level].capitalize()}." in told
    assert STATEMENTS[level] in told
    bottom = [s.text for s in answer.sentences if s.text.startswith("Bottom line")]
    assert bottom == [
        f"Bottom line, from the review: {STATEMENTS[level][0].lower()}{STATEMENTS[level][1:-1]} "
        f"({level} certainty)."
    ]
    assert readability_grade(" ".join(told)) <= 8


def test_main_reason_for_rating_down_is_the_domain_that_took_most_levels(
    graded_sof: dict[str, Any], graded_answer: PlainText
) -> None:
    # grade-crr.yaml: imprecision very serious (2 levels), risk of bias serious (1, by rule).
    levels = {d["domain"]: d["final"] for d in graded_sof["certainty"]["domains"]}
    assert levels["imprecision"] == "very serious" and levels["risk of bias"] == "serious"
    [why] = [t for t in _review_sentences(graded_answer) if t.startswith("Why:")]
    assert why == (
        "Why: mainly because there were too few people or events to be sure; "
        "also because the way some studies were done may have skewed the results."
    )


def test_a_review_with_an_unassessed_study_gives_no_pooled_numbers(tmp_path: Path) -> None:
    """SYNTHETIC: trial c has no risk-of-bias assessment, so risk of bias cannot be rated
    and the certainty is not rated; the answer says so and gives no pooled numbers."""
    from kb.kbdir import add_forms, init_kb
    from kb.rob.store import add_assessment
    from kb.sysreview import add_review

    kb = tmp_path / "kb"
    init_kb(kb)
    add_forms(sorted((SOF / "studies").glob("*.yaml")), kb)
    add_review(SOF / "review.yaml", kb)
    for trial in ("a", "b"):
        add_assessment(SOF / "rob" / f"synthetic-trial-{trial}.yaml", REVIEW, kb)
    crr = _sof_crr(kb)
    assert crr["certainty"]["rating"] is None and crr["relative_effect"] is not None
    pending = [d["domain"] for d in crr["certainty"]["domains"] if d["final"] is None]
    assert pending[0] == "risk of bias"
    answer = _answer(kb)
    told = " ".join(_review_sentences(answer))
    assert "it looked at three studies with 620 people" in told
    assert "The review has not yet rated how sure we can be about this." in told
    assert f"Still to be judged: {_pending_words(pending, several=True)}." in told
    assert "in 1,000" not in answer.plain_text() and "certainty)" not in answer.plain_text()


#: What is still to be judged, per domain without a rating (one study, several).
PENDING = {
    "risk of bias": ("how well the study was done", "how well the studies were done"),
    "inconsistency": ("whether the studies agree", "whether the studies agree"),
    "indirectness": (
        "whether the study matches the question",
        "whether the studies match the question",
    ),
    "imprecision": ("how precise the result is", "how precise the result is"),
}


def _pending_words(domains: list[str], *, several: bool) -> str:
    words = [PENDING[d][several] for d in domains if d in PENDING]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# --------------------------------------------------------------------------
# The shipped review: certainty not rated
# --------------------------------------------------------------------------


def test_shipped_review_is_named_but_its_unrated_result_is_not_given() -> None:
    run = ekb("ask", QUESTION, "-f", "json")
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    sof = ekb("sof", SHIPPED_REVIEW, "-f", "json")
    assert sof.returncode == 0, sof.stderr
    rows = {o["outcome"]: o for o in json.loads(sof.stdout)["outcomes"]}
    crr = rows["complete-renal-response"]
    assert crr["certainty"]["rating"] is None  # the state of the shipped review

    told = [s["text"] for s in answer["sentences"] if s["reviews"]]
    text = " ".join(told)
    assert f"it looked at one study with {crr['participants']} people" in text
    assert "The review has not yet rated how sure we can be about this." in text
    # Risk of bias is not assessed (the curators did not have the full text).
    unrated = [d["domain"] for d in crr["certainty"]["domains"] if d["final"] is None]
    assert "risk of bias" in unrated
    assert f"Still to be judged: {_pending_words(unrated, several=False)}." in text
    # No pooled numbers, no rating, and the bottom line still counts the trials.
    assert "in 1,000" not in text and not re.search(r"\bRR\b|certainty\)", text)
    for word in ("high", "moderate", "low", "very low"):
        assert f"How sure can we be? {word.capitalize()}" not in " ".join(told)
    bottom = [s["text"] for s in answer["sentences"] if s["text"].startswith("Bottom line")]
    assert bottom == ["Bottom line: the one randomised trial we hold did not meet its main goal."]
    # Outcomes without comparative data are named, once.
    unusable = [o for o in rows.values() if not o["usable_data"]]
    [line] = [
        t for t in told if t.startswith("For these outcomes, it had no counts from both groups")
    ]
    assert len(unusable) == 4 and "protein in the urine" in line
    assert answer["reviews"][0]["outcomes"][0]["certainty"] is None
    assert readability_grade(text) <= 8


def test_review_paragraph_reads_at_grade_8_in_the_seed_answer() -> None:
    kb = shipped_kb_dir()
    answer = _answer(kb, "I have lupus. What can I do to stop it?")
    assert _review_sentences(answer)
    assert readability_grade(answer.plain_text()) <= 8
    assert readability_grade(" ".join(_review_sentences(answer))) <= 8


@pytest.mark.parametrize(
    "question",
    [
        "Is belimumab safe?",  # a treatment no review covers
        "Does IL-2 lower the steroid dose?",  # an outcome the review does not ask about
    ],
)
def test_no_review_paragraph_when_the_review_does_not_cover_the_question(question: str) -> None:
    answer = _answer(shipped_kb_dir(), question)
    assert not _review_sentences(answer) and answer.to_json()["reviews"] == []


def test_without_the_folder_no_review_is_read() -> None:
    """A store without its folder (a remote endpoint) answers from the studies alone."""
    answer = answer_question(EmbeddedStore.open_kb(), QUESTION)
    assert not _review_sentences(answer)
    assert answer.to_json()["reviews"] == []


# --------------------------------------------------------------------------
# Study summaries: the review that includes the study
# --------------------------------------------------------------------------


def test_summary_of_a_pooled_study_gives_the_reviews_certainty(
    graded_kb: Path, graded_sof: dict[str, Any], certainty_words: dict[str, str]
) -> None:
    run = ekb("summary", "synthetic-trial-a", "-f", "json", kb=graded_kb)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    told = [s["text"] for s in summary["sentences"] if s["reviews"]]
    others = graded_sof["studies"] - 1
    assert told == [
        "A review in this knowledge base combined this study with "
        f"{['no', 'one', 'two'][others]} others on full kidney improvement.",
        "It rates how sure we can be of the combined result as "
        f"{certainty_words[graded_sof['certainty']['rating']]}.",
    ]
    # The synthetic study has no claim of its own: its results are not rated, and
    # the text does not say that nobody rated anything.
    texts = [s["text"] for s in summary["sentences"]]
    assert "Nobody has rated how sure we can be of this study's own results, " in " ".join(texts)
    assert not any("of these results yet" in t for t in texts)


def test_summaries_of_shipped_studies_in_the_review_say_it_is_not_rated() -> None:
    kb = shipped_kb_dir()
    store = EmbeddedStore.open_kb(kb)
    from kb.plain import summarise_study

    he = summarise_study(store, "he-2020-ard-il2-rct", kb_dir=kb)
    assert _review_sentences(he) == [
        "A review in this knowledge base looked at full kidney improvement in this study alone.",
        "It has not yet rated how sure we can be of this.",
    ]
    pilot = summarise_study(store, "il2-refractory-ln-2021", kb_dir=kb)
    assert _review_sentences(pilot) == [
        "A review in this knowledge base includes this study, "
        "but it could not use the study's numbers to compare groups."
    ]
    # A study that the review does not include gets no review sentence.
    other = summarise_study(store, "bliss-ln-furie-2020", kb_dir=kb)
    assert not _review_sentences(other)
    for text in (he, pilot):
        assert readability_grade(text.plain_text()) <= 8
