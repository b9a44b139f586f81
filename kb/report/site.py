"""Render the site with Jinja2 templates and write it to a folder, all or nothing.

The site is built in a temporary folder beside the target and moved into place only when
every page is written, so a failure never leaves a half-written site; a folder that holds
something other than a site this command wrote is never replaced.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from kb.errors import CouldNotRun, UsageError
from kb.namespaces import EKB, RES, shorten
from kb.report.evidence_map import (
    CERTAINTY_STYLE,
    UNRATED_STYLE,
    bubble_chart_svg,
    cells_from_rows,
)
from kb.report.model import SiteData, StudyData, record_anchor
from kb.report.ontology_doc import OntologyDoc, property_labels
from kb.report.search_index import search_documents, search_index_js

#: The file that marks a folder as a site written by ``ekb report`` (safe to replace).
MARKER = ".ekb-report"
#: Static files copied from ``kb/report/assets`` (vendored nothing: all are ours).
ASSETS = ("site.css", "search.js")


@dataclass(frozen=True)
class WrittenSite:
    """What :func:`write_site` wrote: the folder and the pages, relative to it."""

    directory: Path
    pages: list[str]
    studies: int
    reviews: int


def fmt_number(value: Any) -> str:
    """A recorded number as printed: no trailing ``.0``, no exponent.

    >>> fmt_number(12.0), fmt_number(-50.3), fmt_number(7), fmt_number(0.00001)
    ('12', '-50.3', '7', '0.00001')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer():
            return str(int(value))
        text = format(Decimal(repr(value)), "f")
        return text
    return str(value)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("kb.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = fmt_number
    env.filters["short"] = shorten
    env.filters["slug"] = _slug
    env.globals["anchor"] = record_anchor
    env.globals["EKB"] = str(EKB)
    env.globals["certainty_style"] = lambda c: CERTAINTY_STYLE.get(c or "", UNRATED_STYLE)
    return env


class StudyPage:
    """A study with the helpers its template needs (numbers linked to their provenance)."""

    def __init__(self, study: StudyData, labels: dict[str, str]) -> None:
        self.study = study
        self.labels = labels

    def number(self, value: Any, record: str | None, prop: str) -> Markup:
        """``value`` linked to the provenance row of ``record``'s ``ekb:prop``."""
        if value is None:
            return Markup("")
        text = escape(fmt_number(value))
        if record and (record, str(EKB) + prop) in self.study.provenance_keys:
            href = "#" + record_anchor(record, prop)
            label = escape(self.labels.get(str(EKB) + prop, prop))
            return Markup(
                f'<a class="num" href="{href}" title="where {label} came from">{text}</a>'
            )
        return Markup(text)

    def arm_for_label(self, label: str | None) -> str | None:
        """The arm IRI with this label among the page's results and safety findings.

        ``pico`` names arms by label only; the results and findings carry the arm's IRI,
        which is what the arm's size is recorded on. ``None`` when the label is ambiguous.
        """
        arms = {
            str(r["arm"])
            for r in self.study.results + self.study.safety
            if r.get("arm") and r.get("arm_label") == label
        }
        return arms.pop() if len(arms) == 1 else None

    def property_label(self, iri: str) -> str:
        return self.labels.get(iri, shorten(iri))

    def plain_sections(self) -> list[tuple[str, list[list[dict[str, Any]]]]]:
        """The plain-language summary as (section, paragraphs of sentences)."""
        sections: list[tuple[str, list[list[dict[str, Any]]]]] = []
        for sentence in self.study.plain.get("sentences", []):
            if not sections or sections[-1][0] != sentence["section"]:
                sections.append((sentence["section"], [[]]))
            elif sentence.get("starts_paragraph"):
                sections[-1][1].append([])
            sections[-1][1][-1].append(sentence)
        return sections

    def sources(self) -> list[dict[str, Any]]:
        """Every source the study's records name, once each, in the query's order."""
        seen: dict[str, dict[str, Any]] = {}
        for row in self.study.sources:
            seen.setdefault(str(row["source"]), row)
        return list(seen.values())


def _study_href(study_id: str) -> str:
    return f"studies/{study_id}.html"


def render_site(site: SiteData, ontology: OntologyDoc) -> dict[str, bytes]:
    """Every file of the site, path (relative, ``/``-separated) -> bytes."""
    env = _environment()
    labels = property_labels(ontology)
    hrefs = {s.study_id: _study_href(s.study_id) for s in site.studies}
    files: dict[str, bytes] = {}

    maps = []
    for iri, label in site.conditions():
        chart_id = "map-" + _slug(label)
        rows = site.grid_for(iri)

        def cell_anchor(row: dict[str, Any], chart_id: str = chart_id) -> str:
            return f"{chart_id}--{_slug(str(row['intervention_label']))}--" + _slug(
                str(row["outcome_label"])
            )

        cells = cells_from_rows(rows, cell_anchor)
        maps.append(
            {
                "iri": iri,
                "label": label,
                "id": chart_id,
                "svg": Markup(bubble_chart_svg(cells, label, chart_id)),
                "rows": [
                    {**r, "anchor": cell_anchor(r), "ids": [i for i in _ids(r) if i in hrefs]}
                    for r in rows
                ],
                "interventions": [r for r in site.evidence_map if r["condition"] == iri],
            }
        )
    # A plain summary may cite a review of the knowledge base: it links to the review's page
    # when the site has one (``--review`` writes only that review's page).
    review_pages = {
        f"{RES}review/{r.review_id}": f"reviews/{r.review_id}.html" for r in site.reviews
    }
    common = {
        "site": site,
        "hrefs": hrefs,
        "certainty_styles": CERTAINTY_STYLE,
        "review_pages": review_pages,
    }
    files["index.html"] = _page(env, "index.html.j2", root="", maps=maps, **common)
    for study in site.studies:
        files[hrefs[study.study_id]] = _page(
            env, "study.html.j2", root="../", page=StudyPage(study, labels), s=study, **common
        )
    files["ontology.html"] = _page(env, "ontology.html.j2", root="", doc=ontology, **common)
    for review in site.reviews:
        files[f"reviews/{review.review_id}.html"] = _page(
            env, "review.html.j2", root="../", review=review, **common
        )
        for name, data in review.figures.items():
            files[f"reviews/{name}"] = data
    docs = search_documents(site, hrefs)
    files["assets/search-index.js"] = search_index_js(docs).encode("utf-8")
    asset_dir = resources.files("kb.report") / "assets"
    for name in ASSETS:
        files[f"assets/{name}"] = (asset_dir / name).read_bytes()
    files[MARKER] = b"A static site written by `ekb report`; the command may replace this folder.\n"
    return files


def _ids(row: dict[str, Any]) -> list[str]:
    return [p.strip() for p in str(row.get("study_ids") or "").split(";") if p.strip()]


def _page(env: Environment, template: str, **context: Any) -> bytes:
    return env.get_template(template).render(**context).encode("utf-8")


def check_output_dir(out_dir: Path) -> None:
    """Refuse an output folder that the site may not replace (before any work is done).

    :raises UsageError: ``out_dir`` is a file, or a folder with contents that
        ``ekb report`` did not write.
    """
    if out_dir.exists():
        if not out_dir.is_dir():
            raise UsageError(f"{out_dir}: exists and is not a folder")
        if any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
            raise UsageError(
                f"{out_dir}: folder is not empty and was not written by `ekb report`; "
                "choose an empty or new folder"
            )


def write_site(files: dict[str, bytes], out_dir: Path) -> Path:
    """Write ``files`` into ``out_dir`` all or nothing.

    :raises UsageError: ``out_dir`` is a file, or a folder with contents that
        ``ekb report`` did not write (it is never overwritten).
    :raises CouldNotRun: the folder cannot be written.
    """
    out_dir = Path(out_dir)
    check_output_dir(out_dir)
    parent = out_dir.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=parent))
    except OSError as exc:
        raise CouldNotRun(f"{out_dir}: cannot write: {exc.strerror}") from exc
    old: Path | None = None
    try:
        for rel, data in sorted(files.items()):
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        staging.chmod(0o755)
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=parent))
            os.replace(out_dir, old / "site")
        os.replace(staging, out_dir)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None and (old / "site").exists() and not out_dir.exists():
            os.replace(old / "site", out_dir)
        raise CouldNotRun(f"{out_dir}: cannot write: {exc.strerror}") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return out_dir
