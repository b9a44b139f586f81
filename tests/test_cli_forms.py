from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from rdflib.compare import isomorphic

from kb import paths
from kb.cli import cli
from kb.kbdir import load_study_graph

FORMS = Path(__file__).parent / "data" / "forms"
RCT = FORMS / "two-arm-rct.yaml"
REPO = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder, with its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture()
def kb(tmp_path: Path) -> Path:
    folder = tmp_path / "review"
    result = run("init", str(folder))
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="module")
def rct_kb(tmp_path_factory) -> Path:
    """A fresh KB holding the hand-written two-arm RCT (SHACL runs once for the module)."""
    folder = tmp_path_factory.mktemp("rct") / "kb"
    assert run("init", str(folder)).exit_code == 0
    result = run("add", str(RCT), "--kb", str(folder))
    assert result.exit_code == 0, result.output
    return folder


def write_form(tmp_path: Path, form: dict, name: str = "form.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(form, sort_keys=False), encoding="utf-8")
    return path


def rct_form() -> dict:
    return yaml.safe_load(RCT.read_text(encoding="utf-8"))


# --- init -----------------------------------------------------------------------


def test_init_makes_an_empty_knowledge_base(kb: Path):
    assert sorted(snapshot(kb)) == ["README.md", "vocab/README.md"]
    assert (kb / "studies").is_dir()
    assert "concept schemes" in (kb / "vocab" / "README.md").read_text()


def test_init_refuses_a_folder_that_is_not_empty(kb: Path):
    before = snapshot(kb)
    result = run("init", str(kb))
    assert result.exit_code == 2
    assert "not empty" in result.output
    assert snapshot(kb) == before


def test_an_empty_knowledge_base_validates_and_lists_no_studies(kb: Path):
    result = run("query", "studies", "--kb", str(kb), "-f", "csv")
    assert result.exit_code == 0, result.output
    assert result.output.strip().count("\n") == 0  # the header only


# --- new ------------------------------------------------------------------------


def test_new_prints_a_blank_form_with_comments():
    result = run("new")
    assert result.exit_code == 0
    assert "design: randomised controlled trial" in result.output
    assert "# REQUIRED." in result.output


def test_new_writes_the_form_to_a_file(tmp_path: Path):
    out = tmp_path / "f.yaml"
    result = run("new", "--design", "single-arm", "-o", str(out))
    assert result.exit_code == 0
    assert yaml.safe_load(out.read_text())["study"]["design"] == "single-arm trial"


def test_new_with_an_unknown_design_is_a_usage_error():
    result = run("new", "--design", "rct")
    assert result.exit_code == 2


# --- add: the "done when" of the issue ------------------------------------------


def test_a_hand_written_rct_is_added_validates_and_shows_up_in_queries(rct_kb: Path):
    assert (rct_kb / "studies" / "aurora1-rovin-2021.ttl").is_file()
    validate = run("validate", "--kb", str(rct_kb))
    assert validate.exit_code == 0, validate.output
    studies = run("query", "studies", "--kb", str(rct_kb), "-f", "csv")
    assert studies.exit_code == 0, studies.output
    assert "aurora1-rovin-2021" in studies.output
    results = run(
        "query",
        "outcome-results",
        "-p",
        "outcome=complete renal response",
        "--kb",
        str(rct_kb),
        "-f",
        "csv",
    )
    assert results.exit_code == 0, results.output
    rows = [line for line in results.output.splitlines()[1:] if "aurora1-rovin-2021" in line]
    assert len(rows) == 2
    assert any("40.8" in r for r in rows) and any("22.5" in r for r in rows)


def test_the_written_study_file_is_canonical(rct_kb: Path):
    result = run("fmt", "--check", "--kb", str(rct_kb))
    assert result.exit_code == 0, result.output


def test_add_refuses_to_overwrite_without_force(rct_kb: Path):
    before = snapshot(rct_kb)
    result = run("add", str(RCT), "--kb", str(rct_kb))
    assert result.exit_code == 2
    assert "--force" in result.output
    assert snapshot(rct_kb) == before


def test_show_yaml_then_add_force_gives_the_same_study(rct_kb: Path, tmp_path: Path):
    before = load_study_graph(rct_kb / "studies" / "aurora1-rovin-2021.ttl")
    shown = run(
        "show", "aurora1-rovin-2021", "--kb", str(rct_kb), "-o", str(tmp_path / "shown.yaml")
    )
    assert shown.exit_code == 0
    result = run("add", str(tmp_path / "shown.yaml"), "--kb", str(rct_kb), "--force")
    assert result.exit_code == 0, result.output
    assert "replaced aurora1-rovin-2021" in result.output
    assert isomorphic(before, load_study_graph(rct_kb / "studies" / "aurora1-rovin-2021.ttl"))


BROKEN = {
    "bad type": (
        lambda f: f["arms"][1].__setitem__("n", "about 180"),
        "arms[1].n: must be a positive integer",
    ),
    "missing required field": (lambda f: f["study"].pop("title"), "study.title: is required"),
    "unknown concept label": (
        lambda f: f["outcomes"][0].__setitem__("concept", "total renal bliss"),
        "outcomes[0].concept: no outcome called 'total renal bliss'",
    ),
    "unknown arm key": (
        lambda f: f["results"][0].__setitem__("arm", "drug"),
        "results[0].arm: no arm with key 'drug'",
    ),
    "events above total": (
        lambda f: f["results"][0].update({"events": 190, "total": 179}),
        "results[0].events:",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_form_is_refused_with_its_field_and_leaves_the_kb_unchanged(
    case, rct_kb: Path, tmp_path: Path
):
    mutate, expected = BROKEN[case]
    form = rct_form()
    mutate(form)
    form["study"]["id"] = "broken-study"
    path = write_form(tmp_path, form)
    before = snapshot(rct_kb)
    result = run("add", str(path), "--kb", str(rct_kb))
    assert result.exit_code == 1, result.output
    assert expected in result.output
    assert "Traceback" not in result.output
    assert snapshot(rct_kb) == before


def test_several_forms_are_all_or_nothing(kb: Path, tmp_path: Path):
    good = rct_form()
    bad = rct_form()
    bad["study"]["id"] = "second-study"
    bad["arms"][0]["role"] = "the good one"
    paths_given = [write_form(tmp_path, good, "good.yaml"), write_form(tmp_path, bad, "bad.yaml")]
    before = snapshot(kb)
    result = run("add", *map(str, paths_given), "--kb", str(kb))
    assert result.exit_code == 1
    assert "bad.yaml" in result.output and "arms[0].role" in result.output
    assert snapshot(kb) == before


def test_an_unreadable_form_exits_3(kb: Path, tmp_path: Path):
    path = tmp_path / "x.yaml"
    path.write_text("study: [unclosed\n")
    assert run("add", str(path), "--kb", str(kb)).exit_code == 3
    assert run("add", str(tmp_path / "missing.yaml"), "--kb", str(kb)).exit_code == 3


def test_add_into_a_folder_that_is_not_a_kb_exits_3(tmp_path: Path):
    result = run("add", str(RCT), "--kb", str(tmp_path / "nowhere"))
    assert result.exit_code == 3
    assert "ekb init" in result.output


def test_the_kb_can_be_given_by_environment_variable(rct_kb: Path):
    result = run("show", "aurora1-rovin-2021", "-f", "md", env={"EKB_KB": str(rct_kb)})
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# Voclosporin versus placebo")
    assert (
        "| voclosporin | voclosporin + MMF + low-dose steroids | experimental | 179 |"
        in result.output
    )


# --- show -----------------------------------------------------------------------


def test_show_ttl_is_the_canonical_file(rct_kb: Path):
    result = run("show", "aurora1-rovin-2021", "-f", "ttl", "--kb", str(rct_kb))
    assert result.output == (rct_kb / "studies" / "aurora1-rovin-2021.ttl").read_text()


def test_show_of_an_unknown_study_suggests_the_nearest(rct_kb: Path):
    result = run("show", "aurora-rovin-2021", "--kb", str(rct_kb))
    assert result.exit_code == 2
    assert "aurora1-rovin-2021" in result.output


@pytest.mark.parametrize(
    "study_file", paths.study_files(paths.shipped_kb_dir()), ids=lambda p: p.stem
)
def test_show_md_works_for_every_shipped_study(study_file: Path):
    result = run("show", study_file.stem, "-f", "md")
    assert result.exit_code == 0, result.output
    assert f"`{study_file.stem}`" in result.output


# --- fmt ------------------------------------------------------------------------

MESSY = """\
@prefix ekb: <https://w3id.org/evidence-kb/ontology#> .
# a note kept at the top
<https://w3id.org/evidence-kb/resource/study/s> a ekb:Study ; ekb:studyId "s" ; ekb:n 3 .
"""


def test_fmt_check_lists_files_that_are_not_canonical_and_writes_nothing(tmp_path: Path):
    f = tmp_path / "s.ttl"
    f.write_text(MESSY)
    result = run("fmt", "--check", str(f))
    assert result.exit_code == 1
    assert f"not canonical: {f}" in result.output
    assert f.read_text() == MESSY


def test_fmt_rewrites_canonically_keeping_the_graph_and_header(tmp_path: Path):
    f = tmp_path / "s.ttl"
    f.write_text(MESSY)
    before = load_study_graph(f)
    assert run("fmt", str(tmp_path)).exit_code == 0
    text = f.read_text()
    assert text.startswith("# a note kept at the top\n")
    assert "    ekb:n 3 ;\n" in text
    assert isomorphic(before, load_study_graph(f))
    assert run("fmt", "--check", str(f)).exit_code == 0


def test_fmt_of_bad_turtle_exits_3_with_file_and_leaves_every_file(tmp_path: Path):
    good = tmp_path / "a.ttl"
    good.write_text(MESSY)
    bad = tmp_path / "b.ttl"
    bad.write_text("<a> <b> .\n")
    result = run("fmt", str(good), str(bad))
    assert result.exit_code == 3
    assert "b.ttl" in result.output
    assert good.read_text() == MESSY


def test_fmt_of_a_missing_path_is_a_usage_error(tmp_path: Path):
    assert run("fmt", str(tmp_path / "missing.ttl")).exit_code == 2


def test_shipped_kb_is_canonical_by_fmt_check():
    result = run("fmt", "--check", "--kb", str(paths.shipped_kb_dir()))
    assert result.exit_code == 0, result.output


# --- a real process, as the README shows it -------------------------------------


def test_readme_workflow_in_a_real_process(tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("EKB_KB", None)

    def ekb(*args: str) -> subprocess.CompletedProcess[str]:
        code = "from kb.cli import main; main()"
        return subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )

    assert ekb("init", "review").returncode == 0
    new = ekb("new", "--design", "randomised", "-o", "study.yaml")
    assert new.returncode == 0 and (tmp_path / "study.yaml").is_file()
    blank = ekb("add", "study.yaml", "--kb", "review")
    assert blank.returncode == 1
    assert "study.id: is required" in blank.stderr


def test_the_readme_form_example_is_accepted_as_printed(kb: Path, tmp_path: Path):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- section: forms -->", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "readme.yaml"
    path.write_text(example, encoding="utf-8")
    result = run("add", str(path), "--kb", str(kb))
    assert result.exit_code == 0, result.output
    assert run("validate", "--kb", str(kb)).exit_code == 0
