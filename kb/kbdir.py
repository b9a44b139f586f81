"""A knowledge base folder: making one, finding its studies, adding forms, showing and formatting.

A knowledge base is a folder with ``studies/`` (one canonical Turtle file per
study, named ``<study id>.ttl``) and an optional ``vocab/`` of the review's own
SKOS concept schemes. :func:`add_forms` is all-or-nothing: every form is
checked (schema, meaning, SHACL shapes) before any file is written.
"""

from __future__ import annotations

import contextlib
import difflib
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb import paths
from kb.errors import CheckFailed, CouldNotRun, UsageError
from kb.fileio import atomic_write_text
from kb.text import escape_controls

if TYPE_CHECKING:
    from rdflib import Graph

    from kb.forms import ConvertedForm, Vocabulary

VOCAB_README = """\
# vocab/: this review's own concept schemes

Turtle files (`*.ttl`) in this folder are loaded together with the shipped
vocabularies (conditions, agents, outcomes, designs, source types, terms), so
forms, queries and validation can use the concepts they define.

Add a file here when the review needs concepts the shipped vocabularies lack,
for example a scheme of its own outcome definitions. Each concept is a
`skos:Concept` with a `skos:prefLabel` (and `skos:altLabel` synonyms, which
forms and query parameters accept too) and `skos:inScheme` one of the schemes,
for example:

    @prefix outc: <https://w3id.org/evidence-kb/vocab/outcome/> .
    @prefix skos: <http://www.w3.org/2004/02/skos/core#> .

    outc:my-renal-response a skos:Concept ;
        skos:inScheme outc: ;
        skos:prefLabel "renal response (review definition)"@en ;
        skos:altLabel "my renal response"@en ;
        skos:broader outc:renal-response .

Add a skos:exactMatch to MONDO, MeSH, ChEBI ... only after checking it.
"""

README = """\
# Knowledge base

Made by `ekb init`. One Turtle file per study in `studies/` (written by
`ekb add FORM.yaml --kb .`, kept canonical by `ekb fmt --kb .`), and the
review's own concept schemes, if any, in `vocab/`. Point any command at this
folder with `--kb DIR` or the environment variable `EKB_KB`.
"""


def init_kb(directory: Path) -> list[Path]:
    """Make a new, empty knowledge base in ``directory``.

    :returns: the files and folders created.
    :raises UsageError: ``directory`` exists and is not empty, or is a file.
    :raises CouldNotRun: it cannot be created.
    """
    directory = Path(directory)
    if directory.exists():
        if not directory.is_dir():
            raise UsageError(f"{directory}: exists and is not a folder")
        if any(directory.iterdir()):
            raise UsageError(
                f"{directory}: exists and is not empty; `ekb init` only makes a new knowledge base"
            )
    try:
        (directory / "studies").mkdir(parents=True, exist_ok=True)
        (directory / "vocab").mkdir(exist_ok=True)
    except OSError as exc:
        raise CouldNotRun(f"{directory}: cannot create: {exc.strerror}") from exc
    atomic_write_text(directory / "vocab" / "README.md", VOCAB_README)
    atomic_write_text(directory / "README.md", README)
    return [
        directory / "README.md",
        directory / "studies",
        directory / "vocab",
        directory / "vocab" / "README.md",
    ]


def resolve_kb(kb_dir: Path | None) -> Path:
    """The knowledge base folder to use (``--kb``, else ``$EKB_KB``, else the shipped one).

    :raises CouldNotRun: it is not a knowledge base folder (no ``studies/``).
    """
    kb = Path(kb_dir) if kb_dir is not None else paths.default_kb_dir()
    if not (kb / "studies").is_dir():
        raise CouldNotRun(
            f"{kb}: not a knowledge base folder (no studies/ inside); `ekb init DIR` makes one"
        )
    return kb


def refuse_shipped(kb: Path, what: str) -> None:
    """Refuse to write into the knowledge base shipped inside the installed package.

    A reinstall or upgrade replaces the package folder, and with it anything
    written there.

    :raises UsageError: ``kb`` is the shipped knowledge base.
    """
    try:
        shipped = Path(kb).resolve() == paths.shipped_kb_dir().resolve()
    except OSError:
        return
    if shipped:
        raise UsageError(
            f"{kb}: the knowledge base shipped with ekb is read-only ({what} would be lost"
            " when ekb is reinstalled); make your own with `ekb init DIR` and pass --kb DIR"
            " (or set EKB_KB)"
        )


def refuse_shipped_file(path: Path) -> None:
    """:raises UsageError: ``path`` is a file or folder of the shipped knowledge base."""
    try:
        inside = Path(path).resolve().is_relative_to(paths.shipped_kb_dir().resolve() / "studies")
    except OSError:
        return
    if inside or Path(path).resolve() == paths.shipped_kb_dir().resolve():
        refuse_shipped(paths.shipped_kb_dir(), "a rewrite")


def writable_kb(kb_dir: Path | None, what: str) -> Path:
    """:func:`resolve_kb` for a command that writes: never the shipped knowledge base."""
    kb = resolve_kb(kb_dir)
    refuse_shipped(kb, what)
    return kb


#: A study id: what file names and IRIs can carry without escaping.
_STUDY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")


def check_study_id(study_id: str, origin: str) -> None:
    """:raises UsageError: the id would make a strange file name or IRI (line break, ``/``...)."""
    if not _STUDY_ID.match(study_id) or ".." in study_id or len(study_id) > 200:
        raise UsageError(
            f"{origin}: study.id {study_id!r} is not a usable id: use letters, digits,"
            " '.', '-' and '_' (no spaces, line breaks or '/')"
        )


def study_file(kb_dir: Path, study_id: str) -> Path:
    """Where a study's file is (or would be) in a knowledge base."""
    return Path(kb_dir) / "studies" / f"{study_id}.ttl"


def study_ids(kb_dir: Path) -> list[str]:
    """The ids of the studies in a knowledge base, sorted."""
    return [f.stem for f in paths.study_files(Path(kb_dir))]


def find_study_file(kb_dir: Path, study: str) -> Path:
    """The file of a study given by id (``il2-refractory-ln-2021``), ``res:`` CURIE or IRI,
    or a path.

    :raises UsageError: no such study (suggests the nearest id).
    """
    given = Path(study)
    if study.endswith(".ttl") and given.is_file():
        return given
    from kb.namespaces import RES

    for prefix in (f"{RES}study/", "res:study/", "study/"):
        if study.startswith(prefix):
            study = study[len(prefix) :]
    path = study_file(kb_dir, study)
    if _STUDY_ID.match(study) and ".." not in study and path.exists():
        return paths.checked_entry(kb_dir, path)
    ids = study_ids(kb_dir)
    close = difflib.get_close_matches(study, ids, n=3, cutoff=0.4)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise UsageError(f"no study {study!r} in {kb_dir}.{hint}")


# ---------------------------------------------------------------------------
# Adding forms


@dataclass
class PreparedStudy:
    """A form checked and converted, ready to write."""

    origin: str
    converted: ConvertedForm
    path: Path
    text: str
    replaces: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def study_id(self) -> str:
        return self.converted.study_id


def _shape_problems(prepared: list[PreparedStudy], kb_dir: Path) -> None:
    """Validate the new study files with the SHACL shapes (in a scratch folder, never in the KB).

    Violations become form errors named by field path; warnings are kept on each study.

    :raises kb.forms.FormError: a form's graph has violations.
    """
    from kb.forms import FormError
    from kb.validation import validate_files

    with tempfile.TemporaryDirectory(prefix="ekb-add-") as scratch:
        files = []
        for p in prepared:
            f = Path(scratch) / f"{p.study_id}.ttl"
            try:
                f.write_text(p.text, encoding="utf-8")
            except OSError as exc:  # disk full, quota: the KB is not touched yet
                raise CouldNotRun(f"{f}: cannot write (for validation): {exc.strerror}") from exc
            files.append(f)
        report = validate_files(files, kb_dir, display=[p.origin for p in prepared])
    problems: dict[str, list[str]] = {}
    for p, file_report in zip(prepared, report.files, strict=True):
        for finding in file_report.findings:
            where = p.converted.field_path(finding.focus, finding.path) if finding.focus else None
            severity, focus, path, message, shape = finding.row()
            where = where or " ".join(x for x in (focus, path) if x)
            text = f"{where}: {message}" + (f"  {shape}" if shape else "")
            if severity == "Violation":
                problems.setdefault(p.origin, []).append(text)
            else:
                p.warnings.append(f"{severity}: {text}")
    if problems:
        errors = [FormError(origin, msgs) for origin, msgs in problems.items()]
        if len(errors) == 1:
            raise errors[0]
        raise CheckFailed("\n".join(str(e) for e in errors))


def prepare_forms(
    form_files: Sequence[Path],
    kb_dir: Path,
    *,
    force: bool = False,
    vocab: Vocabulary | None = None,
) -> list[PreparedStudy]:
    """Check every form and build its study file text, writing nothing.

    :raises kb.forms.FormError: a form does not conform (all problems of the first bad form;
        :class:`CheckFailed` listing every bad form when several are).
    :raises UsageError: a study exists and ``force`` is not set, or two forms share a study id.
    :raises CouldNotRun: a form cannot be read or is not YAML.
    """
    from kb.forms import FormError, Vocabulary, form_to_graph, load_form_file
    from kb.turtle_format import canonical_turtle, header_comment

    if not form_files:
        raise UsageError("give at least one form (FORM.yaml)")
    vocab = vocab or Vocabulary.for_kb(kb_dir)
    prepared: list[PreparedStudy] = []
    errors: list[FormError] = []
    for form_file in form_files:
        origin = str(form_file)
        data = load_form_file(Path(form_file))
        try:
            converted = form_to_graph(data, vocab, origin)
        except FormError as exc:
            errors.append(exc)
            continue
        check_study_id(converted.study_id, origin)
        _check_iris(converted.graph, origin)
        path = study_file(kb_dir, converted.study_id)
        header = None
        if path.exists():
            # Keep the curators' header comment of the file being replaced.
            header = header_comment(path.read_text(encoding="utf-8"))
        text = canonical_turtle(converted.graph, header=header)
        prepared.append(PreparedStudy(origin, converted, path, text, path.exists()))
    if errors:
        if len(errors) == 1:
            raise errors[0]
        raise CheckFailed("\n".join(str(e) for e in errors))
    # The forms' own problems (schema, meaning, then SHACL shapes) come first, whatever the
    # knowledge base holds; only forms that pass are checked against it ("already in").
    _shape_problems(prepared, kb_dir)
    seen: dict[str, str] = {}
    for p in prepared:
        if p.study_id in seen:
            raise UsageError(
                f"{p.origin}: study {p.study_id!r} is also in {seen[p.study_id]}; one form per "
                "study"
            )
        seen[p.study_id] = p.origin
    existing = [p for p in prepared if p.replaces]
    if existing and not force:
        names = ", ".join(f"{p.study_id} ({p.path}, from {p.origin})" for p in existing)
        raise UsageError(f"already in the knowledge base: {names}. Use --force to replace.")
    return prepared


def add_forms(
    form_files: Sequence[Path], kb_dir: Path | None = None, *, force: bool = False
) -> list[PreparedStudy]:
    """Check forms, then write their study files: all of them, or (on any problem) none.

    :returns: the studies written, with any shape warnings.
    :raises: see :func:`prepare_forms`; nothing is written when it raises.
    """
    kb = writable_kb(kb_dir, "added studies")
    prepared = prepare_forms(form_files, kb, force=force)
    # Two `ekb add` at once must not both write a new study: the check for an
    # existing file is repeated under a lock on studies/ (the folder itself,
    # so no lock file appears in the knowledge base).
    with _locked(kb / "studies"):
        if not force:
            taken = [p for p in prepared if not p.replaces and p.path.exists()]
            if taken:
                names = ", ".join(f"{p.study_id} ({p.path}, from {p.origin})" for p in taken)
                raise UsageError(
                    f"already in the knowledge base: {names} (added meanwhile by another"
                    " command). Use --force to replace."
                )
        for p in prepared:
            atomic_write_text(p.path, p.text)
    return prepared


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock (flock) on a folder, released on exit (and on any death)."""
    import fcntl
    import os

    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError as exc:
        raise CouldNotRun(f"{folder}: cannot open: {exc.strerror}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _check_iris(graph: Graph, origin: str) -> None:
    """:raises UsageError: an IRI holds a control character or space (from a field with one)."""
    from rdflib import URIRef

    for triple in graph:
        for term in triple:
            if isinstance(term, URIRef) and _BAD_IRI_CHAR.search(term):
                raise UsageError(
                    f"{origin}: a value makes the IRI {escape_controls(str(term))!r},"
                    " which holds a space or control character"
                )


_BAD_IRI_CHAR = re.compile(r"[\x00-\x20\x7f-\x9f<>\"{}|^`\\]")


# ---------------------------------------------------------------------------
# Showing a study


SHOW_FORMATS = ("yaml", "ttl", "md")


def load_study_graph(path: Path) -> Graph:
    """A study file as an rdflib graph (resource IRIs resolved against the resource base)."""
    from kb.turtle_format import parse_turtle

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CouldNotRun(f"{path}: cannot read: {exc.strerror}") from exc
    return parse_turtle(text, str(path))


def study_form(kb_dir: Path, study: str, vocab: Vocabulary | None = None) -> dict[str, Any]:
    """The form of a study in a knowledge base (what ``ekb show -f yaml`` prints)."""
    from kb.forms import Vocabulary, graph_to_form

    path = find_study_file(kb_dir, study)
    return graph_to_form(load_study_graph(path), vocab or Vocabulary.for_kb(kb_dir))


def show_study(kb_dir: Path | None, study: str, fmt: str = "yaml") -> str:
    """A study as a form (``yaml``), canonical Turtle (``ttl``) or a readable card (``md``).

    :raises UsageError: an unknown study or format.
    :raises kb.forms.NotAForm: the study file holds something a form cannot express.
    """
    from kb.forms import dump_form

    kb = resolve_kb(kb_dir)
    if fmt not in SHOW_FORMATS:
        raise UsageError(f"no format {fmt!r}; use one of {', '.join(SHOW_FORMATS)}")
    if fmt == "ttl":
        from kb.turtle_format import format_text

        path = find_study_file(kb, study)
        return format_text(path.read_text(encoding="utf-8"), str(path))
    form = study_form(kb, study)
    if fmt == "yaml":
        head = (
            f"# Study {form['study']['id']} as an extraction form (ekb show). "
            "Edit, then: ekb add FILE --force\n"
        )
        return head + dump_form(form)
    return study_card(form)


def _md(value: Any) -> str:
    from decimal import Decimal

    from kb.forms import decimal_lexical

    if isinstance(value, list):
        return "; ".join(_md(v) for v in value)
    if isinstance(value, Decimal):
        return (
            decimal_lexical(value).removesuffix(".0")
            if decimal_lexical(value).endswith(".0")
            else decimal_lexical(value)
        )
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _dose(iv: dict[str, Any]) -> str | None:
    if "dose_text" in iv:
        return str(iv["dose_text"])
    if "dose_value" in iv:
        return f"{_md(iv['dose_value'])} {iv.get('dose_unit', '')}".strip()
    return None


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += [
        "| " + " | ".join(_md(c) if c is not None else "" for c in row) + " |" for row in rows
    ]
    return lines + [""]


def _numbers(record: dict[str, Any]) -> str:
    parts = []
    if "events" in record or "total" in record:
        parts.append(f"{_md(record.get('events', '?'))}/{_md(record.get('total', '?'))}")
    if "percent" in record:
        parts.append(f"{_md(record['percent'])}%")
    if "mean" in record:
        sd = f" (SD {_md(record['sd'])})" if "sd" in record else ""
        parts.append(f"mean {_md(record['mean'])}{sd}")
    if "median" in record:
        parts.append(f"median {_md(record['median'])}")
    if "percent_change" in record:
        parts.append(f"{_md(record['percent_change'])}% change")
    if "baseline_value" in record or "follow_up_value" in record:
        parts.append(
            f"{_md(record.get('baseline_value', '?'))} -> {_md(record.get('follow_up_value', '?'))}"
        )
    if "direction" in record:
        parts.append(_md(record["direction"]))
    return ", ".join(parts)


def _provenance(record: dict[str, Any]) -> str:
    bits = [record.get("source", ""), record.get("locator", "")]
    text = ", ".join(_md(b) for b in bits if b)
    if record.get("quality_flag"):
        text += f" (flag: {_md(record['quality_flag'])})"
    return text


def study_card(form: dict[str, Any]) -> str:
    """A readable Markdown card of a study form: design, sources, population, arms, numbers,
    claims (and, for a reconciled study, which values came from a decision)."""
    from kb.forms import reconciliation as rform

    study = form["study"]
    decided = [d["path"] for d in form.get("reconciliation", {}).get("decisions", [])]
    out = [f"# {_md(study.get('title', study['id']))}", "", f"`{study['id']}`", ""]
    facts = [
        ("Design", study.get("design")),
        ("As printed", study.get("design_text")),
        ("Blinding", study.get("blinding")),
        ("Year", study.get("year")),
        ("Phase", study.get("phase")),
        ("Registration", study.get("registration_ids")),
        ("Countries", study.get("countries")),
        (
            "Follow-up",
            study.get("follow_up_text")
            or (f"{_md(study['follow_up_weeks'])} weeks" if "follow_up_weeks" in study else None),
        ),
        ("Possibly related", study.get("possibly_related_to")),
    ]
    out += [f"- **{k}:** {_md(v)}" for k, v in facts if v is not None] + [""]
    out += ["## Sources", ""]
    out += _table(
        ["key", "type", "title", "DOI / PMID / URL"],
        [
            [s["key"], s.get("type"), s.get("title"), s.get("doi") or s.get("pmid") or s.get("url")]
            for s in form.get("sources", [])
        ],
    )
    pop = form.get("population")
    if pop:
        out += ["## Population", ""]
        for label, name in (
            ("Condition", "condition"),
            ("As printed", "condition_text"),
            ("Eligibility", "eligibility"),
            ("Enrolled", "enrolled"),
            ("Analysed", "analysed"),
            ("Age", "age_text"),
            ("Sex", "sex_text"),
        ):
            if name in pop:
                out.append(f"- **{label}:** {_md(pop[name])}")
        out.append("")
    if form.get("arms"):
        out += ["## Arms", ""]
        rows = []
        for arm in form["arms"]:
            ivs = arm.get("interventions", [])
            what = "; ".join(
                " ".join(
                    _md(x) for x in (iv.get("agent"), _dose(iv), iv.get("frequency_text")) if x
                )
                for iv in ivs
            )
            n = rform.marked(arm.get("n"), f"arms[{arm['key']}].n", decided)
            rows.append([arm["key"], arm.get("label"), arm.get("role"), n, what])
        out += _table(["key", "arm", "role", "n", "receives"], rows)
    if form.get("results"):
        outcomes = {o["key"]: o for o in form.get("outcomes", [])}
        out += ["## Results", ""]
        rows = []
        for r in form["results"]:
            o = outcomes.get(r["outcome"], {})
            rows.append(
                [
                    o.get("label", r["outcome"]),
                    r["arm"],
                    r.get("timepoint_weeks"),
                    rform.marked(_numbers(r), f"results[{r['key']}]", decided),
                    _provenance(r),
                ]
            )
        out += _table(["outcome", "arm", "week", "result", "source"], rows)
    if form.get("comparisons"):
        out += ["## Comparisons", ""]
        rows = []
        for c in form["comparisons"]:
            ci = (
                f"{_md(c['ci_lower'])} to {_md(c['ci_upper'])}"
                if "ci_lower" in c and "ci_upper" in c
                else ""
            )
            p = (c.get("p_value_comparator", "") + _md(c["p_value"])) if "p_value" in c else ""
            rows.append(
                [
                    rform.marked(c["outcome"], f"comparisons[{c['key']}]", decided),
                    f"{c.get('experimental_arm', '?')} vs {c.get('comparator_arm', '?')}",
                    c.get("measure"),
                    c.get("estimate"),
                    ci,
                    p,
                    _provenance(c),
                ]
            )
        out += _table(["outcome", "arms", "measure", "estimate", "CI", "p", "source"], rows)
    if form.get("safety"):
        out += ["## Safety", ""]
        rows = [
            [
                s["arm"],
                s.get("event_term"),
                s.get("serious"),
                s.get("affected", "not reported"),
                s.get("at_risk"),
                _provenance(s),
            ]
            for s in form["safety"]
        ]
        out += _table(["arm", "event", "serious", "affected", "at risk", "source"], rows)
    if form.get("claims"):
        out += ["## Claims", ""]
        for c in form["claims"]:
            reasons = f" ({_md(c['certainty_reasons'])})" if c.get("certainty_reasons") else ""
            out.append(
                f"- {_md(c['statement'])} — certainty: "
                f"{_md(c.get('certainty', 'not rated'))}{reasons}; source: {_provenance(c)}"
            )
        out.append("")
    out += rform.card_lines(form.get("reconciliation"))
    return "\n".join(out).rstrip("\n") + "\n"


# ---------------------------------------------------------------------------
# Formatting


def turtle_files_in(paths_given: Sequence[Path], kb_dir: Path | None) -> list[Path]:
    """The Turtle files ``ekb fmt`` works on: the paths given (folders expanded), else the
    KB's studies.

    :raises UsageError: a path does not exist.
    """
    if not paths_given:
        return paths.study_files(resolve_kb(kb_dir))
    for given in map(Path, paths_given):
        refuse_shipped_file(given)
    files: list[Path] = []
    for given in map(Path, paths_given):
        if given.is_dir():
            files += (
                paths.study_files(given)
                if (given / "studies").is_dir()
                else sorted(given.glob("*.ttl"))
            )
        elif given.is_file():
            files.append(given)
        else:
            raise UsageError(f"{given}: no such file or folder")
    return files


@dataclass
class FormatResult:
    """What :func:`format_files` found: files not canonical, and comment lines a rewrite drops."""

    checked: list[Path] = field(default_factory=list)
    not_canonical: list[Path] = field(default_factory=list)
    dropped_comments: dict[Path, int] = field(default_factory=dict)


def format_files(files: Sequence[Path], *, check: bool = False) -> FormatResult:
    """Rewrite Turtle files canonically (atomically; unchanged files are not touched).

    Every file is parsed before any is written, so a syntax error leaves all of them as they were.

    :param check: only report the files that are not canonical; write nothing.
    :raises kb.errors.RdfSyntaxError: a file is not valid Turtle (file and line).
    """
    from kb.turtle_format import count_dropped_comments, format_text

    result = FormatResult()
    pending: list[tuple[Path, str]] = []
    for f in files:
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CouldNotRun(f"{f}: cannot read: {getattr(exc, 'strerror', None) or exc}") from exc
        canonical = format_text(text, str(f))
        result.checked.append(f)
        if canonical != text:
            result.not_canonical.append(f)
            dropped = count_dropped_comments(text)
            if dropped:
                result.dropped_comments[f] = dropped
            pending.append((f, canonical))
    if not check:
        for f, _canonical in pending:
            refuse_shipped_file(f)
        for f, canonical in pending:
            atomic_write_text(f, canonical)
    return result
