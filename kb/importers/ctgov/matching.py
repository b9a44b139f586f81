"""Which registered arm a results group stands for, decided by evidence in the record.

A results group (``FG``/``BG``/``OG``/``EG``) names no arm id: the only links are its title
and description. A substring of a title is not evidence ("Placebo -> OL Drug" contains
"Placebo" but is not the placebo arm), so a group is matched in tiers, strongest first, and
the first tier that names exactly one arm decides; the tier is the match's ``basis``:

1. the same title as an arm, after folding case, punctuation, numbering ("2. Drug") and
   abbreviations defined in the record ("certolizumab pegol (CZP)");
2. the same, once an analysis-set suffix is set aside ("Drug (FAS)", "Drug - ITT"): the
   same arm, with the analysis population recorded;
3. a title that names a sequence of treatments ("Placebo -> OL Drug", "Placebo/Drug",
   "Placebo then Drug"), each part naming a registered arm or intervention: a group of its
   own, receiving the treatments in that order, never merged into its first treatment;
4. "<arm title>: <qualifier>" ("Healthy Participants: Carrot"): that arm, the qualifier
   recorded as a subgroup;
5. a description that is (or begins with) the arm's registered description;
6. a title that contains the label of exactly one arm (the longest, when one label holds
   the others), or a title contained in exactly one arm's label;
7. a title similar to exactly one arm's label (difflib ratio of at least 0.9).

A "Total" group in any usual spelling ("Total", "Total Title", "All participants",
"Overall") next to other groups is the whole population, not an arm. Anything else is
unmatched: the importer keeps it as a group of its own and warns.

Pure functions over the record's text; nothing here knows RDF.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kb.importers.ctgov.parsing import _strip_enumeration, _text, normalise_label

#: The similarity a title needs to match an arm's label in the last tier.
SIMILAR_TITLE = 0.9

_TOTAL = re.compile(
    r"^(?:total(?: title| population| study population| participants| subjects| patients)?"
    r"|overall(?: study)?(?: population| participants| subjects| patients)?"
    r"|all (?:study )?(?:participants|subjects|patients|groups|arms|cohorts|treatment groups"
    r"|randomi[sz]ed(?: participants| subjects| patients)?|treated(?: participants)?"
    r"|enrolled(?: participants)?)"
    r"|(?:entire|whole) (?:study )?population|combined(?: groups| arms)?)"
    r"(?: n \d+)?$"
)

# Analysis sets a group title may end with, normalised, with the name recorded for them.
_ANALYSIS_SETS = {
    "fas": "full analysis set",
    "full analysis set": "full analysis set",
    "ss": "safety set",
    "saf": "safety set",
    "safety set": "safety set",
    "safety": "safety set",
    "safety analysis set": "safety set",
    "safety population": "safety set",
    "itt": "intention to treat",
    "intent to treat": "intention to treat",
    "intention to treat": "intention to treat",
    "mitt": "modified intention to treat",
    "modified intent to treat": "modified intention to treat",
    "modified intention to treat": "modified intention to treat",
    "pp": "per protocol",
    "pps": "per protocol",
    "per protocol": "per protocol",
    "per protocol set": "per protocol",
    "pk": "pharmacokinetic set",
    "pks": "pharmacokinetic set",
    "pk set": "pharmacokinetic set",
    "pharmacokinetic set": "pharmacokinetic set",
    "efficacy population": "efficacy population",
    "efficacy analysis set": "efficacy population",
    "evaluable": "evaluable participants",
    "evaluable participants": "evaluable participants",
}
_SET_SUFFIX = re.compile(
    r"^(?P<rest>.+?) (?P<set>"
    + "|".join(sorted((re.escape(k) for k in _ANALYSIS_SETS), key=len, reverse=True))
    + r")(?: analysis)?(?: population| set| analysis set)?$"
)

# Words that say when or how a treatment is given, not which: "OL Drug" is Drug.
_PHASE_WORDS = re.compile(
    r"\b(?:ol|ole|lte|open label|double blind|db|blinded|extension|period \d+|part \d+"
    r"|phase \d+|continued|continuation|maintenance)\b"
)
# Separators that put treatments in sequence. "/" is handled apart: "A/B" is also how a
# combination is written, so it only counts between two registered arms.
_SEQUENCE = re.compile(
    r"\s*(?:-+>|=>|→|⇒|>|\bthen\b|\bfollowed by\b|\bswitch(?:ed|ing)? to\b"
    r"|\bcross(?:ed)? over to\b|\bto\b)\s*",
    re.IGNORECASE,
)
_GENERIC = {"participants", "patients", "subjects", "group", "arm", "cohort", "all", "overall"}


@dataclass(frozen=True)
class ArmText:
    """What the record says about one registered (or already created) arm."""

    label: str
    description: str | None = None
    #: Intervention names (and other names) the arm receives.
    treatments: tuple[str, ...] = ()


@dataclass(frozen=True)
class SequencePart:
    """One treatment of a switching group, in order: the arm or intervention it names."""

    text: str
    arm: int | None
    treatment: str | None


@dataclass(frozen=True)
class GroupMatch:
    """The decision for one results group."""

    #: "arm" (``arm`` is set), "population" (a Total group), "sequence" (a group of its own
    #: receiving ``sequence`` in order) or "unmatched".
    kind: str
    basis: str
    arm: int | None = None
    #: The analysis set a title suffix names ("full analysis set"), as printed and as named.
    analysis_set: str | None = None
    #: The qualifier after "<arm title>: ", kept as a subgroup.
    qualifier: str | None = None
    sequence: tuple[SequencePart, ...] = ()
    #: The tier that decided (1 strongest ... 7); 0 for population, 9 for unmatched.
    tier: int = 9


class Abbreviations:
    """Abbreviations and other names defined in the record, folded to one spelling.

    >>> a = Abbreviations(["Certolizumab pegol (CZP) 200 mg every 2 weeks"])
    >>> a.fold("czp 200 mg") == a.fold("Certolizumab Pegol 200 mg")
    True
    """

    _DEFINED = re.compile(r"\(([A-Z][A-Za-z0-9-]{1,9})\)")

    def __init__(self, texts: list[str], synonyms: Sequence[tuple[str, str]] = ()) -> None:
        found: dict[str, set[str]] = {}
        for text in texts:
            for m in self._DEFINED.finditer(text):
                long = _long_form(text[: m.start()].split(), m.group(1))
                if long:
                    found.setdefault(normalise_label(m.group(1)), set()).add(normalise_label(long))
        pairs: list[tuple[str, str]] = []
        for short, longs in found.items():
            if len(longs) == 1:  # one abbreviation, two meanings: trust neither
                (long,) = longs
                if long != short:
                    pairs.append((long, short))
        for variant, canonical in synonyms:
            v, c = normalise_label(variant), normalise_label(canonical)
            if len(v) >= 3 and v != c:
                pairs.append((v, c))
        # Longest first, so "certolizumab pegol" is folded before "pegol" could be.
        self._pairs = sorted(pairs, key=lambda p: len(p[0]), reverse=True)

    def fold(self, text: str) -> str:
        norm = normalise_label(text)
        for variant, canonical in self._pairs:
            norm = re.sub(rf"(^| ){re.escape(variant)}( |$)", rf"\g<1>{canonical}\g<2>", norm)
        return " ".join(norm.split())


def _long_form(words: list[str], short: str) -> str | None:
    """The words an abbreviation stands for (Schwartz and Hearst, PSB 2003): the shortest
    run of preceding words holding its letters in order, the first one starting a word."""
    window = " ".join(words[-min(len(short) + 5, len(short) * 2) :])
    text = unicodedata.normalize("NFKC", window).casefold()
    letters = [c for c in short.casefold() if c.isalnum()]
    i = len(text) - 1
    for n in range(len(letters) - 1, -1, -1):
        c = letters[n]
        while i >= 0 and (text[i] != c or (n == 0 and i > 0 and text[i - 1].isalnum())):
            i -= 1
        if i < 0:
            return None
        i -= 1
    start = text.rfind(" ", 0, i + 1) + 1
    long = window[start:].strip(" ,;:-")
    return long or None


def is_total(title: str) -> bool:
    """A title that names the whole population.

    >>> [is_total(t) for t in ("Total", "Total Title", "All Participants", "Placebo")]
    [True, True, True, False]
    """
    return bool(_TOTAL.match(normalise_label(title)))


def analysis_set(title: str) -> tuple[str, str] | None:
    """(title without the suffix, analysis set) when the title ends with an analysis set.

    >>> analysis_set("Drug (FAS)"), analysis_set("Placebo - ITT Population")
    (('Drug', 'full analysis set'), ('Placebo', 'intention to treat'))
    """
    m = _SET_SUFFIX.match(normalise_label(title))
    if not m:
        return None
    raw = re.sub(r"\s*(?:\([^()]*\)|\[[^\]]*\]|[-–—:,][^-–—:,]*)\s*$", "", title).strip()
    rest = raw if raw and normalise_label(raw) == m.group("rest") else m.group("rest")
    return rest, _ANALYSIS_SETS[m.group("set")]


class GroupMatcher:
    """Matches results groups to the arms of one record."""

    def __init__(self, arms: list[ArmText], abbreviations: Abbreviations) -> None:
        self.arms = arms
        self.abbr = abbreviations
        self._keys = [self.key(a.label) for a in arms]
        self._treatments = [{self.key(t) for t in a.treatments if self.key(t)} for a in arms]

    def key(self, text: str) -> str:
        """A title folded for comparison: case, punctuation, numbering, abbreviations."""
        return _strip_enumeration(self.abbr.fold(text))

    def add_arm(self, arm: ArmText) -> int:
        """An arm created for an unmatched group, matchable by later groups of its title."""
        self.arms.append(arm)
        self._keys.append(self.key(arm.label))
        self._treatments.append(set())
        return len(self.arms) - 1

    def _same(self, key: str, among: range | None = None) -> list[int]:
        return [i for i, k in enumerate(self._keys) if k == key and (among is None or i in among)]

    def match(
        self, title: str, description: str | None, *, others_in_module: int, registered: int
    ) -> GroupMatch:
        """The decision for a group titled ``title`` (``registered``: how many of
        ``self.arms`` are registered arm groups; the rest were made for earlier groups)."""
        registered_arms = range(registered)
        if others_in_module > 0 and is_total(title):
            return GroupMatch("population", "a title that names the whole population", tier=0)
        key = self.key(title)
        hits = self._same(key)
        if len(hits) == 1:
            return GroupMatch("arm", self._how_same(title, hits[0]), arm=hits[0], tier=1)
        suffix = analysis_set(title)
        if suffix is not None:
            hits = self._same(self.key(suffix[0]))
            if len(hits) == 1:
                return GroupMatch(
                    "arm",
                    f"the same title apart from its analysis set, {suffix[1]}",
                    arm=hits[0],
                    analysis_set=suffix[1],
                    tier=2,
                )
        sequence = self._sequence(title, registered_arms)
        if sequence:
            return GroupMatch(
                "sequence",
                "names a sequence of treatments: " + " -> ".join(p.text for p in sequence),
                sequence=sequence,
                tier=3,
            )
        if ":" in title:
            head, qualifier = (s.strip() for s in title.split(":", 1))
            hits = self._same(self.key(head))
            if len(hits) == 1 and qualifier:
                return GroupMatch(
                    "arm",
                    f"the arm's title with the qualifier '{qualifier}', kept as a subgroup",
                    arm=hits[0],
                    qualifier=qualifier,
                    tier=4,
                )
        by_description = self._by_description(description, registered_arms)
        if by_description is not None:
            return GroupMatch("arm", "the arm's registered description", arm=by_description, tier=5)
        contained = self._by_containment(key, registered_arms)
        if contained is not None:
            return GroupMatch("arm", contained[1], arm=contained[0], tier=6)
        scored = sorted(
            (
                (difflib.SequenceMatcher(None, key, self._keys[i]).ratio(), i)
                for i in registered_arms
            ),
            reverse=True,
        )
        if (
            scored
            and scored[0][0] >= SIMILAR_TITLE
            and (len(scored) == 1 or scored[1][0] < SIMILAR_TITLE)
        ):
            score, i = scored[0]
            return GroupMatch(
                "arm",
                f"a title similar to the arm's label, difflib ratio {score:.2f}",
                arm=i,
                tier=7,
            )
        return GroupMatch("unmatched", "no title, description or label names exactly one arm")

    def _how_same(self, title: str, arm: int) -> str:
        mine, theirs = normalise_label(title), normalise_label(self.arms[arm].label)
        if mine == theirs:
            return "the same title"
        if _strip_enumeration(mine) == _strip_enumeration(theirs):
            return "the same title apart from numbering"
        return "the same title once the abbreviations and other names the record defines are read"

    def _by_description(self, description: str | None, among: range) -> int | None:
        mine = normalise_label(description or "")
        if len(mine) < 20:
            return None
        hits = []
        for i in among:
            theirs = normalise_label(self.arms[i].description or "")
            if len(theirs) >= 20 and (mine == theirs or mine.startswith(theirs + " ")):
                hits.append(i)
        return hits[0] if len(hits) == 1 else None

    def _by_containment(self, key: str, among: range) -> tuple[int, str] | None:
        if not key or key in _GENERIC:
            return None

        def contains(outer: str, inner: str) -> bool:
            return bool(inner) and re.search(rf"(^| ){re.escape(inner)}( |$)", outer) is not None

        inside = [
            i for i in among if self._keys[i] not in _GENERIC and contains(key, self._keys[i])
        ]
        if inside:
            longest = max(inside, key=lambda i: len(self._keys[i]))
            if all(contains(self._keys[longest], self._keys[i]) for i in inside):
                return longest, "a title that contains the arm's label"
            return None
        around = [i for i in among if contains(self._keys[i], key)]
        if len(around) == 1:
            return around[0], "a title contained in the arm's label"
        return None

    def _part(self, text: str, among: range) -> tuple[int | None, str | None]:
        """The registered arm, or else the intervention, one part of a sequence names."""
        key = " ".join(_PHASE_WORDS.sub(" ", self.key(text)).split())
        if not key:
            return None, None
        hits = self._same(key, among)
        if len(hits) == 1:
            return hits[0], None
        hit = self._by_containment(key, among)
        if hit is not None:
            return hit[0], None
        names = {t for i in among for t in self._treatments[i]}
        named = [t for t in names if t == key or re.search(rf"(^| ){re.escape(t)}( |$)", key)]
        if len(named) == 1:
            return None, named[0]
        return None, None

    def _sequence(self, title: str, among: range) -> tuple[SequencePart, ...]:
        for splitter, arms_only in ((_SEQUENCE, False), (re.compile(r"\s*/\s*"), True)):
            parts = [p.strip() for p in splitter.split(title) if p and p.strip()]
            if len(parts) < 2:
                continue
            resolved = [(p, *self._part(p, among)) for p in parts]
            if any(
                arm is None and (arms_only or treatment is None) for _, arm, treatment in resolved
            ):
                continue
            targets = {(arm, treatment) for _, arm, treatment in resolved}
            if len(targets) < 2 and not arms_only:
                # "Drug to Drug": one treatment continued, named twice, is still a sequence
                # only when the title says so with an arrow; "A to A" alone proves nothing.
                if not re.search(r"->|→|=>|⇒|>", title):
                    continue
            return tuple(SequencePart(p, arm, treatment) for p, arm, treatment in resolved)
        return ()


def group_title(group: dict[str, Any]) -> str:
    return _text(group.get("title")) or str(group.get("id") or "")
