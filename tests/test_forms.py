from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Literal, URIRef
from rdflib.compare import isomorphic

from kb import paths
from kb.errors import CouldNotRun
from kb.form_template import DESIGNS, blank_form
from kb.forms import (
    ARMS,
    BASELINE,
    CLAIMS,
    COMPARISONS,
    INTERVENTIONS,
    OUTCOMES,
    POPULATION,
    PROVENANCE,
    RESULTS,
    SAFETY,
    SCHEMA_FILE,
    SOURCES,
    STUDY,
    FormError,
    NotAForm,
    Section,
    Vocabulary,
    decimal_lexical,
    dump_form,
    form_to_graph,
    graph_to_form,
    json_schema,
    json_schema_text,
    load_form_file,
    load_form_text,
)
from kb.kbdir import load_study_graph
from kb.namespaces import EKB, RES

FORMS = Path(__file__).parent / "data" / "forms"
RCT = FORMS / "two-arm-rct.yaml"


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return Vocabulary.for_kb(paths.shipped_kb_dir())


@pytest.fixture()
def rct() -> dict:
    return load_form_file(RCT)


def problems(data: dict, vocab: Vocabulary) -> list[str]:
    with pytest.raises(FormError) as info:
        form_to_graph(data, vocab, "form.yaml")
    return info.value.problems


# --- the schema and the blank form come from the same table ----------------


def test_shipped_schema_file_is_generated_from_the_field_table():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema_text()


def test_schema_is_a_valid_draft_2020_12_schema():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


@pytest.mark.parametrize("design", sorted(DESIGNS))
def test_blank_form_has_a_comment_on_every_field(design):
    text = blank_form(design)
    field_lines = [line for line in text.splitlines() if re.match(r"^\s*(- )?[a-z_]+:", line)]
    assert field_lines
    missing = [line for line in field_lines if "# " not in line]
    assert missing == [] or missing == ["form: ekb-study/1"]
    assert isinstance(yaml.safe_load(text), dict)


def test_blank_form_names_every_section_and_field_of_the_schema():
    text = blank_form("randomised")
    schema = json_schema()
    for name in schema["properties"]:
        assert re.search(rf"^{name}:", text, re.MULTILINE), name
    record_sections = (STUDY, SOURCES, POPULATION, BASELINE, ARMS, INTERVENTIONS, OUTCOMES, RESULTS)
    for section in (*record_sections, COMPARISONS, SAFETY, CLAIMS):
        for f in section.fields:
            assert re.search(rf"^\s*(- )?{f.name}:", text, re.MULTILINE), f"{section.name}.{f.name}"


def test_single_arm_blank_form_has_one_single_arm_and_no_comparisons():
    data = yaml.safe_load(blank_form("single-arm"))
    assert [a["role"] for a in data["arms"]] == ["single arm"]
    assert data["comparisons"] == []
    assert data["study"]["design"] == "single-arm trial"


def test_blank_form_added_as_is_reports_the_required_fields(vocab):
    found = problems(yaml.safe_load(blank_form("randomised")), vocab)
    assert "study.id: is required" in found
    assert "study.title: is required" in found
    assert "arms[1].label: is required" in found
    assert "sources[0].type: is required" in found


# --- a good form ---------------------------------------------------------------


def test_the_hand_written_rct_form_becomes_its_study_graph(rct, vocab):
    converted = form_to_graph(rct, vocab)
    g = converted.graph
    study = URIRef(f"{RES}study/aurora1-rovin-2021")
    arm = URIRef(f"{RES}study/aurora1-rovin-2021/arm/voclosporin")
    result = URIRef(f"{RES}study/aurora1-rovin-2021/result/crr-w52-voclosporin")
    assert converted.study_id == "aurora1-rovin-2021"
    assert (study, EKB.hasArm, arm) in g
    assert g.value(arm, EKB.n) == Literal(179)
    assert g.value(result, EKB.percent) == Literal(
        "40.8", datatype=URIRef(str(Literal(Decimal(1)).datatype))
    )
    assert g.value(result, EKB.arm) == arm
    # defaults fill provenance the record leaves blank
    assert g.value(result, EKB.source) == URIRef(
        f"{RES}study/aurora1-rovin-2021/source/abstract-2020"
    )
    assert str(g.value(result, EKB.extractedBy)) == "evidence-kb test fixture"
    # a number typed into a text field is kept as text
    assert g.value(study, EKB.phase) == Literal("3")
    assert str(g.value(study, EKB.design)).endswith("design/randomised-controlled-trial")


def test_concepts_resolve_by_label_synonym_or_curie(rct, vocab):
    rct["comparisons"][0]["measure"] = "odds ratio"
    a = form_to_graph(rct, vocab).graph
    rct["comparisons"][0]["measure"] = "term:odds-ratio"
    b = form_to_graph(rct, vocab).graph
    assert isomorphic(a, b)


def test_blank_fields_are_left_out(rct, vocab):
    rct["study"]["funding"] = None
    rct["study"]["status"] = "   "
    g = form_to_graph(rct, vocab).graph
    assert not list(g.triples((None, EKB.funding, None)))
    assert not list(g.triples((None, EKB.status, None)))


def test_a_declared_concept_can_be_used_by_label(rct, vocab):
    rct["concepts"] = [{"id": "outc:test-response", "label": "test response", "scheme": "outcome"}]
    rct["outcomes"][0]["concept"] = "test response"
    g = form_to_graph(rct, vocab).graph
    concept = URIRef("https://w3id.org/evidence-kb/vocab/outcome/test-response")
    assert (
        g.value(URIRef(f"{RES}study/aurora1-rovin-2021/outcome/crr-w52"), EKB.outcomeConcept)
        == concept
    )
    assert g.value(concept, URIRef("http://www.w3.org/2004/02/skos/core#prefLabel")) == Literal(
        "test response", lang="en"
    )


def test_decimals_keep_their_digits_through_yaml():
    data = load_form_text("x: 0.1000000000000000055511151231257827\ny: 12\nz: -50.30\n")
    assert data["x"] == Decimal("0.1000000000000000055511151231257827")
    assert decimal_lexical(Decimal("12")) == "12.0"
    assert load_form_text(dump_form(data)) == data
    assert decimal_lexical(Decimal("-0.0")) == "0.0"


def test_dates_stay_text_in_forms():
    assert load_form_text("d: 2026-11-27\n") == {"d": "2026-11-27"}


def test_unreadable_yaml_names_the_line():
    with pytest.raises(CouldNotRun, match=r"f.yaml:2: not a valid YAML form"):
        load_form_text("a: 1\nb: x: y\nc: 2\n", "f.yaml")


# --- broken forms: every problem names the field path -----------------------


def test_a_bad_type_names_the_field_path(rct, vocab):
    rct["arms"][1]["n"] = "one hundred"
    assert problems(rct, vocab) == ["arms[1].n: must be a positive integer (got 'one hundred')"]


def test_zero_participants_in_an_arm_is_not_a_positive_integer(rct, vocab):
    rct["arms"][1]["n"] = 0
    assert problems(rct, vocab) == ["arms[1].n: must be a positive integer (got 0)"]


def test_a_percentage_above_100_is_refused(rct, vocab):
    rct["results"][0]["percent"] = Decimal("140.8")
    assert problems(rct, vocab) == [
        "results[0].percent: must be a percentage from 0 to 100 (got '140.8')"
    ]


def test_a_missing_required_field_is_named(rct, vocab):
    del rct["study"]["title"]
    del rct["results"][1]["arm"]
    assert problems(rct, vocab) == ["results[1].arm: is required", "study.title: is required"]


def test_an_unknown_field_suggests_the_nearest(rct, vocab):
    rct["arms"][0]["lable"] = rct["arms"][0].pop("label")
    found = problems(rct, vocab)
    assert "arms[0].lable: unknown field; did you mean 'label'?" in found


def test_an_unknown_concept_label_names_the_field(rct, vocab):
    rct["arms"][0]["interventions"][0]["agent"] = "voclosporine-xyz"
    (message,) = problems(rct, vocab)
    assert message.startswith("arms[0].interventions[0].agent: no agent called 'voclosporine-xyz'")


def test_a_concept_of_the_wrong_scheme_is_refused(rct, vocab):
    rct["population"]["condition"] = ["agent:voclosporin"]
    (message,) = problems(rct, vocab)
    assert message.startswith("population.condition[0]:")
    assert "not a condition concept" in message


def test_an_unknown_arm_key_in_a_result_is_named(rct, vocab):
    rct["results"][0]["arm"] = "voclosporn"
    assert problems(rct, vocab) == [
        "results[0].arm: no arm with key 'voclosporn'; did you mean 'voclosporin'?"
    ]


def test_a_duplicate_key_is_named(rct, vocab):
    rct["results"][1]["key"] = rct["results"][0]["key"]
    assert problems(rct, vocab) == [
        "results[1].key: 'crr-w52-voclosporin' is already the key of results[0]"
    ]


def test_an_unknown_source_key_is_named(rct, vocab):
    rct["arms"][0]["source"] = "lancet"
    (message,) = problems(rct, vocab)
    assert message.startswith("arms[0].source: no source with key 'lancet'")


def test_a_record_without_any_source_is_refused(rct, vocab):
    del rct["defaults"]["source"]
    found = problems(rct, vocab)
    assert (
        "results[0].source: every record needs a source; give one here or in defaults.source"
        in found
    )


def test_every_problem_is_reported_at_once(rct, vocab):
    rct["arms"][1]["n"] = -3
    rct["study"]["year"] = "last year"
    rct["sources"][0]["url"] = "pubmed 33971155"
    assert len(problems(rct, vocab)) == 3


def test_a_form_that_is_not_a_mapping_is_refused(vocab):
    assert problems(["a", "list"], vocab) == [
        "(form): must be a mapping with study:, sources:, arms:, ... (see `ekb new`)"
    ]


# --- graph -> form ---------------------------------------------------------------


def _shipped_studies() -> list[Path]:
    return paths.study_files(paths.shipped_kb_dir())


@pytest.mark.parametrize("study_file", _shipped_studies(), ids=lambda p: p.stem)
def test_show_yaml_of_every_shipped_study_adds_back_to_an_isomorphic_graph(study_file, vocab):
    graph = load_study_graph(study_file)
    text = dump_form(graph_to_form(graph, vocab))
    again = form_to_graph(load_form_text(text), vocab, study_file.name)
    assert again.study_id == study_file.stem
    assert isomorphic(again.graph, graph)


def test_a_triple_the_form_cannot_hold_is_named_not_dropped(rct, vocab):
    graph = form_to_graph(rct, vocab).graph
    arm = URIRef(f"{RES}study/aurora1-rovin-2021/arm/voclosporin")
    graph.add((arm, EKB.estimate, Literal(Decimal("1.5"))))
    with pytest.raises(NotAForm, match=r"arm/voclosporin ekb:estimate"):
        graph_to_form(graph, vocab)


def test_a_non_canonical_decimal_is_named(rct, vocab):
    graph = form_to_graph(rct, vocab).graph
    arm = URIRef(f"{RES}study/aurora1-rovin-2021/arm/voclosporin/intervention")
    graph.set(
        (
            arm,
            EKB.doseValue,
            Literal("23.70000", datatype=URIRef("http://www.w3.org/2001/XMLSchema#decimal")),
        )
    )
    assert graph_to_form(graph, vocab)["arms"][1]["interventions"][0]["dose_value"] == Decimal(
        "23.70000"
    )
    graph.set(
        (
            arm,
            EKB.doseValue,
            Literal("24", datatype=URIRef("http://www.w3.org/2001/XMLSchema#decimal")),
        )
    )
    with pytest.raises(NotAForm, match="canonical"):
        graph_to_form(graph, vocab)


# --- property: generated forms round-trip ---------------------------------------

_KEYS = ["a", "b2", "arm-x", "out_1", "r.9", "zz"]
_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=25).filter(
    lambda s: s.strip() != ""
)


def _kind_values(kind_name: str) -> st.SearchStrategy:
    decimal = st.decimals(
        min_value=-10000, max_value=10000, places=3, allow_nan=False, allow_infinity=False
    )
    return {
        "text": _text,
        "count": st.integers(0, 5000),
        "positive": st.integers(1, 5000),
        "cycles": st.integers(1, 12),
        "decimal": decimal,
        "nonneg": st.decimals(min_value=0, max_value=1000, places=2),
        "percent": st.decimals(min_value=0, max_value=100, places=2),
        "probability": st.decimals(min_value=0, max_value=1, places=4),
        "level": st.sampled_from([Decimal("0.9"), Decimal("0.95"), Decimal("0.99")]),
        "bool": st.booleans(),
        "date": st.dates().map(lambda d: d.isoformat()).filter(lambda s: len(s) == 10),
        "year": st.integers(1950, 2030),
        "partial-date": st.sampled_from(["2019", "2019-05", "2019-05-03"]),
        "url": st.sampled_from(["https://example.org/a", "http://example.org/b?c=1"]),
        "comparator": st.sampled_from(["<", "<=", ">", ">="]),
        "key": st.sampled_from(_KEYS),
    }[kind_name]


@st.composite
def _records(
    draw,
    section: Section,
    refs: dict[str, list[str]],
    concepts: dict[str, list[str]],
    key: str | None,
):
    record: dict = {} if key is None else {"key": key}
    for f in section.all_fields:
        if f.predicate is None:
            continue
        if not f.required and not draw(st.booleans()):
            continue
        if f.kind.name == "concept":
            values = st.sampled_from(concepts[f.scheme])
        elif f.kind.name == "ref":
            if f.ref == "study":
                values = st.sampled_from(["other-study", "another-study"])
            else:
                if not refs.get(f.ref):
                    continue
                values = st.sampled_from(refs[f.ref])
        elif f.kind.name == "record-ref":
            if not refs.get("record"):
                continue
            values = st.sampled_from(refs["record"])
        else:
            values = _kind_values(f.kind.name)
        if f.multi:
            record[f.name] = draw(st.lists(values, min_size=1, max_size=3, unique_by=str))
        else:
            record[f.name] = draw(values)
    return record


def _concept_choices(vocab: Vocabulary) -> dict[str, list[str]]:
    from kb import concepts as kc

    choices: dict[str, list[str]] = {}
    for scheme in {
        f.scheme
        for s in (
            STUDY,
            SOURCES,
            POPULATION,
            ARMS,
            INTERVENTIONS,
            OUTCOMES,
            RESULTS,
            COMPARISONS,
            SAFETY,
            CLAIMS,
        )
        for f in s.fields
        if f.scheme
    }:
        labels = []
        for label, iri in sorted(kc.all_labels(vocab.store, scheme).items()):
            try:
                if vocab.resolve(label, scheme) == iri:
                    labels.append(label)
            except ValueError:
                continue  # an ambiguous synonym: a form would have to use the CURIE
        choices[scheme] = labels[:12]
    return choices


@st.composite
def _forms(draw, concepts: dict[str, list[str]]):
    source_keys = draw(st.lists(st.sampled_from(_KEYS), min_size=1, max_size=2, unique=True))
    arm_keys = draw(st.lists(st.sampled_from(_KEYS), min_size=1, max_size=3, unique=True))
    outcome_keys = draw(st.lists(st.sampled_from(_KEYS), max_size=2, unique=True))
    refs = {"source": source_keys, "arm": arm_keys, "outcome": outcome_keys}
    form: dict = {"study": draw(_records(STUDY, refs, concepts, None))}
    form["study"]["id"] = draw(st.sampled_from(["demo-study", "x1", "Demo_2.0"]))
    form["study"].pop("possibly_related_to", None) if draw(st.booleans()) else None
    form["sources"] = [draw(_records(SOURCES, refs, concepts, k)) for k in source_keys]
    if draw(st.booleans()):
        pop = draw(_records(POPULATION, refs, concepts, None))
        baseline_keys = draw(st.lists(st.sampled_from(_KEYS), max_size=2, unique=True))
        if baseline_keys:
            pop["baseline"] = [draw(_records(BASELINE, refs, concepts, k)) for k in baseline_keys]
        pop.setdefault("source", source_keys[0])
        form["population"] = pop
    arms = []
    for k in arm_keys:
        arm = draw(_records(ARMS, refs, concepts, k))
        n_iv = draw(st.integers(0, 2))
        if n_iv == 1:
            arm["interventions"] = [draw(_records(INTERVENTIONS, refs, concepts, None))]
        elif n_iv == 2:
            arm["interventions"] = [
                draw(_records(INTERVENTIONS, refs, concepts, k2)) for k2 in ("i1", "i2")
            ]
        arms.append(arm)
    form["arms"] = arms
    form["outcomes"] = [draw(_records(OUTCOMES, refs, concepts, k)) for k in outcome_keys]
    records = []
    if outcome_keys:
        result_keys = draw(st.lists(st.sampled_from(_KEYS), max_size=2, unique=True))
        form["results"] = [draw(_records(RESULTS, refs, concepts, k)) for k in result_keys]
        records += [f"result/{k}" for k in result_keys]
        if len(arm_keys) > 1 and draw(st.booleans()):
            comp = draw(_records(COMPARISONS, refs, concepts, "c1"))
            comp["experimental_arm"], comp["comparator_arm"] = arm_keys[0], arm_keys[1]
            form["comparisons"] = [comp]
            records.append("comparison/c1")
    safety_keys = draw(st.lists(st.sampled_from(_KEYS), max_size=2, unique=True))
    form["safety"] = [draw(_records(SAFETY, refs, concepts, k)) for k in safety_keys]
    records += [f"safety/{k}" for k in safety_keys]
    refs["record"] = records
    form["claims"] = [
        draw(_records(CLAIMS, refs, concepts, k))
        for k in draw(st.lists(st.sampled_from(_KEYS), max_size=1))
    ]
    if draw(st.booleans()):
        form["concepts"] = [
            {
                "id": "cond:generated-condition",
                "label": "generated condition",
                "scheme": "condition",
                "synonyms": ["gen cond"],
            }
        ]
    form["defaults"] = {"source": source_keys[0], "extracted_by": "hypothesis"}
    return form


@pytest.fixture(scope="module")
def concept_choices(vocab):
    return _concept_choices(vocab)


def test_generated_forms_round_trip_through_the_graph(vocab, concept_choices):
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(_forms(concept_choices))
    def check(form):
        form = copy.deepcopy(form)
        converted = form_to_graph(form, vocab)
        shown = dump_form(graph_to_form(converted.graph, vocab))
        again = form_to_graph(load_form_text(shown), vocab)
        assert isomorphic(converted.graph, again.graph)

    check()


def test_provenance_fields_are_on_every_extracted_section():
    names = {f.name for f in PROVENANCE}
    for section in (
        STUDY,
        POPULATION,
        BASELINE,
        ARMS,
        INTERVENTIONS,
        OUTCOMES,
        RESULTS,
        COMPARISONS,
        SAFETY,
        CLAIMS,
    ):
        assert names <= {f.name for f in section.all_fields}, section.name
