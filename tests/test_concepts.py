"""Concept resolution: labels, synonyms, CURIEs and IRIs to concept IRIs, through SPARQL only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb import concepts
from kb.errors import UsageError
from kb.namespaces import AGENT, COND, OUTC, TERM
from kb.paths import shipped_kb_dir
from kb.store import EmbeddedStore

PILOT = shipped_kb_dir() / "studies" / "il2-refractory-ln-2021.ttl"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    kb = tmp_path_factory.mktemp("pilot-kb")
    (kb / "studies").mkdir()
    shutil.copy(PILOT, kb / "studies" / PILOT.name)
    return EmbeddedStore.open_kb(Path(kb))


def test_resolve_finds_a_synonym_case_insensitively_after_trimming(store: EmbeddedStore) -> None:
    assert concepts.resolve(store, "  LUPUS ") == f"{COND}systemic-lupus-erythematosus"


def test_resolve_finds_a_preferred_label(store: EmbeddedStore) -> None:
    assert concepts.resolve(store, "lupus nephritis", "condition") == f"{COND}lupus-nephritis"


def test_resolve_accepts_a_curie_an_iri_and_a_bracketed_iri(store: EmbeddedStore) -> None:
    iri = f"{AGENT}belimumab"
    assert concepts.resolve(store, "agent:belimumab") == iri
    assert concepts.resolve(store, iri) == iri
    assert concepts.resolve(store, f"<{iri}>", "agent") == iri


def test_resolve_reports_an_ambiguous_label_with_every_candidate(store: EmbeddedStore) -> None:
    with pytest.raises(UsageError) as info:
        concepts.resolve(store, "placebo")
    message = str(info.value)
    assert "ambiguous" in message
    assert "agent:placebo" in message and "term:placebo-comparator" in message


def test_a_scheme_removes_the_ambiguity(store: EmbeddedStore) -> None:
    assert concepts.resolve(store, "placebo", "agent") == f"{AGENT}placebo"
    assert concepts.resolve(store, "placebo", "arm-role") == f"{TERM}placebo-comparator"


def test_resolve_suggests_the_nearest_labels_for_an_unknown_text(store: EmbeddedStore) -> None:
    with pytest.raises(UsageError, match=r"no condition called 'lupsu'.*'lupus'"):
        concepts.resolve(store, "lupsu", "condition")


def test_resolve_refuses_a_concept_from_another_scheme(store: EmbeddedStore) -> None:
    with pytest.raises(UsageError, match="not a condition concept"):
        concepts.resolve(store, "agent:belimumab", "condition")


def test_resolve_refuses_an_unknown_curie_and_an_empty_text(store: EmbeddedStore) -> None:
    with pytest.raises(UsageError, match="not a concept"):
        concepts.resolve(store, "cond:no-such-disease")
    with pytest.raises(UsageError, match="empty"):
        concepts.resolve(store, "   ")


def test_resolve_treats_hostile_text_as_a_label_that_matches_nothing(store: EmbeddedStore) -> None:
    hostile = 'lupus" } UNION { ?concept ?p ?label } #\n'
    with pytest.raises(UsageError, match="no condition called"):
        concepts.resolve(store, hostile, "condition")


def test_an_iri_with_forbidden_characters_is_a_usage_error(store: EmbeddedStore) -> None:
    with pytest.raises(UsageError, match="not a valid IRI"):
        concepts.resolve(store, "https://example.org/a> } #")


def test_unknown_scheme_names_suggest_the_nearest(store: EmbeddedStore) -> None:
    with pytest.raises(UsageError, match="Did you mean 'condition'"):
        concepts.resolve(store, "lupus", "conditon")


def test_expand_narrower_includes_lupus_nephritis_under_sle_transitively(
    store: EmbeddedStore,
) -> None:
    found = concepts.expand_narrower(store, f"{COND}systemic-lupus-erythematosus")
    assert found[0] == f"{COND}systemic-lupus-erythematosus"
    assert f"{COND}lupus-nephritis" in found
    assert f"{COND}refractory-lupus-nephritis" in found  # two steps down
    assert f"{AGENT}belimumab" not in found
    assert found[1:] == sorted(found[1:])


def test_expand_narrower_of_a_leaf_is_the_leaf_alone(store: EmbeddedStore) -> None:
    leaf = f"{COND}refractory-lupus-nephritis"
    assert concepts.expand_narrower(store, leaf) == [leaf]


def test_resolve_with_narrower_finds_a_response_defined_on_proteinuria(
    store: EmbeddedStore,
) -> None:
    found = concepts.resolve_with_narrower(store, "proteinuria", "outcome")
    assert found[0] == f"{OUTC}proteinuria"
    assert f"{OUTC}proteinuria-improvement-50" in found
