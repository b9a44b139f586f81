"""Registry <-> publication discrepancies: outcome switching, found automatically.

A study extracted from a publication is compared with the registry record of the same
trial imported into the knowledge base (``ekb import ctgov``), linked by the registration
id both carry. The kinds reported follow the COMPare project's coding (Goldacre et al.,
Trials 2019;20:118) and Holst et al.'s change codes (review-methods §5):

- ``new_primary``: a published primary outcome that was not registered at all;
- ``secondary_to_primary``: a published primary registered as a secondary (or other) one;
- ``primary_to_secondary``: a registered primary published as a secondary one;
- ``primary_omitted``: a registered primary outcome the publication does not report;
- ``outcome_added`` / ``outcome_omitted``: the same, for non-primary outcomes;
- ``timeframe_changed``: the same outcome at another time point (weeks on both sides);
- ``enrollment_changed``: the registered enrolment (with its type, actual or estimated)
  against the number the publication enrolled (randomised, in a randomised trial).

Registered outcomes are those of the record's ``protocolSection.outcomesModule`` (the
importer keeps each, or notes on the posted measure of the same title which one it is);
outcomes posted without having been registered are not "registered". Outcomes are matched
one to one: by outcome concept when both sides carry the same concept, otherwise by a
normalised text similarity of their labels (difflib's ratio, the better of the plain and
the word-sorted comparison) of at least :data:`MATCH_THRESHOLD`; every match reports its
basis and score so that a reviewer can judge it. The data come from two canned queries,
``registry-links`` and ``registry-outcomes``.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kb.errors import UsageError

if TYPE_CHECKING:
    from kb.store import Store

#: The text similarity two outcome labels need to be taken for the same outcome.
MATCH_THRESHOLD = 0.75

KINDS = (
    "new_primary",
    "primary_omitted",
    "primary_to_secondary",
    "secondary_to_primary",
    "outcome_added",
    "outcome_omitted",
    "timeframe_changed",
    "enrollment_changed",
)

_REGISTERED = re.compile(
    r"protocolSection\.outcomesModule\.(primary|secondary|other)Outcomes\[\d+\]"
)
_COMPARED_ROLES = {"primary", "secondary", "exploratory", "post-hoc", "other"}
_ESTIMATED = re.compile(r"Enrolment (\d+) is registered as (\w+)")


@dataclass(frozen=True)
class Outcome:
    """One outcome of one side, as the comparison sees it."""

    study_id: str
    iri: str
    label: str
    role: str
    concept: str | None
    weeks: Decimal | None
    time_text: str | None
    locator: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "study": self.study_id,
            "outcome": self.iri,
            "label": self.label,
            "role": self.role,
            "concept": self.concept,
            "timepoint_weeks": None if self.weeks is None else float(self.weeks),
            "timepoint": self.time_text,
            "locator": self.locator,
        }


@dataclass(frozen=True)
class Discrepancy:
    """One difference between what was registered and what was published."""

    kind: str
    registered: dict[str, Any] | None
    published: dict[str, Any] | None
    basis: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "registered": self.registered,
            "published": self.published,
            "basis": self.basis,
        }


def normalise_text(text: str) -> str:
    """Case, accents, punctuation and spacing folded away, for comparing outcome labels.

    >>> normalise_text("Percent Change in EASI-Score (Week 16).")
    'percent change in easi score week 16'
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", folded).split())


def similarity(a: str, b: str) -> float:
    """How alike two labels read, 0 to 1: difflib's ratio of the normalised texts, or of
    their words in sorted order when that is higher (word order changes are common).

    >>> round(similarity("EASI-75 response at week 16", "At week 16: EASI-75 response"), 2)
    1.0
    """
    x, y = normalise_text(a), normalise_text(b)
    if not x or not y:
        return 0.0
    plain = difflib.SequenceMatcher(None, x, y).ratio()
    ordered = difflib.SequenceMatcher(
        None, " ".join(sorted(x.split())), " ".join(sorted(y.split()))
    ).ratio()
    return max(plain, ordered)


def _local(iri: Any) -> str:
    return str(iri).rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _rows(store: Store, name: str) -> list[dict[str, Any]]:
    from kb.queries import run_query

    return list(run_query(store, name).rows)


@dataclass
class _Links:
    #: study id -> registrations, whether it is a registry record, registry studies of
    #: the same registration id, and its enrolment (number, printed text, note).
    studies: dict[str, dict[str, Any]]


def _links(store: Store) -> _Links:
    studies: dict[str, dict[str, Any]] = {}
    for row in _rows(store, "registry-links"):
        sid = str(row["study_id"])
        entry = studies.setdefault(
            sid,
            {
                "registrations": set(),
                "is_registry": str(row.get("is_registry_record")) == "true",
                "registry_studies": set(),
                "enrolled": None,
                "printed": None,
                "note": None,
            },
        )
        if row.get("registration") is not None:
            entry["registrations"].add(str(row["registration"]))
        if row.get("registry_study_id") is not None:
            entry["registry_studies"].add(str(row["registry_study_id"]))
        for key, column in (
            ("enrolled", "enrolled"),
            ("printed", "enrolment_printed"),
            ("note", "enrolment_note"),
        ):
            if row.get(column) is not None:
                entry[key] = str(row[column])
    return _Links(studies)


def _outcomes(store: Store, study_ids: set[str]) -> dict[str, list[Outcome]]:
    """Study id -> its outcomes; a registry study's are its registered ones only."""
    found: dict[str, dict[str, Outcome]] = {}
    for row in _rows(store, "registry-outcomes"):
        sid = str(row["study_id"])
        if sid not in study_ids:
            continue
        weeks = row.get("weeks")
        outcome = Outcome(
            study_id=sid,
            iri=str(row["outcome"]),
            label=str(row.get("label") or _local(row["outcome"])),
            role=_local(row["role"]) if row.get("role") is not None else "",
            concept=str(row["concept"]) if row.get("concept") is not None else None,
            weeks=Decimal(str(weeks)) if weeks is not None else None,
            time_text=str(row["time_text"]) if row.get("time_text") is not None else None,
            locator=str(row["locator"]) if row.get("locator") is not None else None,
        )
        # A note's "Registered as protocolSection.outcomesModule.primaryOutcomes[0]" says
        # which registered outcome a posted measure is.
        note = str(row.get("note") or "")
        found.setdefault(sid, {})[outcome.iri] = _with_note(outcome, note)
    return {sid: list(by_iri.values()) for sid, by_iri in found.items()}


def _with_note(outcome: Outcome, note: str) -> Outcome:
    m = re.search(r"Registered as (" + _REGISTERED.pattern + r")", note)
    if m is None:
        return outcome
    return Outcome(
        outcome.study_id,
        outcome.iri,
        outcome.label,
        outcome.role,
        outcome.concept,
        outcome.weeks,
        outcome.time_text,
        m.group(1),
    )


def _registered(outcomes: list[Outcome]) -> list[Outcome]:
    """The registry study's registered outcomes, each with its registered role."""
    out = []
    for o in outcomes:
        m = _REGISTERED.fullmatch(o.locator or "")
        if m:
            role = {"primary": "primary", "secondary": "secondary", "other": "other"}[m.group(1)]
            out.append(
                Outcome(
                    o.study_id, o.iri, o.label, role, o.concept, o.weeks, o.time_text, o.locator
                )
            )
    return out


def _match(
    published: list[Outcome], registered: list[Outcome]
) -> dict[str, tuple[Outcome, dict[str, Any]]]:
    """Published outcome IRI -> (registered outcome, basis), one to one, best first."""
    candidates: list[tuple[float, int, str, str, dict[str, Any]]] = []
    for p in published:
        for r in registered:
            if p.concept and r.concept and p.concept == r.concept:
                basis = {"method": "outcome concept", "concept": p.concept, "score": 1.0}
                candidates.append((1.0, 1, p.iri, r.iri, basis))
                continue
            score = similarity(p.label, r.label)
            if score >= MATCH_THRESHOLD:
                basis = {
                    "method": "text similarity",
                    "score": round(score, 3),
                    "threshold": MATCH_THRESHOLD,
                }
                candidates.append((score, 0, p.iri, r.iri, basis))
    by_iri = {r.iri: r for r in registered}
    matched: dict[str, tuple[Outcome, dict[str, Any]]] = {}
    used: set[str] = set()
    for _, _, p_iri, r_iri, basis in sorted(candidates, key=lambda c: (-c[0], -c[1], c[2], c[3])):
        if p_iri in matched or r_iri in used:
            continue
        matched[p_iri] = (by_iri[r_iri], basis)
        used.add(r_iri)
    return matched


def _best_score(o: Outcome, others: list[Outcome]) -> dict[str, Any]:
    if not others:
        return {"method": "no match", "best_score": None, "threshold": MATCH_THRESHOLD}
    best = max(others, key=lambda x: similarity(o.label, x.label))
    return {
        "method": "no match",
        "best_candidate": best.label,
        "best_score": round(similarity(o.label, best.label), 3),
        "threshold": MATCH_THRESHOLD,
    }


def registry_study_for(store: Store, study_id: str) -> str:
    """The registry study of the trial ``study_id`` reports, found by registration id.

    :raises UsageError: the study is unknown, is itself a registry record, carries no
        registration id, or no registry record of it is in the knowledge base.
    """
    links = _links(store).studies
    entry = _known(links, study_id)
    if entry["is_registry"]:
        raise UsageError(f"{study_id} is itself a registry record: name the publication study")
    if not entry["registrations"]:
        raise UsageError(f"{study_id} carries no registration id (ekb:registrationId)")
    found = sorted(entry["registry_studies"])
    if not found:
        ids = ", ".join(sorted(entry["registrations"]))
        raise UsageError(
            f"no registry record of {ids} in the knowledge base: import it with "
            "`ekb import ctgov FILE`"
        )
    if len(found) > 1:
        raise UsageError(
            f"{study_id} links to several registry records: {', '.join(found)}; name one"
        )
    return found[0]


def _known(links: dict[str, dict[str, Any]], study_id: str) -> dict[str, Any]:
    if study_id not in links:
        close = difflib.get_close_matches(study_id, list(links), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UsageError(f"no study {study_id!r} in the knowledge base{hint}")
    return links[study_id]


def compare(store: Store, study_id: str, registry_id: str | None = None) -> list[Discrepancy]:
    """The discrepancies between publication study ``study_id`` and its registry record.

    :param registry_id: the registry study; found by registration id when omitted.
    :raises UsageError: see :func:`registry_study_for`.
    """
    links = _links(store).studies
    publication = _known(links, study_id)
    registry_id = registry_id or registry_study_for(store, study_id)
    registry = _known(links, registry_id)
    if not registry["is_registry"]:
        raise UsageError(f"{registry_id} is not an imported registry record")
    outcomes = _outcomes(store, {study_id, registry_id})
    published = [o for o in outcomes.get(study_id, []) if o.role in _COMPARED_ROLES]
    registered = _registered(outcomes.get(registry_id, []))
    matched = _match(published, registered)
    found: list[Discrepancy] = []
    registered_matched = {r.iri for r, _ in matched.values()}
    for p in published:
        hit = matched.get(p.iri)
        if hit is None:
            kind = "new_primary" if p.role == "primary" else "outcome_added"
            found.append(Discrepancy(kind, None, p.as_dict(), _best_score(p, registered)))
            continue
        r, basis = hit
        if p.role == "primary" and r.role != "primary":
            found.append(Discrepancy("secondary_to_primary", r.as_dict(), p.as_dict(), basis))
        elif r.role == "primary" and p.role != "primary":
            found.append(Discrepancy("primary_to_secondary", r.as_dict(), p.as_dict(), basis))
        if p.weeks is not None and r.weeks is not None and p.weeks != r.weeks:
            found.append(
                Discrepancy(
                    "timeframe_changed",
                    r.as_dict(),
                    p.as_dict(),
                    {
                        **basis,
                        "registered_weeks": float(r.weeks),
                        "published_weeks": float(p.weeks),
                    },
                )
            )
    for r in registered:
        if r.iri in registered_matched:
            continue
        kind = "primary_omitted" if r.role == "primary" else "outcome_omitted"
        found.append(Discrepancy(kind, r.as_dict(), None, _best_score(r, published)))
    enrolment = _enrolment_change(study_id, publication, registry_id, registry)
    if enrolment is not None:
        found.append(enrolment)
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(found, key=lambda d: (order[d.kind], str(d.registered), str(d.published)))


def _enrolment_change(
    study_id: str, publication: dict[str, Any], registry_id: str, registry: dict[str, Any]
) -> Discrepancy | None:
    published = publication["enrolled"]
    if published is None:
        return None
    count: int | None = None
    kind = None
    m = _ESTIMATED.search(registry["note"] or "")
    if registry["enrolled"] is not None:
        count, kind = int(registry["enrolled"]), "ACTUAL"
    elif m:
        count, kind = int(m.group(1)), m.group(2)
    if count is None or count == int(published):
        return None
    return Discrepancy(
        "enrollment_changed",
        {
            "study": registry_id,
            "enrolment": count,
            "enrolment_type": kind,
            "locator": "protocolSection.designModule.enrollmentInfo.count",
        },
        {"study": study_id, "enrolled": int(published)},
        {"method": "registration id", "difference": int(published) - count},
    )


def kb_report(store: Store) -> list[dict[str, Any]]:
    """Every study with a registration id: its registry study in the KB (if any) and the
    number of discrepancies of each kind."""
    links = _links(store).studies
    rows = []
    for sid in sorted(links):
        entry = links[sid]
        if entry["is_registry"] or not entry["registrations"]:
            continue
        registry = sorted(entry["registry_studies"])
        row: dict[str, Any] = {
            "study_id": sid,
            "registration": "; ".join(sorted(entry["registrations"])),
            "registry_study_id": "; ".join(registry) or None,
        }
        counts = dict.fromkeys(KINDS, None if len(registry) != 1 else 0)
        if len(registry) == 1:
            for d in compare(store, sid, registry[0]):
                counts[d.kind] = (counts[d.kind] or 0) + 1
        row.update(counts)
        rows.append(row)
    return rows


def describe(d: Discrepancy) -> str:
    """One line of text for a discrepancy."""

    def side(s: dict[str, Any] | None) -> str:
        if s is None:
            return "(none)"
        if "enrolment" in s:
            return f"{s['enrolment']} ({s['enrolment_type']}, {s['study']})"
        if "enrolled" in s:
            return f"{s['enrolled']} enrolled ({s['study']})"
        when = f", {s['timepoint']}" if s.get("timepoint") else ""
        return f"{s['role']} '{s['label']}'{when} [{s['locator'] or s['outcome']}]"

    b = d.basis
    if b.get("method") == "no match":
        score, threshold = b.get("best_score"), b.get("threshold")
        if score is None:
            basis = "no match (nothing to compare with)"
        elif threshold is not None and score >= threshold:
            # Outcomes pair one to one: the closest one was taken by a better-matching outcome.
            basis = f"no match (best {score}, matched to another outcome)"
        else:
            basis = f"no match (best {score} below {threshold})"
    elif "score" in b:
        basis = f"{b['method']} {b['score']}"
    else:
        basis = str(b.get("method"))
    return (
        f"{d.kind:<21} registered: {side(d.registered)}  published: {side(d.published)}  "
        f"basis: {basis}"
    )
