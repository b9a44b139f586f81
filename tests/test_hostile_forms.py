"""Hostile extraction forms through ``ekb add``: each is refused with its exit code,
a message naming the form (and line or field), no traceback, and the knowledge base
unchanged. The forms are synthetic variations of the pilot's own form."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hostile import PILOT, assert_refused, ekb, make_kb, tree_hash

from kb import paths


@pytest.fixture(scope="module")
def base_form(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The pilot's form with a new study id (what a curator would start from)."""
    kb = make_kb(tmp_path_factory.mktemp("form"))
    shown = ekb("show", PILOT, "-f", "yaml", "--kb", kb)
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout.replace(f"  id: {PILOT}\n", "  id: hostile-new-2024\n", 1)
    assert "hostile-new-2024" in text
    return text


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return make_kb(tmp_path)


def add(kb: Path, form: Path, *extra: str):  # type: ignore[no-untyped-def]
    before = tree_hash(kb)
    return ekb("add", form, "--kb", kb, *extra), before


ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)

# (case id, form text or a function of the base form, exit code, words the message holds)
TEXT_CASES = [
    ("alias-bomb", ALIAS_BOMB, 3, ["anchors"]),
    ("recursive-alias", "a: &a [*a]\n", 3, ["anchors"]),
    ("deep-list", "x: " + "[" * 20000 + "]" * 20000 + "\n", 3, ["nested more than"]),
    ("deep-block-list", "x:\n" + "".join("  " * i + "-\n" for i in range(3000)), 3, ["nested"]),
    ("not-yaml", "study: [unclosed\n  id: x\n", 3, ["not a valid YAML form"]),
    ("tab-indent", "study:\n\tid: x\n", 3, ["not a valid YAML form"]),
    ("empty", "", 1, []),
    ("top-level-list", "- 1\n- 2\n", 1, []),
    ("top-level-scalar", "just text\n", 1, []),
    ("python-tag", "study: !!python/object/apply:os.system ['true']\n", 3, ["YAML"]),
]


@pytest.mark.parametrize(
    ("case", "text", "code", "words"), TEXT_CASES, ids=[c[0] for c in TEXT_CASES]
)
def test_malformed_yaml_is_refused(
    kb: Path, tmp_path: Path, case: str, text: str, code: int, words: list[str]
) -> None:
    form = tmp_path / f"{case}.yaml"
    form.write_text(text, encoding="utf-8")
    run, before = add(kb, form)
    assert_refused(run, code, str(form), *words, kb=kb, before=before)


def _dup_key(f: str) -> str:
    return f.replace("  year: 2021\n", "  year: 2021\n  year: 2022\n", 1)


def _nan(f: str) -> str:
    return f.replace("  follow_up_weeks: 24.0\n", "  follow_up_weeks: .nan\n", 1)


def _inf(f: str) -> str:
    return f.replace("  follow_up_weeks: 24.0\n", "  follow_up_weeks: -.inf\n", 1)


def _huge_int(f: str) -> str:
    return f.replace("  year: 2021\n", "  year: 1000000000000000000000000000000\n", 1)


def _digits(f: str) -> str:
    return f.replace("  year: 2021\n", "  year: " + "9" * 5000 + "\n", 1)


def _key_newline(f: str) -> str:
    return f.replace("  year: 2021\n", '  "year\\n": 2021\n', 1)


def _id_newline(f: str) -> str:
    return f.replace("  id: hostile-new-2024\n", '  id: "nl-x\\n"\n', 1)


def _id_slash(f: str) -> str:
    return f.replace("  id: hostile-new-2024\n", "  id: ../../escape\n", 1)


def _id_space(f: str) -> str:
    return f.replace("  id: hostile-new-2024\n", '  id: "two words"\n', 1)


def _existing(f: str) -> str:
    return f.replace("  id: hostile-new-2024\n", f"  id: {PILOT}\n", 1)


def _big_exponent(f: str) -> str:
    return f.replace("  follow_up_weeks: 24.0\n", "  follow_up_weeks: 1e999999999\n", 1)


def _anchor_in_form(f: str) -> str:
    return f.replace("  year: 2021\n", "  year: &y 2021\n  note2: *y\n", 1)


FORM_CASES = [
    ("duplicate-key", _dup_key, 3, ["given twice", "first on line 6", ":7:"]),
    ("nan", _nan, 3, ["NaN"]),
    ("infinity", _inf, 3, ["Infinity"]),
    ("huge-integer", _huge_int, 3, ["more than 19 digits"]),
    ("5000-digits", _digits, 3, ["more than 19 digits"]),
    ("key-with-newline", _key_newline, 3, ["control character"]),
    ("id-with-newline", _id_newline, 2, ["study.id"]),
    ("id-with-slash", _id_slash, 1, ["study.id"]),
    ("id-with-space", _id_space, 1, ["study.id"]),
    ("existing-id", _existing, 2, ["already in the knowledge base", "--force"]),
    ("huge-exponent", _big_exponent, 1, ["follow_up_weeks"]),
    ("anchor", _anchor_in_form, 3, ["anchors"]),
]


@pytest.mark.parametrize(
    ("case", "change", "code", "words"), FORM_CASES, ids=[c[0] for c in FORM_CASES]
)
def test_hostile_form_values_are_refused(
    kb: Path,
    tmp_path: Path,
    base_form: str,
    case: str,
    change,
    code: int,
    words: list[str],  # type: ignore[no-untyped-def]
) -> None:
    text = change(base_form)
    assert text != base_form, "the case did not change the form"
    form = tmp_path / f"{case}.yaml"
    form.write_text(text, encoding="utf-8")
    run, before = add(kb, form)
    assert_refused(run, code, str(form), *words, kb=kb, before=before)


def test_not_utf8_form(kb: Path, tmp_path: Path) -> None:
    form = tmp_path / "latin1.yaml"
    form.write_bytes(b"study:\n  id: caf\xe9\n")
    run, before = add(kb, form)
    assert_refused(run, 3, str(form), kb=kb, before=before)


def test_missing_form(kb: Path, tmp_path: Path) -> None:
    run, before = add(kb, tmp_path / "nowhere.yaml")
    assert run.returncode in (2, 3) and "Traceback" not in run.output
    assert "nowhere.yaml" in run.stderr
    assert tree_hash(kb) == before


def test_form_that_is_a_folder(kb: Path, tmp_path: Path) -> None:
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    run, before = add(kb, folder)
    assert run.returncode in (2, 3) and "Traceback" not in run.output
    assert "folder.yaml" in run.stderr
    assert tree_hash(kb) == before


def test_the_base_form_itself_is_accepted(kb: Path, tmp_path: Path, base_form: str) -> None:
    # The control: every refusal above is about the change, not the base form.
    form = tmp_path / "ok.yaml"
    form.write_text(base_form, encoding="utf-8")
    run = ekb("add", form, "--kb", kb)
    assert run.returncode == 0, run.stderr
    assert (kb / "studies" / "hostile-new-2024.ttl").is_file()


def test_add_without_kb_refuses_the_shipped_knowledge_base(tmp_path: Path, base_form: str) -> None:
    form = tmp_path / "new.yaml"
    form.write_text(base_form, encoding="utf-8")
    shipped = paths.shipped_kb_dir() / "studies"
    before = tree_hash(shipped)
    run = ekb("add", form, cwd=tmp_path)
    assert_refused(run, 2, "read-only", "ekb init")
    assert tree_hash(shipped) == before
    assert not (shipped / "hostile-new-2024.ttl").exists()


def test_ekb_kb_pointing_at_the_package_is_refused_too(tmp_path: Path, base_form: str) -> None:
    form = tmp_path / "new.yaml"
    form.write_text(base_form, encoding="utf-8")
    run = ekb("add", form, env={"EKB_KB": os.fspath(paths.shipped_kb_dir())})
    assert_refused(run, 2, "read-only", "ekb init")
