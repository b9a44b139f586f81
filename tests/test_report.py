"""``ekb report`` without a browser: determinism, self-containment, links, accessibility
markup, the evidence map's numbers against an independent count, and bad input.

The browser checks (rendering, console, requests) are in test_report_browser.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import RDF, SKOS, Graph, URIRef

from kb.cli import cli
from kb.namespaces import EKB, TERM
from kb.paths import shipped_kb_dir, vocab_dir
from kb.report import render_report
from kb.report.evidence_map import radius
from kb.report.site import MARKER
from kb.store import EmbeddedStore

PILOT = "il2-refractory-ln-2021"


def _ekb_process(*args: str, seed: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "EKB_KB"}
    env["PYTHONHASHSEED"] = seed
    return subprocess.run(
        [sys.executable, "-c", "from kb.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def shipped_store() -> EmbeddedStore:
    return EmbeddedStore.open_kb(shipped_kb_dir())


@pytest.fixture(scope="module")
def files(shipped_store: EmbeddedStore) -> dict[str, bytes]:
    return render_report(shipped_store)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "site"
    done = _ekb_process("report", "-o", str(out), seed="1")
    assert done.returncode == 0, done.stderr
    assert "15 study pages, 1 review page," in done.stderr
    return out


def test_the_site_is_the_same_bytes_in_another_process(site: Path, files: dict[str, bytes]) -> None:
    # A different hash seed in the other process: no set or dict order leaks into the output.
    on_disk = {
        p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()
    }
    assert sorted(on_disk) == sorted(files)
    assert [p for p in files if on_disk[p] != files[p]] == []


def test_one_page_per_study_and_review_plus_index_and_ontology(files: dict[str, bytes]) -> None:
    pages = sorted(p for p in files if p.endswith(".html"))
    studies = [p for p in pages if p.startswith("studies/")]
    assert len(studies) == 15
    assert f"studies/{PILOT}.html" in studies
    assert {"index.html", "ontology.html", f"reviews/{REVIEW}.html"} <= set(pages)


class _Page(HTMLParser):
    """Ids, links, resources and accessibility facts of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, dict[str, str | None]]] = []
        self.resources: list[str] = []
        self.imgs_without_alt = 0
        self.svgs: list[dict[str, str | None]] = []
        self.tables = 0
        self.tables_with_headers = 0
        self._in_table = False
        self._table_has_th = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "a" and a.get("href"):
            self.links.append((str(a["href"]), a))
        if tag in ("script", "img", "iframe", "source", "video", "audio") and a.get("src"):
            self.resources.append(str(a["src"]))
        if tag == "link" and a.get("href"):
            self.resources.append(str(a["href"]))
        if tag == "img" and not (a.get("alt") or "").strip():
            self.imgs_without_alt += 1
        if tag == "svg":
            self.svgs.append(a)
        if tag == "table":
            self.tables += 1
            self._in_table, self._table_has_th = True, False
        if tag == "th" and self._in_table:
            self._table_has_th = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.tables_with_headers += int(self._table_has_th)
            self._in_table = False


def _parse(files: dict[str, bytes]) -> dict[str, _Page]:
    parsed = {}
    for path, data in files.items():
        if path.endswith(".html"):
            page = _Page()
            page.feed(data.decode("utf-8"))
            parsed[path] = page
    return parsed


def test_every_internal_link_resolves_to_a_file_and_an_id(files: dict[str, bytes]) -> None:
    pages = _parse(files)
    broken = []
    for path, page in pages.items():
        base = Path(path).parent
        for href, attrs in page.links:
            if re.match(r"[a-z]+:", href):
                # Links out (DOIs, registry records) are marked; nothing is fetched from them.
                assert attrs.get("rel") == "external", f"{path}: {href}"
                continue
            target, _, fragment = href.partition("#")
            target_path = os.path.normpath(base / target).replace(os.sep, "/") if target else path
            if target_path not in files:
                broken.append(f"{path} -> {href}")
            elif fragment and fragment not in pages[target_path].ids:
                broken.append(f"{path} -> {href}")
    assert broken == []


def test_no_resource_comes_from_outside_the_folder(files: dict[str, bytes]) -> None:
    for path, page in _parse(files).items():
        for src in page.resources:
            assert not re.match(r"([a-z]+:)?//", src) and ":" not in src, f"{path}: {src}"
            target = os.path.normpath(Path(path).parent / src).replace(os.sep, "/")
            assert target in files, f"{path}: {src} is not in the site"
    css = files["assets/site.css"].decode()
    assert "url(" not in css and "@import" not in css
    for name in ("assets/search.js", "assets/search-index.js"):
        script = files[name].decode()
        for call in ("fetch(", "XMLHttpRequest", "import(", "WebSocket", "sendBeacon"):
            assert call not in script, f"{name} uses {call}"


def test_every_table_has_headers_every_plot_a_text_alternative(files: dict[str, bytes]) -> None:
    for path, page in _parse(files).items():
        assert page.tables == page.tables_with_headers, path
        assert page.imgs_without_alt == 0, path
        for svg in page.svgs:
            assert svg.get("role") == "img", path
            for ref in str(svg.get("aria-labelledby") or "").split():
                assert ref in page.ids, f"{path}: svg labelled by missing #{ref}"
            assert svg.get("aria-labelledby"), path


def test_the_pilot_page_links_each_number_to_its_provenance_row(files: dict[str, bytes]) -> None:
    html = files[f"studies/{PILOT}.html"].decode()
    seven = '<a class="num" href="#result-proteinuria-improvement-50-w12--events"'
    assert seven in html
    row = html[html.index('<tr id="result-proteinuria-improvement-50-w12--events">') :]
    row = row[: row.index("</tr>")]
    assert "7 (70%) achieved 50% or more improvement in proteinuria" in row
    assert "paragraph 7" in row and "plain-language summary" in row
    # -50.3 and 9.3 -> 16.6, each a link; the SAE zero is "none occurred", not "not reported".
    assert 'href="#result-proteinuria-w12--percentChange"' in html
    assert 'href="#result-treg-w12--baselineValue"' in html
    assert 'href="#result-treg-w12--followUpValue"' in html
    assert "none occurred" in html
    assert html.index('id="plain"') < html.index('id="pico"')


def test_an_included_studys_summary_names_the_review_and_links_its_page(
    files: dict[str, bytes],
) -> None:
    """As ``ekb summary --plain``: a study the shipped review includes says so (not rated)."""
    page = files["studies/il2-refractory-ln-2021.html"].decode()
    assert "A review in this knowledge base includes this study" in page
    assert '<a href="../reviews/il2-sle-ln-worked-example.html">The review\'s page</a>' in page
    excluded = files["studies/bliss-ln-furie-2020.html"].decode()
    assert "il2-sle-ln-worked-example.html" not in excluded


def test_a_finding_without_numbers_reads_not_reported(files: dict[str, bytes]) -> None:
    reported = [
        p
        for p, data in files.items()
        if p.startswith("studies/") and b'class="status status-not-reported">not reported' in data
    ]
    assert reported, "some shipped study has a safety finding reported without a number"


def _closure(vocab: Graph, concept: URIRef) -> set[URIRef]:
    """The concept and everything broader than it (skos:broader, ^skos:narrower)."""
    seen, todo = {concept}, [concept]
    while todo:
        c = todo.pop()
        for up in list(vocab.objects(c, SKOS.broader)) + list(vocab.subjects(SKOS.narrower, c)):
            if isinstance(up, URIRef) and up not in seen:
                seen.add(up)
                todo.append(up)
    return seen


def test_evidence_map_cells_match_an_independent_count_over_the_study_files(
    shipped_store: EmbeddedStore,
) -> None:
    from kb.queries import run_query
    from kb.report.model import plain_rows

    graph = Graph()
    for path in sorted((shipped_kb_dir() / "studies").glob("*.ttl")):
        graph.parse(path, format="turtle")
    vocab = Graph()
    for path in sorted(vocab_dir().glob("*.ttl")):
        vocab.parse(path, format="turtle")
    controls = {TERM["placebo-comparator"], TERM["standard-of-care"]}
    placebo = URIRef("https://w3id.org/evidence-kb/vocab/agent/placebo")
    rank = {
        c: int(r)
        for c, r in vocab.subject_objects(EKB.rank)
        if (c, RDF.type, SKOS.Concept) in vocab
    }
    expected_studies: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    expected_rank: dict[tuple[str, str, str], int] = {}
    enrolled: dict[str, int] = {}
    for study in graph.subjects(RDF.type, EKB.Study):
        sid = str(graph.value(study, EKB.studyId))
        counts = [
            int(e)
            for p in graph.objects(study, EKB.hasPopulation)
            for e in graph.objects(p, EKB.enrolled)
        ]
        if counts:
            enrolled[sid] = sum(counts)
        conditions = [
            c
            for p in graph.objects(study, EKB.hasPopulation)
            for c in graph.objects(p, EKB.condition)
        ]
        for result in graph.objects(study, EKB.hasResult):
            arm = graph.value(result, EKB.arm)
            if arm is None or set(graph.objects(arm, EKB.armRole)) & controls:
                continue
            outcome_concept = graph.value(graph.value(result, EKB.outcome), EKB.outcomeConcept)
            for agent in (graph.value(i, EKB.agent) for i in graph.objects(arm, EKB.receives)):
                if agent is None or agent == placebo:
                    continue
                for condition in conditions:
                    key = (str(condition), str(agent), str(outcome_concept))
                    expected_studies[key].add(sid)
                    for claim in graph.objects(study, EKB.hasClaim):
                        about = set(graph.objects(claim, EKB.aboutIntervention))
                        if not any(
                            agent in _closure(vocab, a) or a in _closure(vocab, agent)
                            for a in about
                        ):
                            continue
                        if not set(graph.objects(claim, EKB.aboutOutcome)) & _closure(
                            vocab, outcome_concept
                        ):
                            continue
                        r = rank[graph.value(claim, EKB.certainty)]
                        expected_rank[key] = min(r, expected_rank.get(key, r))
    rows = plain_rows(run_query(shipped_store, "evidence-grid"))
    got = {(r["condition"], r["intervention"], r["outcome_concept"]): r for r in rows}
    assert set(got) == set(expected_studies)
    for key, ids in expected_studies.items():
        row = got[key]
        assert row["studies"] == len(ids), key
        known = [enrolled[i] for i in ids if i in enrolled]
        assert row["participants"] == (sum(known) if known else None), key
        assert row["certainty_rank"] == expected_rank.get(key), key
    pilot_cell = got[
        (
            "https://w3id.org/evidence-kb/vocab/condition/refractory-lupus-nephritis",
            "https://w3id.org/evidence-kb/vocab/agent/low-dose-interleukin-2",
            "https://w3id.org/evidence-kb/vocab/outcome/proteinuria-improvement-50",
        )
    ]
    assert (pilot_cell["studies"], pilot_cell["participants"], pilot_cell["certainty"]) == (
        1,
        10,
        "very low",
    )


def test_bubble_area_is_proportional_to_participants() -> None:
    # area ratio 1:4 -> radius ratio 1:2
    assert radius(100, 400) == pytest.approx(radius(400, 400) / 2)
    assert radius(None, 400) == radius(0, 400) == 4.0


def test_condition_keeps_only_that_conditions_studies(tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = CliRunner().invoke(
        cli, ["report", "-o", str(out), "--condition", "refractory lupus nephritis"]
    )
    assert result.exit_code == 0, result.output
    pages = sorted(p.name for p in (out / "studies").iterdir())
    assert pages == ["il2-refractory-ln-2021.html", "il2-refractory-ln-acr-2018.html"]
    index = (out / "index.html").read_text()
    assert 'id="count-studies">2<' in index


def test_a_folder_with_other_files_is_refused_and_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(cli, ["report", "-o", str(out)])
    assert result.exit_code == 2
    assert "not written by `ekb report`" in result.output
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]  # no staging folder left behind


def test_an_unknown_condition_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["report", "-o", str(out), "--condition", "lupuss"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_site_written_before_is_replaced(tmp_path: Path, site: Path) -> None:
    import shutil

    out = tmp_path / "site"
    shutil.copytree(site, out)
    (out / "studies" / "gone.html").write_text("from an older run")
    result = CliRunner().invoke(
        cli, ["report", "-o", str(out), "--condition", "refractory lupus nephritis"]
    )
    assert result.exit_code == 0, result.output
    assert (out / MARKER).is_file()
    assert not (out / "studies" / "gone.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


REVIEW = "il2-sle-ln-worked-example"


def test_the_review_page_shows_the_question_flow_and_included_studies(
    files: dict[str, bytes],
) -> None:
    import yaml

    html = files[f"reviews/{REVIEW}.html"].decode()
    # The PRISMA counts against the review's own form, counted here independently.
    form = yaml.safe_load(
        (Path(__file__).parent / "data" / "reviews" / f"{REVIEW}.yaml").read_text()
    )
    records = form["records"]
    included = [
        r["study"] for r in records if (r.get("full_text") or {}).get("decision") == "include"
    ]
    excluded = [r for r in records if r["title_abstract"]["decision"] == "exclude"]
    assert (len(records), len(included), len(excluded)) == (15, 7, 8)
    assert f'<th scope="row">Records screened</th><td class="n">{len(records)}</td>' in html
    assert f'<th scope="row">Records excluded</th><td class="n">{len(excluded)}</td>' in html
    assert (
        f'<th scope="row">Studies included in review</th><td class="n">{len(included)}</td>' in html
    )
    for study_id in included:
        assert f'href="../studies/{study_id}.html"' in html
    assert f"reviews/{REVIEW}--prisma.svg" in files
    assert form["question"]["text"] in html
    index = files["index.html"].decode()
    assert 'id="count-reviews">1<' in index and f'href="reviews/{REVIEW}.html"' in index


def test_the_review_forest_plot_of_proteinuria_is_the_pilots_proportion(
    files: dict[str, bytes],
) -> None:
    import math

    # 7 of 10 as a proportion on the logit scale, back-transformed (metafor's PLO):
    logit = math.log(7 / 3)
    se = math.sqrt(1 / 7 + 1 / 3)
    lb, ub = (1 / (1 + math.exp(-(logit + z * se))) for z in (-1.959964, 1.959964))
    html = files[f"reviews/{REVIEW}.html"].decode()
    panel = html[html.index('id="outcome-proteinuria"') :]
    panel = panel[: panel.index("</section>")]
    assert f"0.70 ({lb:.2f} to {ub:.2f})" in panel
    assert f"reviews/{REVIEW}--forest-proteinuria.svg" in files


def test_an_unknown_review_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["report", "-o", str(out), "--review", "no-such-review"])
    assert result.exit_code == 2, result.output
    assert list(tmp_path.iterdir()) == []


def test_a_kb_of_one_study_and_no_reviews_gets_a_site_without_review_pages(
    tmp_path: Path,
) -> None:
    import shutil

    kb = tmp_path / "kb"
    assert CliRunner().invoke(cli, ["init", str(kb)]).exit_code == 0
    shutil.copy(shipped_kb_dir() / "studies" / f"{PILOT}.ttl", kb / "studies")
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["report", "-o", str(out), "--kb", str(kb)])
    assert result.exit_code == 0, result.output
    assert "1 study page, 0 review pages" in result.output
    assert sorted(p.name for p in (out / "studies").iterdir()) == [f"{PILOT}.html"]
    assert not (out / "reviews").exists()
    index = (out / "index.html").read_text()
    assert 'id="count-participants">10<' in index and 'id="count-reviews">0<' in index
