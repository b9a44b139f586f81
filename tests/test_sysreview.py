"""Reviews as data: forms, the loader, PRISMA counts and CSV, the diagram, status,
the `review` parameter and `--review`, and bad input through the real CLI."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from rdflib.compare import isomorphic

from kb import paths
from kb.cli import cli
from kb.forms import FormError, load_form_file
from kb.kbdir import study_ids
from kb.sysreview import load_review, prisma_counts, prisma_csv
from kb.sysreview.files import Concepts, review_text
from kb.sysreview.form import blank_form, form_to_review
from kb.turtle_format import parse_turtle

DATA = Path(__file__).parent / "data" / "reviews"
EXAMPLE_FORM = DATA / "il2-sle-ln-worked-example.yaml"
FIXTURE_FORM = DATA / "synthetic-shape-fixture.yaml"
EXAMPLE = "il2-sle-ln-worked-example"
IL2_STUDIES = [
    "charite-il2-early-reports",
    "he-2016-natmed-il2-open-label",
    "he-2020-ard-il2-rct",
    "il2-deficiency-renal-jicr-2019",
    "il2-refractory-ln-2021",
    "il2-refractory-ln-acr-2018",
    "lupil2-humrich-2022",
]


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def ekb(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line in a subprocess."""
    return subprocess.run(
        [sys.executable, "-c", "from kb.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture()
def kb(tmp_path: Path) -> Path:
    """A copy of the shipped studies, with no review yet."""
    folder = tmp_path / "kb"
    shutil.copytree(paths.shipped_kb_dir() / "studies", folder / "studies")
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def fixture_review():  # type: ignore[no-untyped-def]
    kb_dir = paths.shipped_kb_dir()
    concepts = Concepts(kb_dir)
    review = form_to_review(load_form_file(FIXTURE_FORM), concepts.resolve, set(study_ids(kb_dir)))
    return concepts.labelled(review)


# --- the shipped worked example ------------------------------------------------------


def test_the_worked_example_includes_the_il2_studies_and_excludes_the_rest() -> None:
    review = load_review(None, EXAMPLE)
    assert list(review.included_study_ids) == IL2_STUDIES
    excluded = [r for r in review.records if not r.included]
    assert len(review.records) == 15 == len(paths.study_files(paths.shipped_kb_dir()))
    assert {r.study for r in review.records} == set(study_ids(paths.shipped_kb_dir()))
    assert {review.label(r.title_abstract.reason) for r in excluded if r.title_abstract} == {
        "wrong intervention"
    }
    # Honest about what it is, and no invented search count.
    assert "worked example over this corpus, not a literature search" in (review.description or "")
    assert all(s.records_found is None for s in review.searches)


def test_the_worked_example_file_is_what_its_form_gives() -> None:
    kb_dir = paths.shipped_kb_dir()
    concepts = Concepts(kb_dir)
    review = form_to_review(load_form_file(EXAMPLE_FORM), concepts.resolve, set(study_ids(kb_dir)))
    shipped = (kb_dir / "reviews" / f"{EXAMPLE}.ttl").read_text(encoding="utf-8")
    # The risk-of-bias records come from `ekb rob add`, not from the review form (issue 15);
    # everything else in the file is the form's.
    from kb.rob.carry import carry_over

    from_form = review_text(review)
    assert from_form != shipped, "the shipped review records a risk-of-bias assessment"
    assert carry_over(shipped, from_form) == shipped


def test_the_included_studies_are_the_studies_with_an_il2_arm() -> None:
    # Independent of the review: which shipped study files give some arm low-dose IL-2.
    with_il2 = sorted(
        f.stem
        for f in paths.study_files(paths.shipped_kb_dir())
        if "ekb:agent agent:low-dose-interleukin-2" in f.read_text(encoding="utf-8")
    )
    assert with_il2 == IL2_STUDIES


# --- forms ---------------------------------------------------------------------------


def test_show_yaml_then_add_gives_back_an_isomorphic_file(kb: Path, tmp_path: Path) -> None:
    assert run("review", "add", str(EXAMPLE_FORM), "--kb", str(kb)).exit_code == 0
    first = (kb / "reviews" / f"{EXAMPLE}.ttl").read_text()
    shown = run("review", "show", EXAMPLE, "--kb", str(kb))
    assert shown.exit_code == 0
    form = tmp_path / "again.yaml"
    form.write_text(shown.output)
    again = run("review", "add", str(form), "--kb", str(kb), "--force")
    assert again.exit_code == 0, again.output
    second = (kb / "reviews" / f"{EXAMPLE}.ttl").read_text()
    assert isomorphic(parse_turtle(first), parse_turtle(second))


def test_the_blank_form_is_valid_yaml_with_every_section() -> None:
    data = yaml.safe_load(blank_form())
    assert set(data) == {
        "review",
        "question",
        "outcomes",
        "eligibility",
        "registration",
        "authors",
        "searches",
        "records",
    }
    # Blank means absent: the only problems are the required fields left blank.
    with pytest.raises(FormError) as err:
        form_to_review(data, lambda text, scheme: text, set())
    assert err.value.problems == ["review: is required"]


BAD_FORMS = [
    (
        "included record pointing to a missing study",
        lambda f: f["records"][0].__setitem__("study", "no-such-study"),
        "records[0].study: no study 'no-such-study' in the knowledge base",
    ),
    (
        "included record without a study",
        lambda f: f["records"][0].pop("study"),
        "records[0].study: an included record must name a study of the knowledge base",
    ),
    (
        "excluded full text without a reason",
        lambda f: f["records"][4]["full_text"].pop("reason"),
        "records[4].full_text.reason: is required when the full text is excluded",
    ),
    (
        "duplicate record id",
        lambda f: f["records"][3].__setitem__("key", "r1"),
        "records[3].key: 'r1' is used twice (also records[0])",
    ),
    (
        "a decision that is not allowed",
        lambda f: f["records"][0]["title_abstract"].__setitem__("decision", "maybe"),
        "records[0].title_abstract.decision: must be one of include, exclude (got 'maybe')",
    ),
    (
        "a date that is not a date",
        lambda f: f["searches"][0].__setitem__("searched_on", "2026-02-30"),
        "searches[0].searched_on: '2026-02-30' is not a real date",
    ),
    (
        "counts that contradict",
        lambda f: f["searches"][0].__setitem__("records_found", 9),
        "searches[0].records_found: 9 records found, but 7 record(s) of this search are listed",
    ),
    (
        "a reason that is not in the list",
        lambda f: f["records"][3]["title_abstract"].__setitem__("reason", "too long"),
        "records[3].title_abstract.reason: 'too long' is not an exclusion reason; use one of:"
        " duplicate report, not retrievable,",
    ),
    (
        "a record id that would escape the folder",
        lambda f: f["records"][0].__setitem__("key", "../x"),
        "records[0].key: must be a key of letters, digits",
    ),
]


@pytest.mark.parametrize(
    ("change", "message"), [pytest.param(c, m, id=name) for name, c, m in BAD_FORMS]
)
def test_a_bad_form_exits_1_with_the_field_path_and_writes_nothing(
    kb: Path, tmp_path: Path, change, message: str
) -> None:
    form = yaml.safe_load(FIXTURE_FORM.read_text())
    change(form)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(form, sort_keys=False))
    before = snapshot(kb)
    result = ekb("review", "add", str(path), "--kb", str(kb))
    assert result.returncode == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(kb) == before


@pytest.mark.parametrize("review_id", ["../escape", "a/b", ".hidden", "x y"])
def test_a_review_id_that_would_escape_the_folder_is_refused(
    kb: Path, tmp_path: Path, review_id: str
) -> None:
    form = yaml.safe_load(FIXTURE_FORM.read_text())
    form["review"]["id"] = review_id
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(form, sort_keys=False))
    before = snapshot(kb)
    result = run("review", "add", str(path), "--kb", str(kb))
    assert result.exit_code == 1
    assert "review.id: must be a key" in result.output
    assert snapshot(kb) == before
    shown = run("review", "show", review_id, "--kb", str(kb))
    assert shown.exit_code == 2
    assert "not a review id" in shown.output or "no review" in shown.output


def test_adding_an_existing_review_needs_force(kb: Path) -> None:
    assert run("review", "add", str(FIXTURE_FORM), "--kb", str(kb)).exit_code == 0
    again = run("review", "add", str(FIXTURE_FORM), "--kb", str(kb))
    assert again.exit_code == 2
    assert "Use --force" in again.output


# --- PRISMA ---------------------------------------------------------------------------


def test_prisma_counts_follow_from_the_records_by_hand() -> None:
    # Counted by hand from tests/data/reviews/synthetic-shape-fixture.yaml.
    c = prisma_counts(fixture_review())
    expected = {
        "database_results": 7,  # r1-r7
        "register_results": 2,  # g1, g2
        "duplicates": 1,  # r2
        "excluded_automatic": 1,  # r3
        "excluded_other": 0,
        "records_screened": 6,  # r1, r4, r5, r6, r7, g1
        "records_awaiting_screening": 1,  # g2
        "records_excluded": 1,  # r4
        "dbr_sought_reports": 5,  # r1, r5, r6, r7, g1
        "dbr_notretrieved_reports": 1,  # r6
        "dbr_assessed": 3,  # r1, r5, r7
        "website_results": 2,  # w1, w2
        "other_sought_reports": 2,
        "other_assessed": 2,
        "reports_awaiting_assessment": 1,  # g1
        "new_reports": 3,  # r1, r7, w1
        "new_studies": 2,  # r1 and r7 report one study
    }
    assert {k: c[k] for k in expected} == expected
    assert c.dbr_excluded == (("wrong intervention", 1),)
    assert c.other_excluded == (("wrong study design", 1),)
    assert c.records_excluded_reasons == (("wrong population", 1),)


def test_prisma_cascades_add_up() -> None:
    for review in (fixture_review(), load_review(None, EXAMPLE)):
        c = prisma_counts(review)
        identified = c["database_results"] + c["register_results"]
        removed = c["duplicates"] + c["excluded_automatic"] + c["excluded_other"]
        assert identified == removed + c["records_screened"] + c["records_awaiting_screening"]
        assert c["records_screened"] == c["records_excluded"] + c["dbr_sought_reports"]
        dbr_excluded = sum(n for _, n in c.dbr_excluded)
        other_excluded = sum(n for _, n in c.other_excluded)
        awaiting = c["reports_awaiting_assessment"]
        assert (
            c["dbr_sought_reports"] + c["other_sought_reports"]
            == c["dbr_notretrieved_reports"]
            + c["other_notretrieved_reports"]
            + c["dbr_assessed"]
            + c["other_assessed"]
            + awaiting
        )
        assert (
            c["dbr_assessed"] + c["other_assessed"]
            == dbr_excluded + other_excluded + c["new_reports"]
        )


def test_the_worked_example_flow() -> None:
    c = prisma_counts(load_review(None, EXAMPLE))
    assert (c["database_results"], c["records_screened"], c["records_excluded"]) == (15, 15, 8)
    assert (c["dbr_sought_reports"], c["dbr_assessed"], c["new_studies"], c["new_reports"]) == (
        7,
        7,
        7,
        7,
    )
    assert c.records_excluded_reasons == (("wrong intervention", 8),)


def test_the_prisma2020_csv_has_the_template_columns_and_keys() -> None:
    text = prisma_csv(prisma_counts(fixture_review()))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "data",
        "node",
        "box",
        "description",
        "boxtext",
        "tooltips",
        "url",
        "n",
    ]
    by_key = {r["data"]: r["n"] for r in rows if r["data"] != "NA"}
    assert by_key["database_results"] == "7"
    assert by_key["records_screened"] == "6"
    assert by_key["dbr_excluded"] == "wrong intervention, 1"
    assert by_key["other_excluded"] == "wrong study design, 1"
    assert by_key["total_studies"] == "2"
    assert by_key["database_specific_results"] == "Synthetic database, 7"
    # Every key the PRISMA2020 R package reads (R/PRISMA_data.R) is there.
    for key in (
        "previous_studies previous_reports database_results register_results website_results "
        "organisation_results citations_results duplicates excluded_automatic excluded_other "
        "records_screened records_excluded dbr_sought_reports dbr_notretrieved_reports "
        "other_sought_reports other_notretrieved_reports dbr_assessed dbr_excluded "
        "other_assessed other_excluded new_studies new_reports total_studies total_reports"
    ).split():
        assert key in by_key, key


def test_prisma_command_json_csv_and_diagrams(tmp_path: Path) -> None:
    result = run("review", "prisma", EXAMPLE, "-f", "json")
    assert result.exit_code == 0
    assert json.loads(result.output)["boxes"]["new_studies"] == 7
    for name in ("flow.csv", "flow.svg", "flow.png"):
        out = tmp_path / name
        assert run("review", "prisma", EXAMPLE, "-o", str(out)).exit_code == 0
        assert out.stat().st_size > 500
    assert (tmp_path / "flow.png").read_bytes().startswith(b"\x89PNG")
    svg = (tmp_path / "flow.svg").read_text()
    assert "Records screened" in svg or "Records" in svg
    bad = run("review", "prisma", EXAMPLE, "-o", str(tmp_path / "flow.pdf"))
    assert bad.exit_code == 2


def test_the_diagram_has_an_other_methods_column_when_needed(tmp_path: Path) -> None:
    from kb.sysreview.diagram import draw_flow

    out = draw_flow(prisma_counts(fixture_review()), tmp_path / "fixture.svg")
    text = out.read_text()
    assert "via other methods" in text or "other" in text
    # The same counts give the same bytes.
    again = draw_flow(prisma_counts(fixture_review()), tmp_path / "again.svg")
    assert again.read_bytes() == out.read_bytes()


# --- status, list, show ----------------------------------------------------------------


def test_status_lists_what_is_left_and_the_missing_data(kb: Path) -> None:
    shutil.copytree(paths.shipped_kb_dir() / "reviews", kb / "reviews")
    result = run("review", "status", EXAMPLE, "--kb", str(kb), "-f", "json")
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    assert status["records"] == 15 and status["decided"] == 15
    assert status["to_screen"] == [] and status["to_assess"] == []
    assert status["included_studies"] == IL2_STUDIES
    treg = next(o for o in status["outcomes"] if o["key"] == "treg")
    # Independent check: which included study files record a Treg result.
    with_treg = sorted(
        s
        for s in IL2_STUDIES
        if "ekb:outcomeConcept outc:treg-percentage" in (kb / "studies" / f"{s}.ttl").read_text()
    )
    assert treg["studies_with_data"] == with_treg
    assert sorted(treg["studies_with_data"] + treg["studies_without_data"]) == IL2_STUDIES


def test_status_counts_records_left_to_screen() -> None:
    review = fixture_review()
    from kb.store import EmbeddedStore
    from kb.sysreview.status import review_status

    status = review_status(review, EmbeddedStore.open_kb())
    assert status.to_screen == ("g2",)
    assert status.to_assess == ("g1",)


def test_list_and_show() -> None:
    listed = run("review", "list", "-f", "json")
    assert json.loads(listed.output) == [
        {
            "review": EXAMPLE,
            "records": 15,
            "included_studies": 7,
            "title": load_review(None, EXAMPLE).title,
        }
    ]
    md = run("review", "show", EXAMPLE, "-f", "md")
    assert "| il2-refractory-ln-2021 | il2-refractory-ln-2021 | included |" in md.output
    ttl = run("review", "show", EXAMPLE, "-f", "ttl")
    assert ttl.output == (paths.shipped_kb_dir() / "reviews" / f"{EXAMPLE}.ttl").read_text()
    missing = run("review", "show", "il2-sle")
    assert missing.exit_code == 2
    assert "Did you mean 'il2-sle-ln-worked-example'" in missing.output


# --- the review parameter and --review ----------------------------------------------------


def test_the_review_parameter_restricts_queries_to_the_included_studies() -> None:
    for query in ("studies", "characteristics"):
        result = run("query", query, "-p", f"review={EXAMPLE}", "-f", "json")
        assert result.exit_code == 0, result.output
        assert sorted({row["study_id"] for row in json.loads(result.output)}) == IL2_STUDIES
    safety = json.loads(run("query", "safety", "-p", f"review={EXAMPLE}", "-f", "json").output)
    assert {row["study_id"] for row in safety} <= set(IL2_STUDIES)
    unknown = run("query", "studies", "-p", "review=nope")
    assert unknown.exit_code == 2
    assert "no review 'nope'" in unknown.output


def test_meta_with_review_pools_what_the_il2_intervention_filter_pools() -> None:
    outcome = "treatment response (any definition)"
    by_review = run("meta", outcome, "--review", EXAMPLE, "--measure", "PLO", "-f", "json")
    by_agent = run(
        "meta", outcome, "--intervention", "low-dose IL-2", "--measure", "PLO", "-f", "json"
    )
    assert by_review.exit_code == 0 == by_agent.exit_code
    a, b = json.loads(by_review.output), json.loads(by_agent.output)
    assert a["model"] == b["model"]
    assert a["model"] is not None


def test_export_with_review_keeps_only_the_included_studies() -> None:
    result = run("export", "metafor", "--review", EXAMPLE)
    assert result.exit_code == 0
    studies = {row["study"] for row in csv.DictReader(io.StringIO(result.output))}
    assert studies and studies <= set(IL2_STUDIES)
    unknown = run("export", "ris", "--review", "nope")
    assert unknown.exit_code == 2


# --- ekb validate ---------------------------------------------------------------------------


def test_validate_reports_a_bad_review_file_with_exit_1(kb: Path) -> None:
    (kb / "reviews").mkdir()
    text = (paths.shipped_kb_dir() / "reviews" / f"{EXAMPLE}.ttl").read_text()
    # An included record pointing to a study that is not in the knowledge base.
    bad = text.replace(
        "ekb:reportOf <study/il2-refractory-ln-2021>", "ekb:reportOf <study/not-in-this-kb>"
    )
    assert bad != text
    (kb / "reviews" / f"{EXAMPLE}.ttl").write_text(bad)
    result = ekb("validate", "--kb", str(kb))
    assert result.returncode == 1
    assert f"reviews/{EXAMPLE}.ttl does not conform: 1 violation" in result.stdout
    assert "the record reports a study that is not in the knowledge base" in result.stdout
    assert "[ekb:ReviewRecordStudyShape]" in result.stdout
    one = ekb("validate", str(kb / "reviews" / f"{EXAMPLE}.ttl"))
    assert one.returncode == 1
