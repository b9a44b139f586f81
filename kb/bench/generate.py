"""Synthetic knowledge bases for benchmarks: realistic in shape, plainly not real.

Every generated study is titled "Synthetic benchmark study ..." and sourced to
an ``example.org`` address, so it can never be mistaken for clinical evidence.
The proportions follow the shipped lupus corpus: mostly two-arm randomised
trials, some three-arm and single-arm studies, two or three outcomes, results
for every arm, a comparison per dichotomous outcome, serious adverse events per arm and one
claim per study, with provenance on every record. Files are written as Turtle
text directly (no rdflib graph in between) because a 10,000-study knowledge
base must be made in seconds, not minutes; they validate under the shapes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kb.fileio import atomic_write_text

CONDITIONS = [
    "systemic-lupus-erythematosus",
    "active-systemic-lupus-erythematosus",
    "lupus-nephritis",
    "proliferative-lupus-nephritis",
    "refractory-lupus-nephritis",
]
AGENTS = [
    "belimumab",
    "voclosporin",
    "obinutuzumab",
    "anifrolumab",
    "mycophenolate-mofetil",
    "cyclophosphamide",
    "azathioprine",
    "hydroxychloroquine",
    "low-dose-interleukin-2",
]
DICHOTOMOUS = [
    "sri-4",
    "bicla",
    "complete-renal-response",
    "overall-renal-response",
    "flare",
    "remission",
    "proteinuria-improvement-50",
]
#: outcome concept -> (unit, typical mean, typical SD)
CONTINUOUS = {
    "sledai": ("{score}", 8.0, 4.0),
    "egfr": ("mL/min/{1.73_m2}", 80.0, 20.0),
    "upcr": ("mg/mg", 2.5, 1.5),
    "anti-dsdna": ("[iU]/mL", 120.0, 90.0),
    "complement-c3": ("g/L", 0.8, 0.25),
}

#: Bumped whenever the generated studies change, so the benchmark regenerates
#: knowledge bases it kept from an earlier version.
GENERATOR_VERSION = 2

PREFIXES = """@base <https://w3id.org/evidence-kb/resource/> .
@prefix agent: <https://w3id.org/evidence-kb/vocab/agent/> .
@prefix cond: <https://w3id.org/evidence-kb/vocab/condition/> .
@prefix design: <https://w3id.org/evidence-kb/vocab/design/> .
@prefix ekb: <https://w3id.org/evidence-kb/ontology#> .
@prefix outc: <https://w3id.org/evidence-kb/vocab/outcome/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix srctype: <https://w3id.org/evidence-kb/vocab/source-type/> .
@prefix term: <https://w3id.org/evidence-kb/vocab/term/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


@dataclass
class _Arm:
    key: str
    role: str
    agent: str
    n: int


def _dec(value: float, places: int = 2) -> str:
    """A Turtle decimal literal (always with a point)."""
    text = f"{value:.{places}f}"
    return text if "." in text else text + ".0"


class _Writer:
    """Collects the Turtle of one study, adding provenance to every record."""

    def __init__(self, study: str) -> None:
        self.study = study
        self.lines: list[str] = []

    def iri(self, local: str = "") -> str:
        return f"<study/{self.study}{'/' + local if local else ''}>"

    def record(self, local: str, rdf_type: str, props: list[tuple[str, str]], locator: str) -> None:
        # Source, locator, who and when on every record, as in the shipped corpus
        # (a record without who/when is an Info finding of the shapes).
        props = props + [
            ("ekb:source", self.iri("source/article")),
            ("ekb:locator", f'"{locator}"'),
            ("ekb:extractedBy", '"ekb bench generator"'),
            ("ekb:extractedOn", '"2026-01-01"^^xsd:date'),
        ]
        self.lines.append(f"{self.iri(local)} a {rdf_type} ;")
        self.lines.extend(f"    {p} {o} ;" for p, o in props[:-1])
        p, o = props[-1]
        self.lines.append(f"    {p} {o} .")
        self.lines.append("")


def generate_study(index: int, rng: random.Random) -> tuple[str, str]:
    """One synthetic study: its id and its Turtle text."""
    study = f"syn-{index:06d}"
    w = _Writer(study)
    kind = rng.random()
    condition = rng.choice(CONDITIONS)
    agent = rng.choice(AGENTS)
    if kind < 0.2:
        design, blinding = "single-arm-trial", "open-label"
        arms = [_Arm("treated", "single-arm", agent, rng.randint(8, 60))]
    else:
        design, blinding = (
            "randomised-controlled-trial",
            rng.choice(["double-blind", "double-blind", "open-label"]),
        )
        control_role, control_agent = rng.choice(
            [("placebo-comparator", "placebo"), ("active-comparator", rng.choice(AGENTS))]
        )
        n = rng.randint(20, 300)
        arms = [
            _Arm("experimental", "experimental", agent, n),
            _Arm("control", control_role, control_agent, n),
        ]
        if kind > 0.9:
            arms.insert(1, _Arm("experimental-high", "experimental", agent, n))
    enrolled = sum(a.n for a in arms)
    n_outcomes = rng.randint(2, 3)
    outcomes = rng.sample(DICHOTOMOUS, k=1 + (n_outcomes > 2 and rng.random() < 0.5))
    outcomes += rng.sample(sorted(CONTINUOUS), k=max(0, n_outcomes - len(outcomes)))
    weeks = rng.choice([12, 24, 52, 76, 104])

    w.lines.append(f"{w.iri('source/article')} a ekb:Source ;")
    w.lines.append(f'    ekb:title "Synthetic benchmark source {index} (not a real publication)" ;')
    w.lines.append("    ekb:sourceType srctype:journal-abstract ;")
    w.lines.append(f'    ekb:url "https://example.org/synthetic/{study}"^^xsd:anyURI .')
    w.lines.append("")

    arm_iris = " , ".join(w.iri(f"arm/{a.key}") for a in arms)
    outcome_iris = " , ".join(w.iri(f"outcome/{o}") for o in outcomes)
    result_locals = [f"result/{o}-{a.key}" for o in outcomes for a in arms]
    comparison_locals = [f"comparison/{o}" for o in outcomes if o in DICHOTOMOUS and len(arms) > 1]
    safety_locals = [f"safety/sae-{a.key}" for a in arms]
    study_props = [
        ("ekb:studyId", f'"{study}"'),
        ("ekb:title", f'"Synthetic benchmark study {index} (not real data)"'),
        ("ekb:year", f'"{2000 + index % 25}"^^xsd:gYear'),
        ("ekb:design", f"design:{design}"),
        ("ekb:blinding", f"term:{blinding}"),
        ("ekb:followUpWeeks", _dec(weeks, 1)),
        ("ekb:reportedIn", w.iri("source/article")),
        ("ekb:hasPopulation", w.iri("population")),
        ("ekb:hasArm", arm_iris),
        ("ekb:hasOutcome", outcome_iris),
        ("ekb:hasResult", " , ".join(w.iri(r) for r in result_locals)),
        ("ekb:hasSafetyFinding", " , ".join(w.iri(s) for s in safety_locals)),
        ("ekb:hasClaim", w.iri("claim/conclusion")),
    ]
    if comparison_locals:
        study_props.append(("ekb:hasComparison", " , ".join(w.iri(c) for c in comparison_locals)))
    w.record("", "ekb:Study", study_props, "abstract")
    w.record(
        "population",
        "ekb:Population",
        [
            ("ekb:condition", f"cond:{condition}"),
            ("ekb:enrolled", str(enrolled)),
            ("ekb:analysed", str(enrolled)),
        ],
        "abstract",
    )
    for arm in arms:
        w.record(
            f"arm/{arm.key}",
            "ekb:Arm",
            [
                ("rdfs:label", f'"{arm.agent.replace("-", " ")} ({arm.key})"'),
                ("ekb:armRole", f"term:{arm.role}"),
                ("ekb:n", str(arm.n)),
                ("ekb:receives", w.iri(f"arm/{arm.key}/intervention")),
            ],
            "table 1",
        )
        w.record(
            f"arm/{arm.key}/intervention",
            "ekb:Intervention",
            [
                ("ekb:agent", f"agent:{arm.agent}"),
                ("ekb:route", f"term:{rng.choice(['oral', 'intravenous', 'subcutaneous'])}"),
                ("ekb:durationWeeks", _dec(weeks, 1)),
            ],
            "methods",
        )
    for i, outcome in enumerate(outcomes):
        props = [
            ("rdfs:label", f'"{outcome} at week {weeks}"'),
            ("ekb:outcomeConcept", f"outc:{outcome}"),
            ("ekb:outcomeRole", "term:primary" if i == 0 else "term:secondary"),
            ("ekb:timepointWeeks", _dec(weeks, 1)),
        ]
        if outcome in CONTINUOUS:
            props.append(("ekb:unit", f'"{CONTINUOUS[outcome][0]}"'))
        w.record(f"outcome/{outcome}", "ekb:Outcome", props, "methods")
        for arm in arms:
            base = [
                ("ekb:arm", w.iri(f"arm/{arm.key}")),
                ("ekb:outcome", w.iri(f"outcome/{outcome}")),
                ("ekb:timepointWeeks", _dec(weeks, 1)),
            ]
            if outcome in DICHOTOMOUS:
                total = arm.n - rng.randint(0, max(1, arm.n // 20))
                events = rng.randint(0, total)
                values = [
                    ("ekb:events", str(events)),
                    ("ekb:total", str(total)),
                    ("ekb:percent", _dec(100.0 * events / total if total else 0.0)),
                ]
            else:
                _, mean, sd = CONTINUOUS[outcome]
                values = [
                    ("ekb:mean", _dec(rng.gauss(mean, sd / 3))),
                    ("ekb:sd", _dec(abs(rng.gauss(sd, sd / 5)))),
                    ("ekb:n", str(arm.n - rng.randint(0, max(1, arm.n // 20)))),
                ]
            w.record(f"result/{outcome}-{arm.key}", "ekb:Result", base + values, "table 2")
        if outcome in DICHOTOMOUS and len(arms) > 1:
            estimate = round(rng.lognormvariate(0.3, 0.4), 2)
            lower = round(estimate / rng.uniform(1.2, 2.0), 2)
            upper = round(estimate * rng.uniform(1.2, 2.0), 2)
            w.record(
                f"comparison/{outcome}",
                "ekb:Comparison",
                [
                    ("ekb:experimentalArm", w.iri(f"arm/{arms[0].key}")),
                    ("ekb:comparatorArm", w.iri(f"arm/{arms[-1].key}")),
                    ("ekb:outcome", w.iri(f"outcome/{outcome}")),
                    ("ekb:timepointWeeks", _dec(weeks, 1)),
                    ("ekb:effectMeasure", "term:odds-ratio"),
                    ("ekb:estimate", _dec(estimate)),
                    ("ekb:ciLower", _dec(lower)),
                    ("ekb:ciUpper", _dec(upper)),
                    ("ekb:ciLevel", "0.95"),
                    ("ekb:pValue", _dec(rng.uniform(0.0001, 0.9), 4)),
                ],
                "table 2",
            )
    for arm in arms:
        for kind_name, serious, term in (("sae", "true", "any serious adverse event"),):
            affected = rng.randint(0, max(1, arm.n // 4))
            w.record(
                f"safety/{kind_name}-{arm.key}",
                "ekb:SafetyFinding",
                [
                    ("ekb:arm", w.iri(f"arm/{arm.key}")),
                    ("ekb:eventTerm", f'"{term}"'),
                    ("ekb:serious", serious),
                    ("ekb:affected", str(affected)),
                    ("ekb:atRisk", str(arm.n)),
                ],
                "table 3",
            )
    certainty = "certainty-moderate" if design.startswith("randomised") else "certainty-very-low"
    reasons = (
        "term:imprecision"
        if design.startswith("randomised")
        else "term:no-comparator , term:small-sample"
    )
    w.record(
        "claim/conclusion",
        "ekb:Claim",
        [
            (
                "ekb:statement",
                f'"Synthetic claim {index}: {agent} compared on {outcomes[0]} (not real)."',
            ),
            ("ekb:claimType", "term:authors-conclusion"),
            ("ekb:aboutIntervention", f"agent:{agent}"),
            ("ekb:aboutCondition", f"cond:{condition}"),
            ("ekb:direction", f"term:{rng.choice(['benefit', 'no-clear-difference'])}"),
            ("ekb:supportedBy", w.iri(f"result/{outcomes[0]}-{arms[0].key}")),
            ("ekb:certainty", f"term:{certainty}"),
            ("ekb:certaintyReason", reasons),
        ],
        "conclusions",
    )
    return study, PREFIXES + "\n" + "\n".join(w.lines)


def iter_studies(n: int, seed: int = 0) -> Iterator[tuple[str, str]]:
    """``n`` synthetic studies, the same for the same ``seed``."""
    rng = random.Random(seed)
    for index in range(1, n + 1):
        yield generate_study(index, rng)


def write_studies(folder: Path, first: int, count: int, seed: int = 0) -> int:
    """Write studies ``first`` .. ``first + count - 1`` of the ``seed`` sequence into ``folder``.

    The studies are those :func:`generate_kb` writes for the same seed, so a
    large knowledge base can be made (and pushed) in parts.
    """
    studies = folder / "studies"
    studies.mkdir(parents=True, exist_ok=True)
    written = 0
    for study, text in iter_studies(first + count - 1, seed):
        if int(study.rsplit("-", 1)[1]) >= first:
            atomic_write_text(studies / f"{study}.ttl", text)
            written += 1
    return written


def generate_kb(n: int, folder: Path, seed: int = 0) -> int:
    """Write a knowledge base folder of ``n`` synthetic studies; returns the number written."""
    studies = folder / "studies"
    studies.mkdir(parents=True, exist_ok=True)
    count = 0
    for study, text in iter_studies(n, seed):
        atomic_write_text(studies / f"{study}.ttl", text)
        count += 1
    return count
