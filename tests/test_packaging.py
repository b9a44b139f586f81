"""The built wheel carries the ontology, queries and studies, and works from any folder.

These tests build the real wheel (hatchling, without build isolation, so they
need no network) and install it with ``pip --target`` into a temporary folder,
then run the installed ``ekb`` from ``/tmp``-like directories, far from the
checkout, exactly as a user of a non-editable install would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("evidence_kb-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-compile",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    return target


def _run_installed_ekb(
    installed: Path, args: list[str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    # The installed package must come first on the path, ahead of the checkout.
    env = {k: v for k, v in os.environ.items() if k not in {"EKB_KB", "PYTHONPATH"}}
    env["PYTHONPATH"] = str(installed)
    code = "import sys; from kb.cli import main; sys.argv[0] = 'ekb'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_wheel_contains_ontology_shapes_vocabularies_queries_and_studies(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "kb/ontology/ekb.ttl",
        "kb/ontology/shapes.ttl",
        "kb/studies/il2-refractory-ln-2021.ttl",
    }
    expected |= {f"kb/ontology/vocab/{p.name}" for p in (REPO / "ontology" / "vocab").glob("*.ttl")}
    expected |= {f"kb/queries/{p.name}" for p in (REPO / "queries").glob("*.rq")}
    expected |= {f"kb/studies/{p.name}" for p in (REPO / "kb" / "studies").glob("*.ttl")}
    assert len(expected) > 10
    assert expected <= names, sorted(expected - names)
    assert any(n.endswith("entry_points.txt") for n in names)
    entry_points = next(
        zipfile.ZipFile(wheel).read(n) for n in names if n.endswith("entry_points.txt")
    )
    assert b"ekb = kb.cli:main" in entry_points


def test_installed_package_finds_its_resources_outside_the_checkout(
    installed: Path, tmp_path: Path
) -> None:
    env = {"PYTHONPATH": str(installed), "PATH": os.environ.get("PATH", "")}
    code = (
        "import kb.paths as p; print(p.ontology_file()); print(p.queries_dir());"
        " print(p.shipped_kb_dir())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    for line in out.stdout.splitlines():
        assert Path(line).is_relative_to(installed), line


def test_installed_ekb_validates_the_shipped_kb_from_another_folder(
    installed: Path, tmp_path: Path
) -> None:
    result = _run_installed_ekb(installed, ["validate"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def _readme_command(marker: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- {marker} -->\n```sh\n(.+)\n```", text)
    assert match, f"README.md has no command after <!-- {marker} -->"
    return match.group(1)


def test_readme_main_command_runs_its_ekb_steps_on_the_installed_wheel(
    installed: Path, tmp_path: Path
) -> None:
    command = _readme_command("main-command")
    steps = [s.strip() for s in command.split("&&")]
    assert steps[0].startswith("python3 -m venv") and "pip install ." in steps[1]
    ekb_steps = [s for s in steps if s.startswith(".venv/bin/ekb ")]
    assert ekb_steps, command
    for step in ekb_steps:
        args = step.split()[1:]
        result = _run_installed_ekb(installed, args, cwd=tmp_path)
        assert result.returncode == 0, f"{step}: {result.stderr}"
        assert result.stdout.strip(), f"{step} printed nothing"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "<!-- test-command -->" in ci
    command = _readme_command("test-command")
    assert "pip install '.[test]'" in command and "pytest" in command


def test_ci_runs_the_gates_from_the_installed_venv_before_the_tests() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    steps = [
        ".venv/bin/ruff check kb tests",
        ".venv/bin/ruff format --check kb tests",
        ".venv/bin/mypy kb",
        'bash -c "$pytest_command"',
    ]
    lines = [line.strip() for line in ci.splitlines()]
    positions = [lines.index(step) for step in steps]
    assert positions == sorted(positions), positions
    assert lines.index('bash -c "$install_command"') < positions[0]
    assert lines[0] == "#!/usr/bin/env bash" and "set -euo pipefail" in lines
