from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, XSD

from kb import paths
from kb.errors import RdfSyntaxError
from kb.namespaces import EKB, PREFIXES, RES
from kb.turtle_format import (
    canonical_turtle,
    count_dropped_comments,
    format_text,
    header_comment,
    parse_turtle,
)

STUDY = URIRef(f"{RES}study/demo")


def _graph(*triples) -> Graph:
    g = Graph()
    for t in triples:
        g.add(t)
    return g


def test_study_comes_first_then_subjects_by_iri():
    g = _graph(
        (URIRef(f"{RES}study/demo/arm/a"), RDF.type, EKB.Arm),
        (URIRef(f"{RES}aaa"), RDF.type, EKB.Source),
        (STUDY, RDF.type, EKB.Study),
    )
    text = canonical_turtle(g)
    order = [text.index("<study/demo>\n"), text.index("<aaa>"), text.index("<study/demo/arm/a>")]
    assert order == sorted(order)


def test_type_first_then_predicates_by_curie_one_per_line():
    g = _graph(
        (STUDY, EKB.title, Literal("T")),
        (STUDY, EKB.design, URIRef("https://w3id.org/evidence-kb/vocab/design/cohort")),
        (STUDY, RDF.type, EKB.Study),
        (STUDY, EKB.country, Literal("France")),
        (STUDY, EKB.country, Literal("China")),
    )
    lines = canonical_turtle(g).split("<study/demo>\n", 1)[1].splitlines()
    assert lines == [
        "    a ekb:Study ;",
        '    ekb:country "China" ;',
        '    ekb:country "France" ;',
        "    ekb:design design:cohort ;",
        '    ekb:title "T" ;',
        "    .",
    ]


def test_literals_are_written_in_their_stable_form():
    g = _graph(
        (STUDY, EKB.n, Literal(10)),
        (STUDY, EKB.followUpWeeks, Literal(Decimal("12.0"))),
        (STUDY, EKB.percentChange, Literal("-50.3", datatype=XSD.decimal)),
        (STUDY, EKB.year, Literal("2021", datatype=XSD.gYear)),
        (STUDY, EKB.serious, Literal(True)),
        (STUDY, EKB.note, Literal('two\nlines "quoted"')),
        (STUDY, EKB.mean, Literal("12", datatype=XSD.decimal)),
    )
    text = canonical_turtle(g)
    assert "    ekb:n 10 ;" in text
    assert "    ekb:followUpWeeks 12.0 ;" in text
    assert "    ekb:percentChange -50.3 ;" in text
    assert '    ekb:year "2021"^^xsd:gYear ;' in text
    assert "    ekb:serious true ;" in text
    assert '    ekb:note "two\\nlines \\"quoted\\"" ;' in text
    # A decimal whose lexical form is not Turtle shorthand keeps its datatype, never re-typed.
    assert '    ekb:mean "12"^^xsd:decimal ;' in text
    assert isomorphic(parse_turtle(text), g)


def test_only_used_prefixes_are_declared_in_alphabetical_order():
    g = _graph((STUDY, RDF.type, EKB.Study), (STUDY, EKB.year, Literal("2021", datatype=XSD.gYear)))
    head = [line for line in canonical_turtle(g).splitlines() if line.startswith("@")]
    assert head == [
        f"@base <{RES}> .",
        f"@prefix ekb: <{EKB}> .",
        f"@prefix xsd: <{XSD}> .",
    ]


def test_changing_one_number_is_a_one_line_diff():
    base = [
        (STUDY, RDF.type, EKB.Study),
        (STUDY, EKB.n, Literal(10)),
        (STUDY, EKB.title, Literal("x")),
    ]
    before = canonical_turtle(_graph(*base)).splitlines()
    after = canonical_turtle(_graph(base[0], (STUDY, EKB.n, Literal(11)), base[2])).splitlines()
    assert len(before) == len(after)
    assert sum(a != b for a, b in zip(before, after, strict=True)) == 1


def test_adding_a_last_triple_adds_one_line_only():
    base = [(STUDY, RDF.type, EKB.Study), (STUDY, EKB.n, Literal(10))]
    before = canonical_turtle(_graph(*base)).splitlines()
    after = canonical_turtle(_graph(*base, (STUDY, EKB.title, Literal("z")))).splitlines()
    assert len(after) == len(before) + 1
    assert [line for line in after if line not in before] == ['    ekb:title "z" ;']


def test_iris_outside_known_namespaces_are_written_in_full():
    other = URIRef("http://purl.obolibrary.org/obo/MONDO_0004670")
    text = canonical_turtle(_graph((STUDY, EKB.note, other)))
    assert f"<{other}>" in text


def test_blank_nodes_get_stable_labels():
    def build() -> Graph:
        b = BNode()
        return _graph((STUDY, EKB.note, b), (b, EKB.title, Literal("x")))

    assert canonical_turtle(build()) == canonical_turtle(build())


def test_header_comment_is_kept_and_reformatting_is_idempotent():
    text = (
        f"@prefix ekb: <{EKB}> .\n# first line\n#\n# second paragraph\n\n"
        f"<{RES}study/demo> a ekb:Study . # trailing\n"
    )
    assert header_comment(text) == "# first line\n#\n# second paragraph"
    once = format_text(text)
    assert once.startswith("# first line\n#\n# second paragraph\n\n@base")
    assert format_text(once) == once
    assert count_dropped_comments(text) == 1


def test_bad_turtle_raises_with_the_line():
    with pytest.raises(RdfSyntaxError) as info:
        parse_turtle(f"@prefix ekb: <{EKB}> .\n\n<a> ekb:n 1 ;; ekb ekb .\n", "bad.ttl")
    assert "bad.ttl" in str(info.value)


def test_every_shipped_study_file_is_canonical():
    files = paths.study_files(paths.shipped_kb_dir())
    assert files
    not_canonical = [
        f.name for f in files if format_text(f.read_text("utf-8"), str(f)) != f.read_text("utf-8")
    ]
    assert not_canonical == []


# --- property: parsing the output gives an isomorphic graph -----------------

_segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=8)
_namespaces = [ns for ns in PREFIXES.values()] + ["http://example.org/other#"]
_iris = st.one_of(
    st.lists(_segment, min_size=1, max_size=4).map(
        lambda parts: URIRef(str(RES) + "/".join(parts))
    ),
    st.tuples(st.sampled_from(_namespaces), _segment).map(lambda t: URIRef(t[0] + t[1])),
    st.tuples(st.sampled_from(_namespaces), st.sampled_from(["", "a.b", "x.", "1-2", "a%20b"])).map(
        lambda t: URIRef(t[0] + t[1])
    ),
)
_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
_literals = st.one_of(
    st.integers(-(10**12), 10**12).map(Literal),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(
        lambda d: Literal(d, datatype=XSD.decimal)
    ),
    st.booleans().map(Literal),
    _text.map(Literal),
    st.tuples(_text, st.sampled_from(["en", "fr", "en-GB"])).map(
        lambda t: Literal(t[0], lang=t[1])
    ),
    st.integers(1900, 2100).map(lambda y: Literal(str(y), datatype=XSD.gYear)),
    st.dates().map(Literal),
    st.sampled_from(["12", "+3", "007", "1e5", "abc"]).map(
        lambda s: Literal(s, datatype=XSD.decimal)
    ),
)
_triples = st.tuples(_iris, _iris, st.one_of(_iris, _literals))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_triples, max_size=25), st.booleans())
def test_parsing_canonical_turtle_gives_an_isomorphic_graph(triples, with_study):
    g = _graph(*triples)
    if with_study and triples:
        g.add((triples[0][0], RDF.type, EKB.Study))
    text = canonical_turtle(g)
    back = parse_turtle(text)
    assert isomorphic(back, g)
    assert canonical_turtle(back) == text
