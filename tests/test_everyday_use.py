"""The small things a user hits in the first ten minutes, through the real ``ekb`` in a subprocess.

``ekb new -o`` onto an existing file, RIS authors, a related study not (yet) in the knowledge
base, RevMan's skip summary, ``ekb validate``'s first line, and which commands take ``--kb``.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import click
import rispy

from kb.export.ris import split_authors

BIN = Path(sys.executable).parent
EKB = str(BIN / "ekb")


def _ekb(*args: str, cwd: Path, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EKB_")}
    env["EKB_CACHE_DIR"] = str(cwd / ".cache")
    return subprocess.run(
        [EKB, *args], cwd=cwd, env=env, capture_output=True, text=True, input=input, timeout=300
    )


def test_new_onto_an_existing_file_needs_force_and_leaves_it_unchanged(tmp_path: Path) -> None:
    form = tmp_path / "study.yaml"
    form.write_text("study: {id: my-filled-form}\n", encoding="utf-8")
    refused = _ekb("new", "-o", str(form), cwd=tmp_path)
    assert refused.returncode == 2
    assert "study.yaml already exists" in refused.stderr and "--force" in refused.stderr
    assert form.read_text(encoding="utf-8") == "study: {id: my-filled-form}\n"
    forced = _ekb("new", "-o", str(form), "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert "study:" in form.read_text(encoding="utf-8") and "my-filled-form" not in form.read_text()


def test_ris_has_one_au_line_per_person_and_no_counter_lines(tmp_path: Path) -> None:
    done = _ekb("export", "ris", "--study", "he-2020-ard-il2-rct", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert not [line for line in lines if re.fullmatch(r"\d+\.", line.strip())]
    assert lines[0].startswith("TY  - ")
    abstract = next(r for r in rispy.loads(done.stdout) if r["id"].endswith("/source/abstract"))
    # The recorded line: "Jing He et al. (31 authors; Peking University People's Hospital;
    # corresponding authors include Di Yu, Xiaolin Sun, Zhanguo Li)".
    assert abstract["authors"] == ["Jing He", "Di Yu", "Xiaolin Sun", "Zhanguo Li"]
    assert "AD  - Peking University People's Hospital" in lines
    assert any(
        "authors as recorded (list incomplete): Jing He et al." in n for n in abstract["notes"]
    )


def test_author_lines_split_into_people_by_the_stated_rule() -> None:
    assert split_authors("Xia Zhang and Jing He (Peking University People's Hospital)") == (
        ["Xia Zhang", "Jing He"],
        ["Peking University People's Hospital"],
        False,
    )
    assert split_authors(
        "Richard A Furie et al. (Rovin, Garg, ..., Malvar; REGENCY Trial Investigators)"
    ) == (["Richard A Furie", "Rovin", "Garg", "Malvar", "REGENCY Trial Investigators"], [], True)
    assert split_authors("Richard Furie et al. (Mok, ... Roth)") == (
        ["Richard Furie", "Mok", "Roth"],
        [],
        True,
    )
    assert split_authors("The Canadian Hydroxychloroquine Study Group") == (
        ["The Canadian Hydroxychloroquine Study Group"],
        [],
        False,
    )


def test_the_pilots_own_form_adds_to_a_fresh_kb_with_a_warning_for_its_related_study(
    tmp_path: Path,
) -> None:
    form = _ekb("show", "il2-refractory-ln-2021", "-f", "yaml", cwd=tmp_path)
    assert form.returncode == 0, form.stderr
    assert "possibly_related_to" in form.stdout and "il2-refractory-ln-acr-2018" in form.stdout
    (tmp_path / "pilot.yaml").write_text(form.stdout, encoding="utf-8")
    assert _ekb("init", "fresh", cwd=tmp_path).returncode == 0
    added = _ekb("add", "pilot.yaml", "--kb", "fresh", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert (tmp_path / "fresh" / "studies" / "il2-refractory-ln-2021.ttl").is_file()
    assert "study/il2-refractory-ln-acr-2018 is not (yet) in the knowledge base" in added.stderr
    checked = _ekb("validate", "--kb", "fresh", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout
    assert "Warning" in checked.stdout and "is not (yet) in the knowledge base" in checked.stdout


def test_revman_summarises_skips_by_reason_and_lists_them_with_v(tmp_path: Path) -> None:
    quiet = _ekb("export", "revman", "-o", "revman.csv", cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    summary = quiet.stderr.splitlines()
    counts = {
        m["reason"]: int(m["n"])
        for line in summary
        if (m := re.fullmatch(r"revman: skipped (?P<n>\d+) comparison\(s\): (?P<reason>.+)", line))
    }
    assert counts, quiet.stderr
    rows = (tmp_path / "revman.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert f"revman: wrote {len(rows)} two-group comparison(s)" in summary
    assert len(summary) <= len(counts) + 4  # single-arm line, wrote, hint, "wrote revman to"
    verbose = _ekb("export", "revman", "-o", "revman.csv", "-v", cwd=tmp_path)
    details = [line for line in verbose.stderr.splitlines() if line not in summary]
    # Each detail line ends with its reason; the counts of the summary add up to them.
    for reason, n in counts.items():
        assert sum(1 for line in details if line.endswith(f": {reason}")) == n, reason
    assert len(details) == sum(counts.values())


def test_validate_says_what_it_checks_on_a_terminal_before_the_report(tmp_path: Path) -> None:
    assert _ekb("init", "k", cwd=tmp_path).returncode == 0  # empty: the run ends with exit 2
    leader, follower = pty.openpty()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [EKB, "validate", "--kb", str(tmp_path / "k")],
        stdout=subprocess.PIPE,
        stderr=follower,
        cwd=tmp_path,
    )
    os.close(follower)
    first_line_after = None
    seen = b""
    try:
        while b"\n" not in seen:
            ready, _, _ = select.select([leader], [], [], 30)
            if not ready:
                break
            chunk = os.read(leader, 1024)
            if not chunk:
                break
            seen += chunk
            first_line_after = time.perf_counter() - started
    finally:
        proc.wait(timeout=120)
        os.close(leader)
    assert first_line_after is not None, "nothing on the terminal"
    assert seen.decode().startswith(f"validating the studies of {tmp_path / 'k'} ...")
    print(f"first line after {first_line_after:.2f} s")


def test_kb_option_is_on_every_command_that_works_on_a_knowledge_base() -> None:
    from kb.cli import COMMANDS, cli

    ctx = click.Context(cli)
    without: set[str] = set()

    def walk(name: str, command: click.Command) -> None:
        if isinstance(command, click.Group):
            for sub in command.list_commands(ctx):
                sub_command = command.get_command(ctx, sub)
                assert sub_command is not None
                walk(f"{name} {sub}", sub_command)
        elif not any("--kb" in p.opts for p in command.params):
            without.add(name)

    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        walk(name, command)
    # The README names exactly these as the commands without --kb, and says why.
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    documented = {
        "queries",
        "new",
        "review new",
        "rob check",
        "rob robvis",
        "rob plot",
        "init",
        "bench generate",
        "bench run",
        "bench show",
        "bench remote",
    }
    assert without == documented
    passage = readme[readme.index("Every command that reads or writes a knowledge base") :][:600]
    for name in documented:
        assert f"`{name.split()[0]}" in passage or f"`{name}" in passage, name
