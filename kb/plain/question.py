"""Understanding a question: which conditions, treatments and outcomes it names,
whether it asks about benefit or safety, and which words it misspelled.

Words are matched against the vocabularies' labels, synonyms and plain labels
as whole words in any case ("sle", "il-2", "Lupus Nephritis"), longest label
first, so that "lupus nephritis" is read as one condition and not also as
"lupus". A word that matches nothing but is close to a label ("belimumb") is
read as that label, and the answer says so ("did you mean"); closeness is
difflib's ratio (the standard library's well-kept fuzzy matcher), at 0.8 or
more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import get_close_matches

from kb.namespaces import AGENT, COND, OUTC
from kb.plain.records import NAME_PATTERN, name_of, select
from kb.store import Store

#: The vocabularies a question is read against, by the kind of thing they name.
SCHEMES = {"condition": str(COND), "agent": str(AGENT), "outcome": str(OUTC)}

#: Words that ask about harms rather than benefit.
SAFETY_WORDS = set(
    """safe safer safety side side-effect side-effects risk risks risky harm harms harmful
    dangerous danger adverse tolerated tolerable toxic toxicity""".split()
)
#: Words that ask whether a treatment helps.
BENEFIT_WORDS = set(
    """work works working help helps helpful effective effectiveness efficacy benefit benefits
    improve improves better treat treats stop control cure heal reduce prevent""".split()
)

STOPWORDS = set(
    """a an and are be can could do does for from have has had help helps how i in is it its me
    my of on or should stop the there this to treat treatment treatments what which with would you
    your about any anything get good best cure is are was were will than that they them their
    know tell much many more most me we our us if when while people patients patient someone
    medicine medicines drug drugs therapy therapies option options take taking use used using
    need new really possible options evidence study studies trial trials doctor effect
    effects""".split()
)

#: A word this close to a label (difflib ratio) is read as that label.
TYPO_CUTOFF = 0.8
#: Shorter words are never corrected: too many labels are that close to them.
TYPO_MIN_LENGTH = 4


@dataclass
class ConceptLabel:
    concept: str
    label: str
    name: str
    kind: str = "condition"


@dataclass
class Correction:
    """A word of the question read as a label it is close to."""

    typed: str
    meant: str
    concept: str


@dataclass
class ParsedQuestion:
    """What a question names, as concepts of the vocabularies."""

    text: str
    conditions: list[ConceptLabel] = field(default_factory=list)
    agents: list[ConceptLabel] = field(default_factory=list)
    outcomes: list[ConceptLabel] = field(default_factory=list)
    #: "safety" and/or "benefit", from the question's words.
    focus: set[str] = field(default_factory=set)
    corrections: list[Correction] = field(default_factory=list)
    #: Words that are neither common words nor labels ("migraine").
    unknown: list[str] = field(default_factory=list)

    @property
    def understood(self) -> bool:
        return bool(self.conditions or self.agents or self.outcomes)

    @property
    def asks_safety(self) -> bool:
        return "safety" in self.focus

    def to_json(self) -> dict[str, object]:
        return {
            "conditions": sorted(c.concept for c in self.conditions),
            "agents": sorted(a.concept for a in self.agents),
            "outcomes": sorted(o.concept for o in self.outcomes),
            "focus": sorted(self.focus),
            "did_you_mean": [{"typed": c.typed, "meant": c.meant} for c in self.corrections],
            "unknown_words": self.unknown,
        }


def concept_labels(store: Store, scheme_prefix: str, kind: str = "condition") -> list[ConceptLabel]:
    """Every label of the scheme's concepts: preferred, synonyms and plain labels.

    A plain label with a gloss in brackets ("lupus of the kidneys (lupus
    nephritis)") gives both its parts as labels.
    """
    result = select(
        store,
        f"""SELECT ?c ?label ?c_plain ?c_pref WHERE {{
            ?c a skos:Concept ; skos:prefLabel|skos:altLabel|ekb:plainLabel ?label .
            FILTER(STRSTARTS(STR(?c), "{scheme_prefix}"))
            {NAME_PATTERN.format(c="?c", v="c")}
        }} ORDER BY ?c ?label""",
    )
    labels: list[ConceptLabel] = []
    seen: set[tuple[str, str]] = set()
    for r in result.rows:
        concept, label = str(r["c"]), str(r["label"])
        name = name_of(r, "c") or label
        parts = [label]
        gloss = re.fullmatch(r"(.+?)\s*\((.+)\)", label)
        if gloss:
            parts = [gloss.group(1), gloss.group(2)]
        for part in parts:
            key = (concept, part.lower())
            if key not in seen and len(part) > 1:
                seen.add(key)
                labels.append(ConceptLabel(concept, part, name, kind))
    return labels


def _label_pattern(label: str) -> str:
    """A whole-word pattern for a label that also takes its plural or singular."""
    body = re.escape(label)
    if label.lower().endswith("s") and len(label) > 4 and label[-2:].lower() != "ss":
        body = re.escape(label[:-1]) + "s?"
    elif label[-1:].isalpha() and not label.isupper():
        body += "s?"
    return rf"(?<![\w-]){body}(?![\w-])"


def _words(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in re.finditer(r"[A-Za-z0-9][\w'+-]*", text)]


def mentioned(labels: list[ConceptLabel], question: str) -> list[ConceptLabel]:
    """Concepts whose label appears in the question as whole words, in any case.

    Longer labels are matched first and take their words, so that "lupus
    nephritis" is one mention, not also one of "lupus".
    """
    found, _ = _match(labels, question)
    return found


def _match(
    labels: list[ConceptLabel], question: str
) -> tuple[list[ConceptLabel], list[tuple[int, int]]]:
    found: dict[str, ConceptLabel] = {}
    taken: list[tuple[int, int]] = []
    for item in sorted(labels, key=lambda x: (-len(x.label), x.label)):
        for m in re.finditer(_label_pattern(item.label), question, re.IGNORECASE):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            taken.append((m.start(), m.end()))
            found.setdefault(item.concept, item)
    return list(found.values()), taken


def parse_question(store: Store, question: str) -> ParsedQuestion:
    """Read a question into the conditions, treatments and outcomes it names."""
    parsed = ParsedQuestion(question)
    labels = {kind: concept_labels(store, prefix, kind) for kind, prefix in SCHEMES.items()}
    # One pass over every vocabulary, longest label first: "steroid dose" is the
    # outcome, not also the drug "steroids"; "lupus nephritis" is not also "lupus".
    found, spans = _match([item for items in labels.values() for item in items], question)
    for item in found:
        getattr(parsed, f"{item.kind}s").append(item)

    lowered = [(s, e, w.lower()) for s, e, w in _words(question)]
    for _, _, word in lowered:
        if word in SAFETY_WORDS:
            parsed.focus.add("safety")
        elif word in BENEFIT_WORDS:
            parsed.focus.add("benefit")
    leftover = [
        (s, e, w)
        for s, e, w in lowered
        if not any(s < end and start < e for start, end in spans)
        and w not in STOPWORDS | SAFETY_WORDS | BENEFIT_WORDS
    ]
    _correct_typos(parsed, labels, leftover)
    return parsed


def _correct_typos(
    parsed: ParsedQuestion,
    labels: dict[str, list[ConceptLabel]],
    leftover: list[tuple[int, int, str]],
) -> None:
    """Read words close to a label as that label, two-word labels first."""
    by_text: dict[str, ConceptLabel] = {}
    for items in labels.values():
        for item in items:
            by_text.setdefault(item.label.lower(), item)
    candidates = sorted(by_text)
    used: set[int] = set()
    pairs = [
        (i, f"{leftover[i][2]} {leftover[i + 1][2]}")
        for i in range(len(leftover) - 1)
        if leftover[i + 1][0] - leftover[i][1] <= 1
    ]
    for i, text in pairs:
        if i in used or i + 1 in used:
            continue
        close = get_close_matches(text, [c for c in candidates if " " in c], 1, TYPO_CUTOFF)
        if close:
            _take(parsed, by_text[close[0]], text)
            used |= {i, i + 1}
    for i, (_, _, word) in enumerate(leftover):
        if i in used:
            continue
        close = (
            get_close_matches(word, candidates, 1, TYPO_CUTOFF)
            if len(word) >= TYPO_MIN_LENGTH
            else []
        )
        if close:
            _take(parsed, by_text[close[0]], word)
        else:
            parsed.unknown.append(word)


def _take(parsed: ParsedQuestion, item: ConceptLabel, typed: str) -> None:
    bucket: list[ConceptLabel] = getattr(parsed, f"{item.kind}s")
    if item.concept not in {c.concept for c in bucket}:
        bucket.append(item)
    parsed.corrections.append(Correction(typed, item.label, item.concept))


def topic_words(question: str) -> str:
    words = [
        w for w in re.findall(r"[A-Za-z][A-Za-z0-9'-]*", question) if w.lower() not in STOPWORDS
    ]
    return " ".join(words) if words else question.strip()
