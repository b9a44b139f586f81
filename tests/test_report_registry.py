"""Study pages: registered vs reported, against ``ekb discrepancies`` (run in a subprocess).

The shipped knowledge base holds no registry record (``ekb discrepancies --all`` says so for
every study with a registration id), so its pages must say "no registry record held", and
studies without a registration id must say that instead. For pages with discrepancies the
registry side is a real record (NCT02210780, tests/data/ctgov/registry, imported with ``ekb
import ctgov``); the publication side is two **SYNTHETIC** study forms written here: one
that switches outcomes on purpose (each discrepancy known in advance) and one that reports
exactly what was registered (no discrepancy found).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from kb.cli import cli

RECORD = Path(__file__).resolve().parent / "data" / "ctgov" / "registry" / "NCT02210780.json"
REGISTRY_STUDY = "nct02210780"
SWITCHED = "synthetic-publication-switched"
FAITHFUL = "synthetic-publication-faithful"


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


class Section(HTMLParser):
    """The text and table rows (cell texts) of ``<section id="registry">``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.text: list[str] = []
        self.rows: list[list[str]] = []
        self.hrefs: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if self.depth == 0:
            self.depth = int(tag == "section" and a.get("id") == "registry")
            return
        self.depth += tag == "section"
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br":
            self.handle_data(" ")
        elif tag == "a":
            self.hrefs.append(str(a.get("href")))

    def handle_endtag(self, tag: str) -> None:
        if self.depth == 0:
            return
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        self.depth -= tag == "section"

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text.append(data)
            if self._cell is not None:
                self._cell.append(data)

    def all_text(self) -> str:
        return " ".join("".join(self.text).split())


def registry_section(page: Path) -> Section:
    parsed = Section()
    parsed.feed(page.read_text(encoding="utf-8"))
    assert parsed.text, f"{page}: no registry section"
    return parsed


# --------------------------------------------------------------------------- shipped


@pytest.fixture(scope="module")
def shipped_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "site"
    ekb("report", "-o", out)
    return out


def test_shipped_pages_tell_no_record_held_from_no_registration(shipped_site: Path) -> None:
    rows = {
        r["study_id"]: r for r in json.loads(ekb("discrepancies", "--all", "-f", "json").stdout)
    }
    assert rows and all(r["registry_study_id"] is None for r in rows.values())
    pages = sorted((shipped_site / "studies").glob("*.html"))
    assert len(pages) == 15
    for page in pages:
        text = registry_section(page).all_text()
        study = page.stem
        if study in rows:
            assert "no registry record held" in text, study
            for registration in rows[study]["registration"].split("; "):
                assert registration in text, study
            assert "no discrepancy found" not in text
        else:
            assert "No registration id is recorded for this study" in text, study
            assert "no registry record held" not in text


# --------------------------------------------------------------------------- synthetic


def _publication(study: str, outcomes: list[dict[str, Any]], enrolled: int) -> dict[str, Any]:
    """A SYNTHETIC study form of a publication of NCT02210780 (made up for this test)."""
    return {
        "form": "ekb-study/1",
        "defaults": {
            "source": "paper",
            "extracted_by": "synthetic test fixture",
            "extracted_on": "2026-12-02",
        },
        "study": {
            "id": study,
            "title": f"SYNTHETIC publication of NCT02210780 ({study}, made up for tests)",
            "year": 2026,
            "design": "randomised controlled trial",
            "registration_ids": ["NCT02210780"],
            "source": "paper",
        },
        "sources": [
            {
                "key": "paper",
                "type": "journal article",
                "title": "SYNTHETIC source: not a real publication",
                "year": 2026,
            }
        ],
        "population": {"condition": "atopic dermatitis", "enrolled": enrolled},
        "arms": [
            {"key": "drug", "label": "dupilumab", "role": "experimental"},
            {"key": "placebo", "label": "placebo", "role": "placebo comparator"},
        ],
        "outcomes": [
            {"key": f"o{i}", "label": o["label"], "role": o["role"], "timepoint_weeks": 16}
            | ({"locator": o["locator"]} if "locator" in o else {})
            for i, o in enumerate(outcomes)
        ],
    }


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("registry")
    kb = root / "kb"

    def run(*args: str | Path) -> None:
        result = CliRunner().invoke(cli, [str(a) for a in args])
        assert result.exit_code == 0, result.output

    record = json.loads(RECORD.read_text(encoding="utf-8"))
    module = record["protocolSection"]["outcomesModule"]
    primary, secondary = module["primaryOutcomes"], module["secondaryOutcomes"]
    registered_n = record["protocolSection"]["designModule"]["enrollmentInfo"]["count"]
    switched = [
        # the registered primary, published as a secondary outcome
        {"label": primary[0]["measure"], "role": "secondary", "locator": "Table 2"},
        {"label": "Serum IgE concentration (invented for this test)", "role": "primary"},
    ]
    faithful = [{"label": o["measure"], "role": "primary"} for o in primary] + [
        {"label": o["measure"], "role": "secondary"} for o in secondary
    ]
    forms = root / "forms"
    forms.mkdir()
    for study, outcomes, n in (
        (SWITCHED, switched, registered_n - 4),
        (FAITHFUL, faithful, registered_n),
    ):
        (forms / f"{study}.yaml").write_text(yaml.safe_dump(_publication(study, outcomes, n)))
    run("init", kb)
    # The record's condition, which the shipped (lupus) vocabulary lacks, as a KB concept.
    (kb / "vocab" / "conditions.ttl").write_text(
        "@prefix cond: <https://w3id.org/evidence-kb/vocab/condition/> .\n"
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "cond:atopic-dermatitis a skos:Concept ; skos:inScheme cond: ;\n"
        '    skos:prefLabel "atopic dermatitis"@en .\n'
    )
    run("import", "ctgov", RECORD, "--kb", kb)
    run("add", *sorted(forms.glob("*.yaml")), "--kb", kb)
    site = root / "site"
    ekb("report", "-o", site, kb=kb)
    return kb, site


def _side(side: dict[str, Any] | None) -> str | None:
    if side is None:
        return None
    if "enrolment" in side:
        return f"{side['enrolment']} participants ({side['enrolment_type']})"
    if "enrolled" in side:
        return f"{side['enrolled']} enrolled"
    return f"{side['role']}: {side['label']}"


def test_a_switched_publication_lists_each_discrepancy_of_ekb_discrepancies(
    synthetic: tuple[Path, Path],
) -> None:
    kb, site = synthetic
    found = json.loads(ekb("discrepancies", SWITCHED, "-f", "json", kb=kb).stdout)
    kinds = {d["kind"] for d in found}
    assert {"primary_to_secondary", "new_primary", "enrollment_changed"} <= kinds
    section = registry_section(site / "studies" / f"{SWITCHED}.html")
    header, *rows = section.rows
    assert header == ["Kind", "Registered", "Reported", "Match basis"]
    assert len(rows) == len(found)
    for row, d in zip(rows, found, strict=True):
        assert row[0].endswith(d["kind"]), row
        registered, published = _side(d["registered"]), _side(d["published"])
        if registered is None:
            assert row[1] == "not registered"
        else:
            assert row[1].startswith(registered), row
            # its source: the registry record (a link to its page) and where in it
            assert REGISTRY_STUDY in row[1]
            assert d["registered"]["locator"] in row[1]
        if published is None:
            assert row[2] == "not reported"
        else:
            assert row[2].startswith(published), row
            if d["published"].get("locator"):
                assert f"this study, {d['published']['locator']}" in row[2]
        basis = d["basis"]
        if basis["method"] == "no match":
            assert row[3].startswith("no match")
            if basis["best_score"] is not None and basis["best_score"] < basis["threshold"]:
                assert row[3].endswith(f"scored {basis['best_score']}, below 0.75")
            elif basis["best_score"] is not None:
                assert row[3].endswith("but is matched to another outcome")
        elif basis["method"] == "text similarity":
            assert row[3].startswith(f"text similarity {basis['score']}")
        elif basis["method"] == "registration id":
            assert f"{basis['difference']:+d}" in row[3]
    [switched] = [r for r in rows if r[0].endswith("primary_to_secondary")]
    assert "Table 2" in switched[2]
    assert f"../studies/{REGISTRY_STUDY}.html" in section.hrefs
    assert "https://clinicaltrials.gov/study/NCT02210780" in section.hrefs
    assert re.search(rf"{len(found)} discrepancies between the registry record", section.all_text())


def test_no_discrepancy_found_is_told_apart_and_the_record_names_its_publications(
    synthetic: tuple[Path, Path],
) -> None:
    kb, site = synthetic
    assert json.loads(ekb("discrepancies", FAITHFUL, "-f", "json", kb=kb).stdout) == []
    text = registry_section(site / "studies" / f"{FAITHFUL}.html").all_text()
    assert "no discrepancy found" in text and "no registry record held" not in text
    record = registry_section(site / "studies" / f"{REGISTRY_STUDY}.html")
    assert "This study is an imported registry record" in record.all_text()
    assert {f"../studies/{FAITHFUL}.html", f"../studies/{SWITCHED}.html"} <= set(record.hrefs)
