"""Shell completion through the installed ``ekb``: query names, export formats, study ids."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EKB = str(Path(sys.executable).parent / "ekb")


def _complete(words: str, cwd: Path, **env: str) -> list[str]:
    """What bash completion offers after ``words`` (the last word is the one being typed)."""
    parts = words.split(" ")
    done = subprocess.run(
        [EKB],
        cwd=cwd,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("EKB_")},
            "_EKB_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(parts) - 1),
            **env,
        },
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return [line.split(",", 1)[1] for line in done.stdout.splitlines() if line]


def test_completion_offers_query_names_formats_and_study_ids(tmp_path: Path) -> None:
    assert _complete("ekb query evi", tmp_path) == ["evidence-grid", "evidence-map"]
    assert _complete("ekb queries p", tmp_path) == ["pico", "provenance"]
    assert _complete("ekb export r", tmp_path) == ["revman", "ris"]
    assert _complete("ekb show il2-ref", tmp_path) == [
        "il2-refractory-ln-2021",
        "il2-refractory-ln-acr-2018",
    ]
    assert _complete("ekb export csv --study bliss", tmp_path) == ["bliss-ln-furie-2020"]
    assert _complete("ekb summary he-20", tmp_path) == [
        "he-2016-natmed-il2-open-label",
        "he-2020-ard-il2-rct",
    ]


def test_study_ids_come_from_the_kb_given_with_kb_or_ekb_kb(tmp_path: Path) -> None:
    studies = tmp_path / "mine" / "studies"
    studies.mkdir(parents=True)
    (studies / "my-study-2026.ttl").write_text("", encoding="utf-8")
    assert _complete("ekb show --kb mine my", tmp_path) == ["my-study-2026"]
    assert _complete("ekb show my", tmp_path, EKB_KB=str(tmp_path / "mine")) == ["my-study-2026"]
    assert _complete("ekb show my", tmp_path) == []  # not in the shipped KB


def test_the_bash_script_the_readme_tells_users_to_eval_is_printed(tmp_path: Path) -> None:
    done = subprocess.run(
        [EKB], env={**os.environ, "_EKB_COMPLETE": "bash_source"}, capture_output=True, text=True
    )
    assert done.returncode == 0
    assert "_ekb_completion" in done.stdout and "complete " in done.stdout
