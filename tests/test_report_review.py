"""The review page's Summary of Findings and risk-of-bias traffic lights, against the
commands that answer the same questions: ``ekb sof REVIEW -f json`` and ``ekb rob robvis``
(each run in a subprocess, so the page is compared with what a user would get).

Two reviews: the shipped worked example (its one RoB assessment is "not assessed" and its
certainty is not rated: the page must say so, not draw an empty plot), and the clearly
labelled SYNTHETIC review of ``tests/data/sof`` (made-up trials, RoB forms and GRADE
ratings; see test_sof_review.py), whose results are assessed and rated.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rdflib import Graph, Namespace

from kb.cli import cli
from kb.paths import shipped_kb_dir

DATA = Path(__file__).parent / "data"
SOF = DATA / "sof"
SHIPPED_REVIEW = "il2-sle-ln-worked-example"
SYNTHETIC_REVIEW = "synthetic-review"
EKB = Namespace("https://w3id.org/evidence-kb/ontology#")

#: robvis' default ("cochrane") colours, R/helpers.R get_colour(), for reading the plot.
ROBVIS_COLOURS = {"#02c100": "Low", "#e2df07": "Some concerns", "#bf0000": "High"}


def ekb(*args: str | Path, kb: Path | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--kb", str(kb)] if kb is not None else []
    env = {k: v for k, v in os.environ.items() if k != "EKB_KB"}
    done = subprocess.run(
        [sys.executable, "-c", "from kb.cli import main; main()", *map(str, args), *extra],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done


class Tables(HTMLParser):
    """Every table of a page inside one section: caption and rows of cell texts; plus the
    text of every element with an id (for footnotes) and the img alts."""

    def __init__(self, section: str) -> None:
        super().__init__(convert_charrefs=True)
        self.section = section
        self.depth = 0  # > 0 inside the wanted section
        self.tables: list[dict[str, Any]] = []
        self.by_id: dict[str, str] = {}
        self.alts: list[str] = []
        self.imgs: list[str] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None
        self._ids: list[tuple[str, str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if self.depth == 0:
            if tag == "section" and a.get("id") == self.section:
                self.depth = 1
            return
        if tag == "br":
            self.handle_data(" ")
        if tag == "section":
            self.depth += 1
        if tag == "table":
            self.tables.append({"caption": "", "rows": []})
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.alts.append(str(a.get("alt") or ""))
            self.imgs.append(str(a.get("src") or ""))
        if a.get("id"):
            self._ids.append((str(a["id"]), tag, []))

    def handle_endtag(self, tag: str) -> None:
        if self.depth == 0:
            return
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1]["rows"][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "caption" and self._caption is not None:
            self.tables[-1]["caption"] = " ".join("".join(self._caption).split())
            self._caption = None
        if self._ids and self._ids[-1][1] == tag:
            ident, _, parts = self._ids.pop()
            self.by_id[ident] = " ".join("".join(parts).split())
        if tag == "section":
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth == 0:
            return
        self.text.append(data)
        for target in (self._cell, self._caption, *(p for _, _, p in self._ids)):
            if target is not None:
                target.append(data)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def all_text(self) -> str:
        return " ".join("".join(self.text).split())


def section(html: str, ident: str) -> Tables:
    parsed = Tables(ident)
    parsed.feed(html)
    assert parsed.depth == 0 and parsed.text, f"no section #{ident}"
    return parsed


def _fmt(x: float) -> str:
    return f"{x:.2f}"


def check_sof_against_json(html: str, sof: dict[str, Any]) -> None:
    """Every outcome of ``ekb sof -f json`` in the page's table, with its numbers, its
    certainty and every footnote behind a mark that points to it."""
    page = section(html, "sof")
    [table] = [t for t in page.tables if t["caption"].startswith("Summary of findings")]
    header, *rows = table["rows"]
    assert header[:3] == ["Outcome", "Importance", "Participants (studies)"]
    assert len(rows) == len(sof["outcomes"])
    notes = {int(k.removeprefix("sof-note-")): v for k, v in page.by_id.items() if "note-" in k}
    assert sorted(notes.values()) == sorted(
        {f for o in sof["outcomes"] if o["certainty"] for f in o["certainty"]["footnotes"]}
    )
    for row, out in zip(rows, sof["outcomes"], strict=True):
        assert row[0] == out["label"]
        if not out["usable_data"]:
            assert len(row) == 3  # the reason spans the other columns
            head, _, rest = out["message"].partition(": ")
            assert row[2] == f"{head}: {rest}"
            assert head in ("no usable data", "no comparative data")
            continue
        n_studies = out["studies"]
        assert (
            row[2] == f"{out['participants']} ({n_studies} stud{'y' if n_studies == 1 else 'ies'})"
        )
        rel = out["relative_effect"]
        assert row[3].startswith(
            f"{rel['measure']} {_fmt(rel['estimate'])} (95% CI {_fmt(rel['ci_lower'])} to "
            f"{_fmt(rel['ci_upper'])})"
        )
        ab = out["absolute_effect"]
        diff = ab["difference_per_1000"]
        assert (
            f"{ab['comparator_per_1000']} per 1,000 with the comparator; "
            f"{ab['intervention_per_1000']} per 1,000 with the intervention "
            f"({abs(diff)} {'more' if diff >= 0 else 'fewer'} per 1,000; 95% CI "
            f"{ab['difference_ci_lower']} to {ab['difference_ci_upper']})"
        ) in row[4]
        cert = out["certainty"]
        assert row[5].startswith(cert["rating"] or "not rated")
        marks = [int(m) for m in re.findall(r"\[(\d+)\]", row[5])]
        assert [notes[m] for m in marks] == cert["footnotes"]
        assert row[6] == out["statement"]
        # The domains behind the rating, each with its rule and reason.
        [domains] = [
            t
            for t in page.tables
            if t["caption"].startswith(f"How the certainty of {out['label']}")
        ]
        by_domain = {r[0]: r for r in domains["rows"][1:]}
        for d in cert["domains"]:
            got = by_domain[d["domain"]]
            assert got[1:3] == [d["suggested"], d["rule"]]
            assert got[3].startswith(d["final"] or "not rated")
            assert got[4] == d["reason"]


# --------------------------------------------------------------------------- shipped


@pytest.fixture(scope="module")
def shipped_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "site"
    ekb("report", "-o", out, "--review", SHIPPED_REVIEW)
    return out


def test_shipped_review_sof_is_ekb_sofs_table(shipped_site: Path) -> None:
    sof = json.loads(ekb("sof", SHIPPED_REVIEW, "-f", "json").stdout)
    html = (shipped_site / "reviews" / f"{SHIPPED_REVIEW}.html").read_text()
    check_sof_against_json(html, sof)
    # The worked example is not rated (RoB not assessed, indirectness left to the reviewer):
    # the page says so, with a footnote for each domain not rated.
    [crr] = [o for o in sof["outcomes"] if o["outcome"] == "complete-renal-response"]
    assert crr["certainty"]["rating"] is None
    text = section(html, "sof").all_text()
    assert "not rated" in text and "Risk of bias not rated: risk of bias not assessed" in text
    assert "no usable data" in text  # the outcomes without comparative data


def test_shipped_review_says_no_result_was_assessed_instead_of_a_plot(shipped_site: Path) -> None:
    html = (shipped_site / "reviews" / f"{SHIPPED_REVIEW}.html").read_text()
    rob = section(html, "rob")
    text = rob.all_text()
    assert "No result has been assessed for risk of bias" in text
    assert "there is no traffic-light plot" in text
    assert rob.imgs == [] and rob.tables == []
    assert list((shipped_site / "reviews").glob("*--rob-*")) == []
    # The reason, as the review file records it (read here with rdflib, not through kb.rob).
    graph = Graph().parse(shipped_kb_dir() / "reviews" / f"{SHIPPED_REVIEW}.ttl")
    [reason] = {str(o) for o in graph.objects(None, EKB.notAssessedReason)}
    assert f"he-2020-ard-il2-rct: {reason}" in " ".join(text.split())


# --------------------------------------------------------------------------- synthetic


@pytest.fixture(scope="module")
def synthetic_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SYNTHETIC review of tests/data/sof: three made-up trials assessed with RoB 2
    (a low, b some concerns, c high) and two reviewer's GRADE ratings for crr."""
    kb = tmp_path_factory.mktemp("synthetic") / "kb"

    def run(*args: str | Path) -> None:
        result = CliRunner().invoke(cli, [str(a) for a in args])
        assert result.exit_code == 0, result.output

    run("init", kb)
    run("add", *sorted((SOF / "studies").glob("*.yaml")), "--kb", kb)
    run("review", "add", SOF / "review.yaml", "--kb", kb)
    run("rob", "add", SOF / "rob", "--review", SYNTHETIC_REVIEW, "--kb", kb)
    run("grade", "add", SOF / "grade-crr.yaml", "--review", SYNTHETIC_REVIEW, "--kb", kb)
    return kb


@pytest.fixture(scope="module")
def synthetic_page(synthetic_kb: Path) -> tuple[Path, str]:
    site = synthetic_kb.parent / "site"
    ekb("report", "-o", site, kb=synthetic_kb)
    return site, (site / "reviews" / f"{SYNTHETIC_REVIEW}.html").read_text()


def test_synthetic_review_sof_is_ekb_sofs_table(
    synthetic_kb: Path, synthetic_page: tuple[Path, str]
) -> None:
    sof = json.loads(ekb("sof", SYNTHETIC_REVIEW, "-f", "json", kb=synthetic_kb).stdout)
    check_sof_against_json(synthetic_page[1], sof)
    [crr] = [o for o in sof["outcomes"] if o["outcome"] == "crr"]
    assert crr["certainty"]["rating"] == "very low"  # rated: the marks are on a real level
    assert len(crr["certainty"]["footnotes"]) == 2


def test_synthetic_traffic_light_table_and_plot_show_ekb_rob_robvis(
    synthetic_kb: Path, synthetic_page: tuple[Path, str]
) -> None:
    site, html = synthetic_page
    robvis = list(csv.reader(io.StringIO(ekb("rob", "robvis", SOF / "rob").stdout)))
    header, expected = robvis[0], robvis[1:]
    assert header == ["Study", "D1", "D2", "D3", "D4", "D5", "Overall"]
    rob = section(html, "rob")
    [table] = rob.tables
    got_header, *rows = table["rows"]
    assert [h.split(" ")[0] for h in got_header] == [*header, "Weight"]
    assert [r[: len(header)] for r in rows] == expected
    # The Weight column is the meta-analysis weight ekb sof reports for the outcome.
    sof = json.loads(ekb("sof", SYNTHETIC_REVIEW, "-f", "json", kb=synthetic_kb).stdout)
    [crr] = [o for o in sof["outcomes"] if o["outcome"] == "crr"]
    assert {r[0]: r[-1] for r in rows} == {s: f"{w:.2f}" for s, w in crr["weights"].items()}
    # The plot: one circle per study and domain (and overall), in row order, coloured by
    # robvis' scheme; read back from the SVG's scatter collections.
    [src] = rob.imgs
    svg = (site / "reviews" / src).read_text()
    fills = [
        re.search(r"<use [^>]*fill: (#[0-9a-f]{6})", block).group(1)  # type: ignore[union-attr]
        for block in re.split(r'<g id="PathCollection_\d+">', svg)[1:]
    ]
    width = len(header) - 1
    assert len(fills) == len(expected) * width
    grid = [[ROBVIS_COLOURS[f] for f in fills[i : i + width]] for i in range(0, len(fills), width)]
    assert grid == [row[1:] for row in expected]
    # The alt text says the same, study by study.
    [alt] = rob.alts
    for row in expected:
        assert (
            f"{row[0]}: " + ", ".join(f"{d} {v}" for d, v in zip(header[1:], row[1:], strict=True))
            in alt
        )
    assert "No assessment is recorded for: SRI-4 response" in rob.all_text()


def test_the_synthetic_site_with_its_traffic_light_is_the_same_bytes_in_process(
    synthetic_kb: Path, synthetic_page: tuple[Path, str]
) -> None:
    # Another process (another string hash seed) wrote the site on disk; nothing may vary.
    from kb.report import render_report
    from kb.store import EmbeddedStore

    site, _ = synthetic_page
    files = render_report(EmbeddedStore.open_kb(synthetic_kb), kb_dir=synthetic_kb)
    assert f"reviews/{SYNTHETIC_REVIEW}--rob-crr-rob2.svg" in files
    on_disk = {
        p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()
    }
    assert sorted(on_disk) == sorted(files)
    assert [p for p in files if on_disk[p] != files[p]] == []
