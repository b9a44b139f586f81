"""``ekb rob check | robvis | plot`` through the real command line (synthetic forms)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data" / "rob"


def ekb(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from kb.cli import main; main()", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_json_has_the_documented_keys() -> None:
    run = ekb("rob", "check", DATA / "synthetic-rob2-trial-b.yaml", "-f", "json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["tool"] == "rob2"
    assert out["domains"] == {
        "D1": "some concerns",
        "D2": "low",
        "D3": "low",
        "D4": "low",
        "D5": "low",
    }
    assert out["overall"] == "some concerns"
    assert out["rules"]["D1"] == "D1.S3"  # 1.2 NI, 1.3 N/PN/NI -> some concerns


def test_check_bad_form_exit_1_names_field_and_writes_nothing(tmp_path: Path) -> None:
    form = tmp_path / "bad.yaml"
    text = (DATA / "synthetic-rob2-trial-a.yaml").read_text().replace("'1.3': N", "'1.3': maybe")
    assert "maybe" in text
    form.write_text(text)
    out = tmp_path / "out.json"
    run = ekb("rob", "check", form, "-f", "json", "-o", out)
    assert run.returncode == 1
    assert "answers.1.3: 'MAYBE' is not a permitted answer" in run.stderr
    assert "Traceback" not in run.stderr
    assert not out.exists()


def test_check_unreadable_form_exit_3(tmp_path: Path) -> None:
    run = ekb("rob", "check", tmp_path / "missing.yaml")
    assert run.returncode == 3
    assert "missing.yaml" in run.stderr


def test_robvis_table_values_and_not_assessed_left_out(tmp_path: Path) -> None:
    folder = tmp_path / "forms"
    folder.mkdir()
    for f in DATA.glob("synthetic-rob2-*.yaml"):
        shutil.copy(f, folder)
    run = ekb("rob", "robvis", folder)
    assert run.returncode == 0, run.stderr
    rows = list(csv.reader(io.StringIO(run.stdout)))
    assert rows[0] == ["Study", "D1", "D2", "D3", "D4", "D5", "Overall"]
    allowed = {"Low", "Some concerns", "High", "No information"}  # robvis get_judgements ROB2
    assert all(cell in allowed for row in rows[1:] for cell in row[1:])
    assert [r[0] for r in rows[1:]] == [f"synthetic-trial-{x}" for x in "abcd"]
    assert rows[3][5:] == ["High", "High"]  # trial c: 5.2 Y -> D5.H1, overall O.H
    assert "not assessed, left out: synthetic-trial-e" in run.stderr


def test_robvis_refuses_mixed_tools() -> None:
    run = ekb("rob", "robvis", DATA)
    assert run.returncode == 2
    assert "robvis takes one tool per table" in run.stderr


@pytest.mark.parametrize("kind", ["traffic-light", "summary"])
def test_plots_are_written(tmp_path: Path, kind: str) -> None:
    forms = sorted(DATA.glob("synthetic-rob2-*.yaml"))
    svg = tmp_path / "plot.svg"
    run = ekb("rob", "plot", *forms, "--type", kind, "-o", svg)
    assert run.returncode == 0, run.stderr
    text = svg.read_text()
    assert text.startswith("<?xml") and "</svg>" in text
    # robvis' cochrane colours: low green, some concerns yellow, high red, grey not assessed
    for colour in ("#02c100", "#e2df07", "#bf0000", "#bdbdbd"):
        assert colour in text.lower()
    png = tmp_path / "plot.png"
    assert ekb("rob", "plot", *forms, "--type", kind, "-o", png).returncode == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_bad_suffix_exit_2(tmp_path: Path) -> None:
    run = ekb("rob", "plot", DATA / "synthetic-rob2-trial-a.yaml", "-o", tmp_path / "x.pdf")
    assert run.returncode == 2
    assert not (tmp_path / "x.pdf").exists()
