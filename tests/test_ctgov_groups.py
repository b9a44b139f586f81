"""Results groups -> registered arms: by evidence, checked against the records themselves.

Real records are in ``tests/data/ctgov/registry`` (public ClinicalTrials.gov data, byte for
byte). ``tests/data/ctgov/switching.json`` is **synthetic** (NCT99999904 is no registered
study; its numbers describe no trial): none of the real records has a switching group, an
analysis-set suffix or an abbreviation defined in an arm description, so it has them all.

The cross-check at the end is independent of the importer: for every record it resolves
each imported number's locator in the JSON, reads the group id there and the group's title
in its own module or measure, and looks the arm up in a table written here by reading the
records (not by the importer's rules).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

from kb.cli import cli
from kb.importers.ctgov import map_record
from kb.importers.ctgov.matching import Abbreviations, ArmText, GroupMatcher, analysis_set, is_total
from kb.namespaces import AGENT, EKB, RES

DATA = Path(__file__).resolve().parent / "data" / "ctgov"
REGISTRY = DATA / "registry"
SWITCHING = DATA / "switching.json"


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def at_path(record: Any, path: str) -> Any:
    value = record
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        value = value[name] if name else value[int(index)]
    return value


def label(graph: Graph, node: Any) -> str | None:
    return None if node is None else str(graph.value(node, RDFS.label))


def by_locator(graph: Graph, locator: str) -> URIRef | None:
    return next(graph.subjects(EKB.locator, Literal(locator)), None)  # type: ignore[arg-type]


def arm_of(graph: Graph, locator: str) -> str | None:
    node = by_locator(graph, locator)
    assert node is not None, locator
    return label(graph, graph.value(node, EKB.arm))


@pytest.fixture(scope="module")
def switching(tmp_path_factory: pytest.TempPathFactory) -> tuple[Graph, str]:
    """The synthetic record imported through the command line into a fresh KB."""
    kb = tmp_path_factory.mktemp("switching") / "kb"
    (kb / "studies").mkdir(parents=True)
    result = run("import", "ctgov", str(SWITCHING), "--kb", str(kb))
    assert result.exit_code == 0, result.output
    graph = Graph().parse(kb / "studies" / "nct99999904.ttl", format="turtle")
    return graph, result.stderr


FLOW = "resultsSection.participantFlowModule"
OM = "resultsSection.outcomeMeasuresModule.outcomeMeasures"
BASE = "resultsSection.baselineCharacteristicsModule.measures[0].classes[0].categories[0]"
AE = "resultsSection.adverseEventsModule"
CELL = "classes[0].categories[0].measurements"


# --- synthetic record: each case of the issue ----------------------------------------------


def test_a_switching_group_is_its_own_arm_receiving_both_treatments_in_order(
    switching: tuple[Graph, str],
) -> None:
    graph, _ = switching
    arm = graph.value(by_locator(graph, f"{OM}[1].{CELL}[0]"), EKB.arm)
    assert label(graph, arm) == "Placebo -> OL CZP 200 mg"  # not the placebo arm
    steps = sorted(
        (str(graph.value(iv, EKB.scheduleText)), graph.value(iv, EKB.agent))
        for iv in graph.objects(arm, EKB.receives)
    )
    assert [s[0].split(" in sequence")[0] for s in steps] == [
        "treatment 1 of 2",
        "treatment 2 of 2",
    ]
    assert steps[0][1] == AGENT["placebo"]
    assert "certolizumab" in str(steps[1][1])
    # "Placebo/CZP 200 mg" among the adverse events names the same sequence: the same arm.
    assert graph.value(by_locator(graph, f"{AE}.seriousEvents[0].stats[2]"), EKB.arm) == arm


def test_an_extension_group_takes_its_n_from_the_period_where_it_started(
    switching: tuple[Graph, str],
) -> None:
    graph, _ = switching
    record = json.loads(SWITCHING.read_text(encoding="utf-8"))
    periods = record["resultsSection"]["participantFlowModule"]["periods"]
    sizes = {label(graph, a): graph.value(a, EKB.n) for a in graph.subjects(RDF.type, EKB.Arm)}
    assert periods[0]["milestones"][0]["achievements"][2]["numSubjects"] == "0"
    assert sizes["Placebo -> OL CZP 200 mg"] == Literal(
        int(periods[1]["milestones"][0]["achievements"][2]["numSubjects"])
    )
    assert sizes["Certolizumab Pegol 200 mg"] == Literal(10)
    # The extension's STARTED of a group that began earlier is out of its first number.
    node = by_locator(graph, f"{FLOW}.periods[1].milestones[0].achievements[0]")
    assert (graph.value(node, EKB.events), graph.value(node, EKB.total)) == (
        Literal(9),
        Literal(10),
    )


def test_analysis_set_variants_are_one_arm_with_the_analysis_population_recorded(
    switching: tuple[Graph, str],
) -> None:
    graph, _ = switching
    node = by_locator(graph, f"{OM}[0].{CELL}[0]")
    assert label(graph, graph.value(node, EKB.arm)) == "Certolizumab Pegol 200 mg"
    assert str(graph.value(node, EKB.analysisPopulation)).startswith("full analysis set: ")
    assert arm_of(graph, f"{BASE}.measurements[0]") == "Certolizumab Pegol 200 mg"  # "(SS)"
    assert arm_of(graph, f"{BASE}.measurements[1]") == "Placebo"  # "Placebo (SS)"


def test_an_abbreviation_defined_in_the_arm_description_matches(
    switching: tuple[Graph, str],
) -> None:
    graph, _ = switching
    # FG000 "CZP 200 mg"; the arm is "Certolizumab Pegol 200 mg", "(CZP)" defined in its text.
    arm = next(graph.subjects(RDFS.label, Literal("Certolizumab Pegol 200 mg")))
    assert graph.value(arm, EKB.n) == Literal(10)
    assert "FG000" in str(graph.value(arm, EKB.note))


def test_total_groups_in_any_spelling_are_the_whole_population(
    switching: tuple[Graph, str],
) -> None:
    graph, _ = switching
    node = by_locator(graph, f"{BASE}.measurements[2]")  # "All Participants"
    assert (node, EKB.arm, None) not in graph
    assert by_locator(graph, f"{OM}[1].{CELL}[2]") is None  # "Total": no arm's result
    outcome = URIRef(f"{RES}study/nct99999904/outcome/om1")
    assert "'Total' is the whole population" in str(graph.value(outcome, EKB.note))
    for title in ("Total", "Total Title", "TOTAL", "All participants", "All Subjects", "Overall"):
        assert is_total(title), title
    assert not is_total("Total knee replacement")


def test_titles_that_differ_by_a_full_stop_or_case_match(switching: tuple[Graph, str]) -> None:
    graph, _ = switching
    assert arm_of(graph, f"{OM}[1].{CELL}[1]") == "Certolizumab Pegol 200 mg"  # "CZP 200 mg."
    assert arm_of(graph, f"{AE}.seriousEvents[0].stats[1]") == "Placebo"  # "placebo"


def test_an_unmatched_group_is_kept_as_its_own_arm_and_warned_about(
    switching: tuple[Graph, str],
) -> None:
    graph, stderr = switching
    assert arm_of(graph, f"{AE}.seriousEvents[0].stats[3]") == "Sentinel dosing cohort"
    assert (
        "warning: results group 'Sentinel dosing cohort' "
        f"({AE}.eventGroups[3]) matches no registered arm group" in stderr
    )
    assert re.search(r"NCT99999904: .*; 1 warning$", stderr.splitlines()[0])


def test_no_arm_holds_two_at_risk_denominators_for_one_event(
    switching: tuple[Graph, str], tmp_path: Path
) -> None:
    graph, _ = switching
    seen: dict[tuple[Any, str], set[int]] = {}
    for node in graph.subjects(RDF.type, EKB.SafetyFinding):
        key = (graph.value(node, EKB.arm), str(graph.value(node, EKB.eventTerm)))
        seen.setdefault(key, set()).add(int(graph.value(node, EKB.atRisk)))  # type: ignore[arg-type]
    assert all(len(v) == 1 for v in seen.values())
    # Two event groups of one arm ("Placebo" and "Placebo (SS)", 10 and 9 at risk): the
    # weaker match is kept apart, with a warning, instead of mixing denominators.
    record = json.loads(SWITCHING.read_text(encoding="utf-8"))
    groups = record["resultsSection"]["adverseEventsModule"]["eventGroups"]
    groups[3]["title"] = "Placebo (SS)"
    record["resultsSection"]["adverseEventsModule"]["seriousEvents"][0]["stats"][3]["numAtRisk"] = 9
    groups[3]["seriousNumAtRisk"] = 9
    imported = map_record(record)
    node = by_locator(imported.graph, f"{AE}.seriousEvents[0].stats[3]")
    assert label(imported.graph, imported.graph.value(node, EKB.arm)) == "Placebo (SS)"
    assert any("'Placebo (SS)'" in w for w in imported.warnings)


# --- the matcher on its own (synthetic titles) ----------------------------------------------


def matcher(*labels: str, texts: tuple[str, ...] = ()) -> GroupMatcher:
    return GroupMatcher([ArmText(x, None, (x,)) for x in labels], Abbreviations(list(texts)))


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("Placebo -> OL Drug X", "sequence"),
        ("Placebo/Drug X", "sequence"),
        ("Placebo then Drug X", "sequence"),
        ("Placebo Switched to Drug X", "sequence"),
        ("Drug X", "arm"),
        ("Placebo", "arm"),
    ],
)
def test_a_title_naming_a_sequence_of_two_arms_is_a_switch(title: str, kind: str) -> None:
    match = matcher("Placebo", "Drug X").match(title, None, others_in_module=2, registered=2)
    assert match.kind == kind


def test_a_combination_or_a_range_is_not_a_switch() -> None:
    m = matcher("Lopinavir/Ritonavir", "Placebo")
    assert m.match("Lopinavir/Ritonavir", None, others_in_module=1, registered=2).arm == 0
    age = matcher("Cohort 1: Age 12 to <18 Years", "Cohort 2: Age 2 to <12 Years")
    got = age.match("Cohort 1: Age 12 to <18 Years", None, others_in_module=1, registered=2)
    assert (got.kind, got.arm) == ("arm", 0)


def test_analysis_set_suffixes_are_read() -> None:
    assert analysis_set("Drug (FAS)") == ("Drug", "full analysis set")
    assert analysis_set("Drug - Safety Population") == ("Drug", "safety set")
    assert analysis_set("Placebo [mITT]") == ("Placebo", "modified intention to treat")
    assert analysis_set("Placebo") is None


def test_an_ambiguous_substring_is_no_match() -> None:
    m = matcher("Drug 5 mg", "Drug 10 mg", "Placebo")
    assert m.match("Drug", None, others_in_module=2, registered=3).kind == "unmatched"
    hit = m.match("Drug 10 mg + rescue", None, others_in_module=2, registered=3)
    assert hit.arm == 1


# --- real records ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mapped() -> dict[str, tuple[Graph, dict[str, Any], list[str]]]:
    out = {}
    for f in sorted(REGISTRY.glob("*.json")):
        record = json.loads(f.read_text(encoding="utf-8"))
        imported = map_record(record)
        out[f.stem] = (imported.graph, record, imported.warnings)
    return out


def test_a_flow_group_with_another_title_matches_by_its_registered_description(
    mapped: dict[str, Any],
) -> None:
    graph, record, warnings = mapped["NCT02299791"]
    groups = record["resultsSection"]["participantFlowModule"]["groups"]
    assert groups[1]["title"] == "Late Interventions Number of Patients"
    arm = next(graph.subjects(RDFS.label, Literal("Late implementation")))
    assert graph.value(arm, EKB.n) == Literal(2803)
    assert "registered description" in str(graph.value(arm, EKB.note)) or any(
        "registered description" in str(n) for n in graph.objects(None, EKB.note)
    )
    assert warnings == []


def test_an_event_group_with_a_trailing_full_stop_is_its_flow_twin(mapped: dict[str, Any]) -> None:
    graph, record, warnings = mapped["NCT04431453"]
    groups = record["resultsSection"]["adverseEventsModule"]["eventGroups"]
    assert groups[3]["title"].endswith(".")
    flow_title = record["resultsSection"]["participantFlowModule"]["groups"][3]["title"]
    assert groups[3]["title"] == flow_title + "."
    events = record["resultsSection"]["adverseEventsModule"]["otherEvents"]
    n, s = next(
        (n, s)
        for n, ev in enumerate(events)
        for s, st in enumerate(ev["stats"])
        if st["groupId"] == groups[3]["id"]
    )
    assert arm_of(graph, f"{AE}.otherEvents[{n}].stats[{s}]") == flow_title
    arms = {label(graph, a) for a in graph.subjects(RDF.type, EKB.Arm)}
    assert len(arms) == 8 and warnings == []


def test_measure_groups_named_after_the_flow_group_are_its_subgroups(
    mapped: dict[str, Any],
) -> None:
    graph, _, warnings = mapped["NCT05594173"]
    node = by_locator(graph, f"{OM}[0].{CELL}[0]")
    assert label(graph, graph.value(node, EKB.arm)) == "Healthy Participants"
    assert str(graph.value(node, EKB.subgroup)).startswith("Carrot")
    # The record registers no arm group at all: its one participant group is warned about.
    assert len(warnings) == 1 and "'Healthy Participants'" in warnings[0]


# --- the independent cross-check -------------------------------------------------------------

# Group title -> registered arm label (None: the whole population), read from the records
# by hand. Titles equal to an arm label are that arm and are not listed.
EXPECTED_ARMS: dict[str, dict[str, str | None]] = {
    "NCT00763412": {
        "Placebo": "1 Placebo",
        "2. Repaglinide": "2. repaglinide",
        "Repaglinide": "2. repaglinide",
        "Patients Who Received Placebo": "1 Placebo",
        "Patients Who Received Repaglinide": "2. repaglinide",
    },
    "NCT02299791": {
        "Early Intervention Number of Patients": "Early Intervention",
        "Late Interventions Number of Patients": "Late implementation",
        "Late Implementation": "Late implementation",
    },
    "NCT02513394": {
        "Palbociclib Plus Endocrine Therapy (Arm A)": "Arm A",
        "Endocrine Therapy Alone (Arm B)": "Arm B",
    },
    "NCT04431453": {
        "RDV,Cohort 5: Age ≥14 - <28 Days of Age, Gestational Age >37 Weeks, and Weight at "
        "Baseline ≥2.5 kg": "RDV, Cohort 5: Age ≥14 - <28 Days of Age, Gestational Age >37 "
        "Weeks, and Weight at Baseline ≥2.5 kg",
        "RDV, Cohort 4: Age ≥ 28 Days to < 18 Years and Weight ≥ 3 kg to < 12 kg.": "RDV, "
        "Cohort 4: Age ≥ 28 Days to < 18 Years and Weight ≥ 3 kg to < 12 kg",
    },
    # No registered arm group: the participant group (kept as its own, warned) is the arm.
    "NCT05594173": {
        title: "Healthy Participants"
        for title in (
            "Healthy Participants: Carrot",
            "Healthy Participants: Cracker",
            "Healthy Participants: Cracker With Barium Paste",
            "Healthy Participants: Gummy Candy",
            "Healthy Participants: Minced and Moist Barium Stimulus",
            "Healthy Participants: Soft and Bite-sized Barium Stimulus",
        )
    },
}
TOTALS = {"Total"}


def _group_title(record: dict[str, Any], locator: str) -> tuple[str, str]:
    """(group id, its title in its own measure or module) of the value at ``locator``."""
    value = at_path(record, locator)
    if ".eventGroups[" in locator and ".stats[" not in locator:
        gid = value["id"]
    else:
        gid = value["groupId"]
    if ".outcomeMeasures[" in locator:
        scope = at_path(record, locator.split(".classes[")[0].split(".analyses[")[0])["groups"]
    elif ".participantFlowModule" in locator:
        scope = record["resultsSection"]["participantFlowModule"]["groups"]
    elif ".baselineCharacteristicsModule" in locator:
        scope = record["resultsSection"]["baselineCharacteristicsModule"]["groups"]
    else:
        scope = record["resultsSection"]["adverseEventsModule"]["eventGroups"]
    return gid, next(g["title"] for g in scope if g["id"] == gid)


def _numbers(graph: Graph, node: Any, props: tuple[URIRef, ...]) -> set[Decimal]:
    return {Decimal(str(graph.value(node, p))) for p in props if (node, p, None) in graph}


VALUE_PROPS = (EKB.events, EKB.percent, EKB.mean, EKB.median, EKB.followUpValue, EKB.n)


@pytest.mark.parametrize("nct", sorted(f.stem for f in REGISTRY.glob("*.json")))
def test_every_number_is_the_records_and_under_the_right_arm(
    mapped: dict[str, Any], nct: str
) -> None:
    graph, record, _ = mapped[nct]
    arm_labels = [
        a["label"]
        for a in record["protocolSection"].get("armsInterventionsModule", {}).get("armGroups", [])
    ]
    expected = EXPECTED_ARMS.get(nct, {})
    checked = 0
    for node, locator in graph.subject_objects(EKB.locator):
        locator = str(locator)
        if locator.startswith("protocolSection.armsInterventionsModule.armGroups["):
            if (node, RDF.type, EKB.Arm) in graph:
                assert label(graph, node) == at_path(record, locator)["label"]
                checked += 1
            continue
        kinds = {graph.value(node, RDF.type)}
        if not locator.startswith("resultsSection.") or not kinds & {
            EKB.Result,
            EKB.SafetyFinding,
            EKB.BaselineCharacteristic,
        }:
            continue
        gid, title = _group_title(record, locator)
        want = expected.get(title, None if title in TOTALS else title)
        if want is not None and want not in arm_labels and nct != "NCT05594173":
            pytest.fail(f"{nct}: no expected arm for group {gid} '{title}' at {locator}")
        assert label(graph, graph.value(node, EKB.arm)) == want, (locator, gid, title)
        value = at_path(record, locator)
        if ".stats[" in locator:
            assert graph.value(node, EKB.affected) == Literal(value["numAffected"])
            if (node, EKB.qualityFlag, None) not in graph:
                assert graph.value(node, EKB.atRisk) == Literal(value["numAtRisk"])
        elif ".eventGroups[" in locator:
            prefix = str(node).rsplit("-", 2)[-2]
            for key, prop in (("NumAffected", EKB.affected), ("NumAtRisk", EKB.atRisk)):
                if prefix + key in value and (node, EKB.qualityFlag, None) not in graph:
                    assert graph.value(node, prop) == Literal(value[prefix + key]), locator
        elif "numSubjects" in value:
            assert _numbers(graph, node, (EKB.events,)) == {Decimal(value["numSubjects"])}
        else:
            assert Decimal(value["value"]) in _numbers(graph, node, VALUE_PROPS), locator
        checked += 1
    # Arm sizes: n is the STARTED number the arm's note names.
    for arm in graph.subjects(RDF.type, EKB.Arm):
        note = str(graph.value(arm, EKB.note))
        m = re.search(r"n is the number that STARTED \((FG\d+), (\S+?)\)", note)
        if m:
            assert graph.value(arm, EKB.n) == Literal(
                int(at_path(record, m.group(2))["numSubjects"])
            )
            checked += 1
    assert checked >= len(arm_labels)
