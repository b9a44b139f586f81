"""Reviews in a knowledge base folder: ``reviews/<review-id>.ttl``, canonical Turtle.

Finding, loading, listing, adding (all or nothing: the form is checked, its
graph validated against the shapes, and only then is the file written) and
showing reviews. A review id is a key (letters, digits, ``-``, ``_``, ``.``;
no ``/``, no leading ``.``), and the file it names is checked to sit directly
in ``reviews/``, so no id can reach a file outside the folder.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.errors import CouldNotRun, UsageError
from kb.sysreview.form import KEY_PATTERN
from kb.sysreview.model import EXCLUSION_REASON_SCHEME, Review, review_iri

if TYPE_CHECKING:
    from kb.store import EmbeddedStore

REVIEWS_DIR = "reviews"
_KEY_RE = re.compile(KEY_PATTERN)


def reviews_dir(kb_dir: Path) -> Path:
    return Path(kb_dir) / REVIEWS_DIR


def review_files(kb_dir: Path) -> list[Path]:
    """The review files of a knowledge base, sorted by name (none when there is no ``reviews/``)."""
    from kb import paths

    return paths.review_files(Path(kb_dir))


def check_review_id(review_id: str) -> str:
    """``review_id`` if it is a safe key; else a usage error.

    :raises UsageError: the id holds ``/``, ``\\``, spaces, starts with ``.`` ...
    """
    if not _KEY_RE.fullmatch(review_id):
        raise UsageError(
            f"not a review id: {review_id!r} (letters, digits, '-', '_' or '.'; no '/', "
            "not starting with '.')"
        )
    return review_id


def review_file(kb_dir: Path, review_id: str) -> Path:
    """Where a review's file is (or would be) in a knowledge base.

    :raises UsageError: the id is not a safe key, or would name a file outside ``reviews/``.
    """
    check_review_id(review_id)
    folder = reviews_dir(kb_dir)
    path = folder / f"{review_id}.ttl"
    if path.resolve().parent != folder.resolve():
        raise UsageError(f"review id {review_id!r} would name a file outside {folder}")
    return path


def review_ids(kb_dir: Path) -> list[str]:
    return [f.stem for f in review_files(kb_dir)]


def find_review_file(kb_dir: Path, review: str) -> Path:
    """The file of a review given by id, ``review/<id>``, ``res:review/<id>``, IRI or path.

    :raises UsageError: no such review (suggests the nearest id), or an unsafe id.
    """
    given = Path(review)
    if review.endswith(".ttl") and given.is_file():
        return given
    for prefix in (review_iri(""), "res:review/", "review/"):
        if review.startswith(prefix):
            review = review[len(prefix) :]
    path = review_file(kb_dir, review)
    if path.is_file():
        return path
    ids = review_ids(kb_dir)
    close = difflib.get_close_matches(review, ids, n=3, cutoff=0.4)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    listing = f" Reviews: {', '.join(ids)}." if ids and not close else ""
    raise UsageError(f"no review {review!r} in {reviews_dir(kb_dir)}.{hint}{listing}")


# ---------------------------------------------------------------------------
# Concepts: resolve a form's text, show a concept, label a review


class Concepts:
    """Concept lookup over a knowledge base's vocabularies (shipped + its own ``vocab/``)."""

    def __init__(self, kb_dir: Path | None) -> None:
        self.kb_dir = kb_dir
        self._store: EmbeddedStore | None = None
        self._cache: dict[tuple[str, str], str] = {}

    @property
    def store(self) -> EmbeddedStore:
        if self._store is None:
            from kb.store import SCHEMA_GRAPH, EmbeddedStore, schema_files

            store = EmbeddedStore()
            store.load_files(schema_files(self.kb_dir), graph=SCHEMA_GRAPH)
            self._store = store
        return self._store

    def resolve(self, text: str, scheme: str) -> str:
        """The IRI ``text`` names in ``scheme`` (short name or IRI).

        :raises UsageError: unknown, ambiguous, or in another scheme.
        """
        from kb import concepts as kc

        key = (text, scheme)
        if key not in self._cache:
            if scheme != EXCLUSION_REASON_SCHEME:
                self._cache[key] = kc.resolve(self.store, text, scheme)
            else:
                try:
                    self._cache[key] = kc.resolve(self.store, text, scheme)
                except UsageError:
                    # The scheme's IRI means nothing to a reviewer: name the allowed reasons.
                    reasons = sorted(
                        label
                        for label, iri in kc.all_labels(self.store, scheme).items()
                        if kc.pref_label(self.store, iri) == label
                    )
                    raise UsageError(
                        f"{text!r} is not an exclusion reason; use one of: {', '.join(reasons)}"
                        " (or add one to the knowledge base's vocab/, in term:exclusion-reason)"
                    ) from None
        return self._cache[key]

    def label(self, iri: str) -> str | None:
        from kb import concepts as kc

        return kc.pref_label(self.store, iri)

    def display(self, iri: str, scheme: str) -> str:
        """Its preferred label when that resolves back to it, else its CURIE."""
        from kb.forms import curie

        label = self.label(iri)
        if label:
            try:
                if self.resolve(label, scheme) == iri:
                    return label
            except UsageError:
                pass
        return curie(iri)

    def labelled(self, review: Review) -> Review:
        """The review with :attr:`Review.labels` filled for every concept it uses."""
        from dataclasses import replace

        iris: set[str] = set(review.question.population)
        iris |= set(review.question.interventions) | set(review.question.comparators)
        iris |= {o.concept for o in review.question.outcomes}
        if review.eligibility is not None:
            e = review.eligibility
            iris |= set(e.designs) | set(e.conditions) | set(e.interventions)
        for r in review.records:
            for d in (r.title_abstract, r.full_text):
                if d is not None and d.reason is not None:
                    iris.add(d.reason)
        labels = {}
        for iri in sorted(iris):
            label = self.label(iri)
            if label:
                labels[iri] = label
        return replace(review, labels=labels)


# ---------------------------------------------------------------------------
# Loading


def read_review_file(path: Path) -> Review:
    """The review in one file.

    :raises CouldNotRun: unreadable, or not valid Turtle (file and line).
    :raises kb.sysreview.rdf.NotAReview: the file does not hold one readable review.
    """
    from kb.sysreview.rdf import graph_to_review
    from kb.turtle_format import parse_turtle

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CouldNotRun(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise CouldNotRun(f"{path}: not UTF-8 text") from exc
    return graph_to_review(parse_turtle(text, str(path)), str(path))


def load_review(kb_dir: Path | None, review_id: str, concepts: Concepts | None = None) -> Review:
    """A review of a knowledge base, with the labels of the concepts it uses.

    :param kb_dir: the knowledge base (default ``$EKB_KB`` or the shipped one).
    :param review_id: its id (or ``review/<id>``, its IRI, or a path to its file).
    :raises UsageError: no such review; :raises NotAReview: the file is malformed.
    """
    from kb.kbdir import resolve_kb

    kb = resolve_kb(kb_dir)
    review = read_review_file(find_review_file(kb, review_id))
    return (concepts or Concepts(kb)).labelled(review)


def list_reviews(kb_dir: Path | None) -> list[Review]:
    """Every review of a knowledge base, by id (labels not filled)."""
    from kb.kbdir import resolve_kb

    kb = resolve_kb(kb_dir)
    return [read_review_file(f) for f in review_files(kb)]


# ---------------------------------------------------------------------------
# Adding a form


@dataclass
class PreparedReview:
    origin: str
    review: Review
    path: Path
    text: str
    replaces: bool
    warnings: list[str] = field(default_factory=list)


def review_text(review: Review, header: str | None = None) -> str:
    """The canonical Turtle of a review file."""
    from kb.sysreview.rdf import review_to_graph
    from kb.turtle_format import canonical_turtle

    return canonical_turtle(review_to_graph(review), header=header)


def prepare_review_form(
    form_file: Path, kb_dir: Path, *, force: bool = False, concepts: Concepts | None = None
) -> PreparedReview:
    """Check a review form and build its file text, writing nothing.

    :raises kb.forms.FormError: the form does not conform (every problem, by field path).
    :raises UsageError: the review exists and ``force`` is not set.
    :raises CouldNotRun: the form cannot be read or is not YAML.
    """
    from kb.forms import FormError, load_form_file
    from kb.kbdir import study_ids
    from kb.sysreview.form import form_to_review
    from kb.sysreview.validate import validate_review_text
    from kb.turtle_format import header_comment

    origin = str(form_file)
    data = load_form_file(Path(form_file))
    concepts = concepts or Concepts(kb_dir)
    review = form_to_review(data, concepts.resolve, set(study_ids(kb_dir)), origin)
    path = review_file(kb_dir, review.id)
    replaces = path.exists()
    if replaces and not force:
        raise UsageError(
            f"review {review.id!r} is already in the knowledge base ({path}). Use --force to "
            "replace it."
        )
    header = header_comment(path.read_text(encoding="utf-8")) if replaces else None
    text = review_text(review, header)
    if replaces:
        # RoB assessments and GRADE ratings come from `ekb rob add` / `ekb grade add`, not
        # from the review form: keep them when the form is added again (issue 15).
        from kb.rob.carry import carry_over

        text = carry_over(path.read_text(encoding="utf-8"), text, str(path))
    report = validate_review_text(text, kb_dir, display=origin)
    problems = []
    prepared = PreparedReview(origin, review, path, text, replaces)
    for finding in report.findings:
        severity, focus, fpath, message, shape = finding.row()
        line = f"{' '.join(x for x in (focus, fpath) if x)}: {message}  {shape}".rstrip()
        if severity == "Violation":
            problems.append(line)
        else:
            prepared.warnings.append(f"{severity}: {line}")
    if problems:
        raise FormError(origin, problems)
    return prepared


def add_review(
    form_file: Path, kb_dir: Path | None = None, *, force: bool = False
) -> PreparedReview:
    """Check a review form, then write ``reviews/<id>.ttl``; on any problem write nothing.

    :raises: see :func:`prepare_review_form`.
    """
    from kb.fileio import atomic_write_text
    from kb.kbdir import resolve_kb

    kb = resolve_kb(kb_dir)
    prepared = prepare_review_form(form_file, kb, force=force)
    atomic_write_text(prepared.path, prepared.text)
    return prepared


# ---------------------------------------------------------------------------
# Showing

SHOW_FORMATS = ("yaml", "md", "ttl")


def review_form(kb_dir: Path | None, review_id: str) -> dict[str, Any]:
    """The form of a review (``ekb review show -f yaml``)."""
    from kb.kbdir import resolve_kb
    from kb.sysreview.form import review_to_form

    kb = resolve_kb(kb_dir)
    concepts = Concepts(kb)
    review = read_review_file(find_review_file(kb, review_id))
    return review_to_form(review, concepts.display)


def show_review(kb_dir: Path | None, review_id: str, fmt: str = "yaml") -> str:
    """A review as its form (``yaml``), canonical Turtle (``ttl``) or a readable page (``md``).

    :raises UsageError: an unknown review or format.
    """
    from kb.kbdir import resolve_kb

    if fmt not in SHOW_FORMATS:
        raise UsageError(f"no format {fmt!r}; use one of {', '.join(SHOW_FORMATS)}")
    kb = resolve_kb(kb_dir)
    path = find_review_file(kb, review_id)
    if fmt == "ttl":
        from kb.turtle_format import format_text

        return format_text(path.read_text(encoding="utf-8"), str(path))
    if fmt == "yaml":
        from kb.forms import dump_form

        form = review_form(kb, str(path))
        head = (
            f"# Review {form['review']['id']} as a review form (ekb review show)."
            " Edit, then: ekb review add FILE --force\n"
        )
        return head + dump_form(form)
    from kb.sysreview.report import review_page

    return review_page(load_review(kb, str(path)))
