"""``ekb report``: the knowledge base as a self-contained static HTML site.

One page per study (plain-language summary, PICO, regimen, results, safety,
comparisons, claims, registry discrepancies, and every number linked to where it was
read), an index with the evidence map per condition and a client-side search, the
ontology's documentation, and one page per review when the knowledge base holds reviews
(with its Summary of Findings and risk-of-bias traffic lights).
No server and no network: every file the pages use is in the site's folder.

Public entry points: :func:`build_report` (gather, render and write) and
:func:`render_report` (the files as bytes, for tests and other writers).
"""

from __future__ import annotations

from pathlib import Path

from kb.report.site import WrittenSite
from kb.store import Store

__all__ = ["WrittenSite", "build_report", "render_report"]


def render_report(
    store: Store,
    *,
    condition: str | None = None,
    review: str | None = None,
    kb_dir: Path | None = None,
) -> dict[str, bytes]:
    """Every file of the site, relative path -> bytes (the same bytes on every run).

    :param condition: only studies of this condition (and narrower ones).
    :param review: only this review's page (default: every review found).
    :raises UsageError: an unknown condition or review.
    """
    from kb import paths
    from kb.kbdir import resolve_kb
    from kb.report.model import gather_site
    from kb.report.ontology_doc import load_ontology_doc
    from kb.report.registry import gather_registry
    from kb.report.reviews import gather_reviews
    from kb.report.site import render_site

    kb_dir = resolve_kb(kb_dir)  # the shipped KB when none is given, as the store
    site = gather_site(store, condition=condition, kb_dir=kb_dir)
    registry = gather_registry(store)
    for study in site.studies:
        study.registry = registry.get(study.study_id)
    site.reviews = gather_reviews(store, kb_dir, review=review, site=site)
    return render_site(site, load_ontology_doc(paths.ontology_file()))


def build_report(
    store: Store,
    out_dir: Path,
    *,
    condition: str | None = None,
    review: str | None = None,
    kb_dir: Path | None = None,
) -> WrittenSite:
    """Write the site into ``out_dir``, all or nothing (see :func:`kb.report.site.write_site`).

    :raises UsageError: unknown condition or review, or ``out_dir`` holds other files.
    :raises CouldNotRun: the folder cannot be written.
    """
    from kb.report.site import check_output_dir, write_site

    check_output_dir(Path(out_dir))  # fail before the work, not after it
    files = render_report(store, condition=condition, review=review, kb_dir=kb_dir)
    directory = write_site(files, out_dir)
    pages = sorted(p for p in files if p.endswith(".html"))
    return WrittenSite(
        directory=directory,
        pages=pages,
        studies=sum(1 for p in pages if p.startswith("studies/")),
        reviews=sum(1 for p in pages if p.startswith("reviews/")),
    )
