"""Plain-language answers and summaries checked the way a clinician-writer checks a
patient leaflet (issue 16): each test would have caught one of the misleading
sentences found in the review, on the shipped knowledge base."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from kb.plain import answer_question, readability_grade, summarise_study
from kb.plain.question import parse_question
from kb.plain.records import OneReading
from kb.store import EmbeddedStore

REPO = Path(__file__).resolve().parents[1]
SHIPPED_IDS = sorted(p.stem for p in (REPO / "kb" / "studies").glob("*.ttl"))
EKB = "https://w3id.org/evidence-kb/ontology#"
STUDY = "https://w3id.org/evidence-kb/resource/study/"


@pytest.fixture(scope="module")
def kb() -> OneReading:
    # One reading of the shipped knowledge base for the whole module: the answers
    # below ask the same queries again and again, and the data never change here.
    return OneReading(EmbeddedStore.open_kb())


# --------------------------------------------------------------------------
# Understanding questions: 44 phrasings
# --------------------------------------------------------------------------

# (question, conditions, agents, outcomes, focus, corrections as typed -> meant)
PHRASINGS: list[tuple[str, set[str], set[str], set[str], set[str], dict[str, str]]] = [
    # a drug only
    ("Is belimumab safe?", set(), {"belimumab"}, set(), {"safety"}, {}),
    ("Does anifrolumab work?", set(), {"anifrolumab"}, set(), {"benefit"}, {}),
    ("voclosporin", set(), {"voclosporin"}, set(), set(), {}),
    ("Tell me about obinutuzumab", set(), {"obinutuzumab"}, set(), set(), {}),
    ("What about Benlysta?", set(), {"belimumab"}, set(), set(), {}),
    ("hcq", set(), {"hydroxychloroquine"}, set(), set(), {}),
    ("Is low-dose IL-2 any good?", set(), {"low-dose-interleukin-2"}, set(), set(), {}),
    ("il-2", set(), {"interleukin-2"}, set(), set(), {}),
    ("mmf", set(), {"mycophenolate-mofetil"}, set(), set(), {}),
    ("Is Saphnelo dangerous?", set(), {"anifrolumab"}, set(), {"safety"}, {}),
    # a condition only
    (
        "I have lupus. What can I do to stop it?",
        {"systemic-lupus-erythematosus"},
        set(),
        set(),
        {"benefit"},
        {},
    ),
    ("What helps SLE?", {"systemic-lupus-erythematosus"}, set(), set(), {"benefit"}, {}),
    ("what helps sle", {"systemic-lupus-erythematosus"}, set(), set(), {"benefit"}, {}),
    ("treatments for lupus nephritis", {"lupus-nephritis"}, set(), set(), set(), {}),
    ("Is there anything for LN?", {"lupus-nephritis"}, set(), set(), set(), {}),
    ("ln", {"lupus-nephritis"}, set(), set(), set(), {}),
    ("My kidney lupus is getting worse", {"lupus-nephritis"}, set(), set(), set(), {}),
    ("refractory lupus nephritis options", {"refractory-lupus-nephritis"}, set(), set(), set(), {}),
    (
        "What works for active SLE?",
        {"active-systemic-lupus-erythematosus"},
        set(),
        set(),
        {"benefit"},
        {},
    ),
    ("class III or IV lupus nephritis", {"proliferative-lupus-nephritis"}, set(), set(), set(), {}),
    ("LUPUS NEPHRITIS", {"lupus-nephritis"}, set(), set(), set(), {}),
    # both
    (
        "Does IL-2 work for lupus nephritis?",
        {"lupus-nephritis"},
        {"interleukin-2"},
        set(),
        {"benefit"},
        {},
    ),
    ("belimumab for lupus nephritis", {"lupus-nephritis"}, {"belimumab"}, set(), set(), {}),
    (
        "Is voclosporin safe for lupus nephritis?",
        {"lupus-nephritis"},
        {"voclosporin"},
        set(),
        {"safety"},
        {},
    ),
    (
        "hydroxychloroquine in sle",
        {"systemic-lupus-erythematosus"},
        {"hydroxychloroquine"},
        set(),
        set(),
        {},
    ),
    (
        "Can obinutuzumab help my lupus?",
        {"systemic-lupus-erythematosus"},
        {"obinutuzumab"},
        set(),
        {"benefit"},
        {},
    ),
    (
        "low dose il-2 for refractory sle",
        {"refractory-systemic-lupus-erythematosus"},
        {"low-dose-interleukin-2"},
        set(),
        set(),
        {},
    ),
    # outcome words
    (
        "Does hydroxychloroquine prevent lupus flares?",
        set(),
        {"hydroxychloroquine"},
        {"flare"},
        {"benefit"},
        {},
    ),
    ("What lowers protein in the urine?", set(), set(), {"proteinuria"}, set(), {}),
    (
        "Which treatment gives a complete renal response?",
        set(),
        set(),
        {"complete-renal-response"},
        set(),
        {},
    ),
    ("Does anything raise Tregs?", set(), set(), {"treg-percentage"}, set(), {}),
    (
        "Can I reduce my steroid dose in lupus?",
        {"systemic-lupus-erythematosus"},
        set(),
        {"glucocorticoid-dose"},
        {"benefit"},
        {},
    ),
    ("remission with mmf", set(), {"mycophenolate-mofetil"}, {"remission"}, set(), {}),
    # safety words
    (
        "What are the side effects of voclosporin?",
        set(),
        {"voclosporin"},
        set(),
        {"safety"},
        {},
    ),
    ("Is anifrolumab risky?", set(), {"anifrolumab"}, set(), {"safety"}, {}),
    (
        "harms of il-2 in lupus",
        {"systemic-lupus-erythematosus"},
        {"interleukin-2"},
        set(),
        {"safety"},
        {},
    ),
    (
        "Are there serious side effects with belimumab?",
        set(),
        {"belimumab"},
        set(),
        {"safety"},
        {},
    ),
    # typos, read with a did-you-mean
    ("belimumb for lupus", {"systemic-lupus-erythematosus"}, {"belimumab"}, set(), set(),
     {"belimumb": "belimumab"}),
    ("lupis nefritis treatment", {"lupus-nephritis"}, set(), set(), set(),
     {"lupis nefritis": "lupus nephritis"}),
    ("Does anifrolumub work?", set(), {"anifrolumab"}, set(), {"benefit"},
     {"anifrolumub": "anifrolumab"}),
    ("hydroxychloroqine", set(), {"hydroxychloroquine"}, set(), set(),
     {"hydroxychloroqine": "hydroxychloroquine"}),
    ("voclosporine safety", set(), {"voclosporin"}, set(), {"safety"},
     {"voclosporine": "voclosporin"}),
    # nothing the knowledge base holds
    ("What can I do about migraine?", set(), set(), set(), set(), {}),
    ("Is it safe?", set(), set(), set(), {"safety"}, {}),
]  # fmt: skip


def _local(concepts: list[str]) -> set[str]:
    return {c.rsplit("/", 1)[-1] for c in concepts}


@pytest.mark.parametrize(
    ("question", "conditions", "agents", "outcomes", "focus", "fixes"),
    PHRASINGS,
    ids=[p[0] for p in PHRASINGS],
)
def test_question_parser_reads_each_phrasing(
    kb: OneReading,
    question: str,
    conditions: set[str],
    agents: set[str],
    outcomes: set[str],
    focus: set[str],
    fixes: dict[str, str],
) -> None:
    parsed = parse_question(kb, question)
    assert _local([c.concept for c in parsed.conditions]) == conditions
    assert _local([a.concept for a in parsed.agents]) == agents
    assert _local([o.concept for o in parsed.outcomes]) == outcomes
    assert parsed.focus == focus
    assert {c.typed: c.meant for c in parsed.corrections} == fixes


def test_the_parser_is_tested_on_at_least_40_phrasings() -> None:
    assert len(PHRASINGS) >= 40


@pytest.fixture(scope="module")
def held_numbers(kb: OneReading) -> set[Decimal]:
    """Every number the knowledge base holds, as a value or inside a label, and
    each rounded to a whole number (plain text rounds percentages)."""
    numbers: set[Decimal] = set()
    for row in kb.select(
        "SELECT DISTINCT ?v WHERE { { GRAPH ?g { ?s ?p ?v } } UNION { ?s ?p ?v } "
        'FILTER(isLiteral(?v) && REGEX(STR(?v), "[0-9]")) }'
    ).rows:
        text = str(row["v"])
        try:
            numbers.add(abs(Decimal(text)))
        except ArithmeticError:
            numbers |= {Decimal(n) for n in re.findall(r"(?<![\w.])\d+(?:\.\d+)?", text)}
    return numbers | {n.quantize(Decimal(1), rounding=ROUND_HALF_UP) for n in numbers}


def _enrolled_in_all(kb: OneReading, sources: list[str]) -> int:
    """The sum of the enrolled counts of the studies whose sources a sentence cites."""
    studies = sorted({s.split("/source/")[0] for s in sources})
    total = 0
    for study in studies:
        rows = kb.select(
            f"SELECT ?n WHERE {{ <{study}> <{EKB}hasPopulation>/<{EKB}enrolled> ?n }}"
        ).rows
        total += sum(int(str(r["n"])) for r in rows)
    return total


@pytest.mark.parametrize("question", [p[0] for p in PHRASINGS])
def test_every_answer_reads_at_grade_8_and_states_only_held_numbers(
    kb: OneReading, held_numbers: set[Decimal], question: str
) -> None:
    answer = answer_question(kb, question)
    assert readability_grade(answer.plain_text()) <= 8.0
    for sentence in answer.sentences:
        text = sentence.text
        in_all = re.search(r"with (\d+) patients in all", text)
        if in_all:
            # a sum, checked against the enrolled counts of the studies it cites
            assert int(in_all.group(1)) == _enrolled_in_all(kb, sentence.sources), text
            text = text.replace(in_all.group(0), "")
        found = {Decimal(n) for n in re.findall(r"(?<![\w.])\d+(?:\.\d+)?", text)}
        assert found <= held_numbers, sentence.text
    assert "doctor" in answer.to_markdown()


# --------------------------------------------------------------------------
# 1. A drug without a condition is understood
# --------------------------------------------------------------------------


def test_a_drug_without_a_condition_gets_its_safety_data(kb: OneReading) -> None:
    answer = answer_question(kb, "Is belimumab safe?")
    text = answer.to_markdown()
    assert "no evidence about" not in text
    assert "## Belimumab" in text
    safety = [s for s in answer.sentences if "serious side effect" in s.text and s.results]
    assert safety and all("bliss-ln-furie-2020/safety/" in r for s in safety for r in s.results)


def test_a_misspelled_drug_is_corrected_and_said_so(kb: OneReading) -> None:
    answer = answer_question(kb, "Is belimumb safe?")
    text = answer.to_markdown()
    assert "Did you mean belimumab?" in text and "## Belimumab" in text
    assert answer.extra["did_you_mean"] == [{"typed": "belimumb", "meant": "belimumab"}]


# --------------------------------------------------------------------------
# 2. The evidence closest to the question comes first
# --------------------------------------------------------------------------


def test_il2_for_lupus_nephritis_leads_with_the_randomised_kidney_subgroup(
    kb: OneReading,
) -> None:
    answer = answer_question(kb, "Does IL-2 work for lupus nephritis?")
    il2 = [s for s in answer.sentences if s.section.startswith("Low-dose interleukin-2")]
    first_result = next(s for s in il2 if s.results)
    ln = f"{STUDY}he-2020-ard-il2-rct/result/ln-complete-remission-il2"
    assert first_result.results[0] == ln
    assert "Among patients with lupus nephritis: 7 of the 13" in first_result.text
    assert "compared with 2 of 12 in the placebo group" in first_result.text
    # the trial's main outcome follows, with whether it was met
    texts = [s.text for s in il2]
    main = next(i for i, t in enumerate(texts) if t.startswith("Main result:"))
    assert texts[main + 1].startswith("The study did not meet this main goal")
    # the observational remission figure says its comparison did not show a difference
    remission = next(i for i, t in enumerate(texts) if "had remission" in t)
    assert "did not show a clear difference" in texts[remission + 1]
    # one bottom line for the treatment, last in its section
    assert [t for t in texts if t.startswith("Bottom line")] == [texts[-1]]


def test_every_treatment_in_the_seed_answer_has_one_bottom_line(kb: OneReading) -> None:
    answer = answer_question(kb, "I have lupus. What can I do to stop it?")
    sections = [
        s
        for s in dict.fromkeys(x.section for x in answer.sentences)
        if s
        not in {
            "Answer",
            "Also studied, with no result we can tell",
            "What the studies tested",
            "What this knowledge base does not cover",
            "Talk to your doctor",
        }
    ]
    assert len(sections) == len(answer.extra["interventions"]) >= 5
    for section in sections:
        lines = [s.text for s in answer.sentences if s.section == section]
        assert sum(t.startswith("Bottom line") for t in lines) == 1, section


def _verdict_independently(kb: OneReading, comparison_iri: str) -> bool | None:
    row = kb.select(
        f"""SELECT ?p ?lo ?hi ?m WHERE {{ OPTIONAL {{ <{comparison_iri}> <{EKB}pValue> ?p }}
            OPTIONAL {{ <{comparison_iri}> <{EKB}ciLower> ?lo }}
            OPTIONAL {{ <{comparison_iri}> <{EKB}ciUpper> ?hi }}
            OPTIONAL {{ <{comparison_iri}> <{EKB}effectMeasure> ?m }} }}"""
    ).rows[0]
    if row.get("p") is not None:
        return float(str(row["p"])) < 0.05
    if row.get("lo") is None:
        return None  # neither a p-value nor an interval: says nothing about chance
    null = 1.0 if "ratio" in str(row.get("m", "")) else 0.0
    return not float(str(row["lo"])) <= null <= float(str(row["hi"]))


@pytest.mark.parametrize("study_id", SHIPPED_IDS)
def test_every_chance_sentence_agrees_with_the_recorded_test(kb: OneReading, study_id: str) -> None:
    for sentence in summarise_study(kb, study_id).sentences:
        comparisons = [r for r in sentence.results if "/comparison/" in r]
        if not comparisons:
            continue
        shown = "unlikely to be chance" in sentence.text
        not_shown = "could be chance" in sentence.text
        assert shown != not_shown, sentence.text
        verdicts = {_verdict_independently(kb, c) for c in comparisons} - {None}
        assert verdicts == {shown}, sentence.text


# --------------------------------------------------------------------------
# 3. The primary outcome comes first, with whether it was met
# --------------------------------------------------------------------------


def test_he_2020_summary_opens_with_its_missed_week_12_primary_endpoint(kb: OneReading) -> None:
    happened = [
        s
        for s in summarise_study(kb, "he-2020-ard-il2-rct").sentences
        if s.section == "What happened"
    ]
    assert happened[0].text.startswith("Main result: 55% of patients")
    assert "by week 12" in happened[0].text and "compared with 30%" in happened[0].text
    assert happened[1].text.startswith("The study did not meet this main goal")


@pytest.mark.parametrize("study_id", SHIPPED_IDS)
def test_a_study_with_a_primary_outcome_tells_it_first(kb: OneReading, study_id: str) -> None:
    primary = kb.select(
        f"""SELECT ?o WHERE {{ <{STUDY}{study_id}> <{EKB}hasOutcome> ?o .
            ?o <{EKB}outcomeRole> <https://w3id.org/evidence-kb/vocab/term/primary> }}"""
    ).rows
    if not primary:
        pytest.skip("no primary outcome recorded")
    happened = [s for s in summarise_study(kb, study_id).sentences if s.section == "What happened"]
    first = happened[0].text
    assert first.startswith("Main result:") or first.startswith(
        "The sources we hold give no result for the study's main outcome"
    ), first


# --------------------------------------------------------------------------
# 4. Safety: groups, event, period; overall counts only from overall records
# --------------------------------------------------------------------------


def _term(kb: OneReading, iri: str) -> str | None:
    rows = kb.select(f"SELECT ?t WHERE {{ <{iri}> <{EKB}eventTerm> ?t }}").rows
    return str(rows[0]["t"]) if rows else None


def _texts(kb: OneReading) -> list:
    texts = [summarise_study(kb, s) for s in SHIPPED_IDS]
    texts += [
        answer_question(kb, q)
        for q in (
            "I have lupus. What can I do to stop it?",
            "Is belimumab safe?",
            "What helps lupus nephritis?",
            "Is IL-2 safe?",
        )
    ]
    return texts


def test_a_serious_side_effect_is_only_told_from_overall_counts(kb: OneReading) -> None:
    for plain in _texts(kb):
        for sentence in plain.sentences:
            terms = [t for t in (_term(kb, r) for r in sentence.results) if t]
            if "a serious side effect" in sentence.text:
                assert terms and all(
                    t.lower() in {"any serious adverse event", "serious adverse events"}
                    for t in terms
                ), sentence.text


def test_he_2020_serious_events_read_as_one_total_with_both_groups(kb: OneReading) -> None:
    text = summarise_study(kb, "he-2020-ard-il2-rct").plain_text()
    assert (
        "None of the 29 in the low-dose interleukin-2 group and 3 of the 30 in the placebo "
        "group had a serious side effect." in text
    )
    assert text.count("had a serious side effect") == 1
    assert "1 of the 30 in the placebo group had pneumonia (serious adverse event)." in text


def test_safety_sentences_of_two_group_studies_name_the_groups(kb: OneReading) -> None:
    for study_id in SHIPPED_IDS:
        summary = summarise_study(kb, study_id)
        arms = kb.select(f"SELECT ?arm WHERE {{ <{STUDY}{study_id}> <{EKB}hasArm> ?arm }}").rows
        if len(arms) < 2:
            continue
        for sentence in summary.sentences:
            if sentence.section == "Side effects" and sentence.results:
                assert " group" in sentence.text, sentence.text


# --------------------------------------------------------------------------
# 5. Wording follows the outcome's meaning
# --------------------------------------------------------------------------


def test_a_remission_criterion_met_is_not_read_as_having_the_measure(kb: OneReading) -> None:
    text = summarise_study(kb, "alms-induction-appel-2009").plain_text()
    assert "had protein in the urine" not in text
    assert "had serum creatinine" not in text
    assert "met the study's goal for protein in the urine by week 24" in text


# --------------------------------------------------------------------------
# 6. An open-label extension is not a comparison
# --------------------------------------------------------------------------


def test_open_label_extension_safety_is_called_so(kb: OneReading) -> None:
    answer = answer_question(kb, "Is belimumab safe?")
    texts = [s.text for s in answer.sentences]
    opening = next(i for i, t in enumerate(texts) if "open-label extension" in t)
    assert texts[opening].startswith("In the open-label extension that followed")
    assert "everyone got belimumab" in texts[opening]
    assert "comparison group" not in texts[opening]
    for sentence in answer.sentences:
        if any("/safety/ole-" in r for r in sentence.results):
            assert "with a comparison group" not in sentence.text
    assert any("main, randomised part of this trial has no numbers" in t for t in texts)
    summary = summarise_study(kb, "bliss-ln-furie-2020").plain_text()
    assert "no numbers on serious side effects for the main, randomised part" in summary


# --------------------------------------------------------------------------
# 7. Treatments without a result are listed once
# --------------------------------------------------------------------------


def test_a_treatment_without_a_result_is_listed_once_at_the_end(kb: OneReading) -> None:
    answer = answer_question(kb, "I have lupus. What can I do to stop it?")
    text = answer.to_markdown()
    assert "## Cyclophosphamide" not in text
    assert "put in plain words" not in text
    also = [s for s in answer.sentences if s.section == "Also studied, with no result we can tell"]
    assert len(also) == 1 and "cyclophosphamide" in also[0].text
    assert answer.extra["not_told"] == ["https://w3id.org/evidence-kb/vocab/agent/cyclophosphamide"]


# --------------------------------------------------------------------------
# 8. One trust paragraph per judgement, with the right source
# --------------------------------------------------------------------------


def test_the_pilots_two_identical_ratings_are_told_once_from_the_summarys_numbers(
    kb: OneReading,
) -> None:
    summary = summarise_study(kb, "il2-refractory-ln-2021")
    trust = [s for s in summary.sentences if s.section == "How far can we trust this?"]
    assert sum("We rate how sure" in s.text for s in trust) == 1
    assert sum("The numbers come from a summary" in s.text for s in trust) == 1
    rating = next(s for s in trust if "We rate how sure" in s.text)
    assert rating.sources == [f"{STUDY}il2-refractory-ln-2021/source/pls"]
    assert len(rating.claims) == 2


# --------------------------------------------------------------------------
# 9. Both groups' harms, named subsets, whole percentages, stable links
# --------------------------------------------------------------------------


def test_a_harm_held_for_one_group_says_the_other_is_not_held(kb: OneReading) -> None:
    text = summarise_study(kb, "tulip2-morand-2020").plain_text()
    assert "herpes zoster in the anifrolumab group" in text
    assert "no figure for the placebo group" in text


def test_t_cell_subsets_are_named(kb: OneReading) -> None:
    text = summarise_study(kb, "he-2016-natmed-il2-open-label").plain_text()
    assert "TFH and TH17 cells went down" in text
    assert "CD4+ T-cell subsets went down" not in text
    assert "Regulatory T cells (Tregs, immune cells that calm the immune system) went up" in text


def test_percentages_are_whole_numbers_in_text_and_exact_in_json(kb: OneReading) -> None:
    for plain in _texts(kb):
        assert not re.search(r"\d+\.\d\d%", plain.to_markdown())
    answer = answer_question(kb, "Does IL-2 work for lupus nephritis?").to_json()
    main = next(s for s in answer["sentences"] if s["text"].startswith("Main result: 55%"))
    assert {v.get("percent") for v in main["values"].values()} == {"55.17", "30"}


def test_source_lists_never_show_raw_ip_addresses_or_staging_hosts(kb: OneReading) -> None:
    for plain in _texts(kb):
        sources = plain.to_markdown().split("## Sources", 1)[-1]
        assert not re.search(r"https?://\d+\.\d+\.\d+\.\d+", sources)
        assert "staging." not in sources
    bliss = summarise_study(kb, "bliss-ln-furie-2020").to_markdown()
    assert "https://pubmed.ncbi.nlm.nih.gov/36302567/" in bliss


# --------------------------------------------------------------------------
# 10. What the evidence is about
# --------------------------------------------------------------------------


def test_stop_it_answer_says_what_was_tested_and_that_nothing_is_a_cure(kb: OneReading) -> None:
    answer = answer_question(kb, "I have lupus. What can I do to stop it?")
    tested = " ".join(s.text for s in answer.sentences if s.section == "What the studies tested")
    assert "less lupus activity" in tested and "better kidneys" in tested
    assert "no outcome in this knowledge base is a cure" in tested
    # independently: no outcome label or definition in the knowledge base speaks of a cure
    labels = kb.select(
        f"""SELECT ?t WHERE {{ ?o a <{EKB}Outcome> ; ?p ?t . FILTER(isLiteral(?t)) }}"""
    ).rows
    assert labels and not any(re.search(r"\bcur(e|ed|es)\b", str(r["t"]), re.I) for r in labels)
    assert "talk with your doctor" in answer.to_markdown()


# --------------------------------------------------------------------------
# Readability of every output
# --------------------------------------------------------------------------


@pytest.mark.parametrize("study_id", SHIPPED_IDS)
def test_every_shipped_summary_reads_at_grade_8_or_below(kb: OneReading, study_id: str) -> None:
    assert readability_grade(summarise_study(kb, study_id).plain_text()) <= 8.0


def test_the_no_evidence_answer_reads_at_grade_8_or_below(kb: OneReading) -> None:
    answer = answer_question(kb, "What can I do about migraine?")
    assert "There is no evidence about migraine in this knowledge base." in answer.plain_text()
    assert readability_grade(answer.plain_text()) <= 8.0


def test_a_clear_difference_against_the_treatment_does_not_meet_the_main_goal(
    tmp_path: Path,
) -> None:
    # SYNTHETIC variant of the shipped HCQ withdrawal trial: the group that kept
    # hydroxychloroquine is given 20 flares of 25 (the paper reports 9), so the
    # recorded clear difference (RR 2.5, CI 1.08-5.58) now runs against it.
    (tmp_path / "studies").mkdir()
    source = REPO / "kb" / "studies" / "hcq-withdrawal-canadian-1991.ttl"
    text = source.read_text(encoding="utf-8")
    head, sep, tail = text.partition("<study/hcq-withdrawal-canadian-1991/result/flare-w24-hcq>")
    tail = tail.replace("ekb:events 9 ;", "ekb:events 20 ;", 1)
    (tmp_path / "studies" / source.name).write_text(head + sep + tail, encoding="utf-8")
    store = EmbeddedStore.open_kb(tmp_path)
    happened = [
        s.text
        for s in summarise_study(store, "hcq-withdrawal-canadian-1991").sentences
        if s.section == "What happened"
    ]
    assert happened[0].startswith("Main result: 20 of the 25 patients")
    assert happened[1] == (
        "This difference is unlikely to be chance, but it does not favour the treated group."
    )
    answer = answer_question(store, "Does hydroxychloroquine help lupus?").plain_text()
    assert "Bottom line: the one randomised trial we hold did not meet its main goal." in answer


# --------------------------------------------------------------------------
# Second reading of the seed question and five other phrasings (this session)
# --------------------------------------------------------------------------


def _active_comparator_trials_missing_their_goal() -> list[tuple[str, str]]:
    """(study id, comparator arm label) of every shipped randomised trial whose primary
    comparison is against an arm with the role active comparator and shows no clear
    difference (p >= 0.05, or a ratio's 95% CI that holds 1), read from the study files
    with rdflib, not through kb.plain."""
    from rdflib import Graph

    found = []
    for path in sorted((REPO / "kb" / "studies").glob("*.ttl")):
        graph = Graph().parse(path)
        rows = graph.query(
            """PREFIX ekb: <https://w3id.org/evidence-kb/ontology#>
            PREFIX term: <https://w3id.org/evidence-kb/vocab/term/>
            PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
            SELECT ?id ?label ?p ?lo ?hi WHERE {
                ?s ekb:studyId ?id .
                ?c a ekb:Comparison ; ekb:outcome ?o ; ekb:comparatorArm ?arm .
                ?o ekb:outcomeRole term:primary .
                ?arm ekb:armRole term:active-comparator ; rdfs:label ?label .
                OPTIONAL { ?c ekb:pValue ?p }
                OPTIONAL { ?c ekb:ciLower ?lo ; ekb:ciUpper ?hi }
                FILTER NOT EXISTS { ?c ekb:subgroup ?g }
            }"""
        )
        for r in rows:
            if r.p is not None:
                unclear = float(r.p) >= 0.05
            else:
                unclear = r.lo is not None and float(r.lo) <= 1 <= float(r.hi)
            if unclear:
                found.append((str(r.id), str(r.label)))
    return found


def test_a_missed_goal_against_another_treatment_is_not_told_as_a_failed_treatment(
    kb: OneReading,
) -> None:
    """ALMS compared mycophenolate with cyclophosphamide, an active treatment, and missed
    its main goal: it did not show mycophenolate works better, which is not "it failed"."""
    trials = _active_comparator_trials_missing_their_goal()
    assert ("alms-induction-appel-2009", "intravenous cyclophosphamide") in trials
    for study, _ in trials:
        text = summarise_study(kb, study).plain_text()
        assert "did not meet this main goal" not in text
        assert re.search(
            r"The study did not show that .+ works better than .+: the difference", text
        )
    section = [
        s.text
        for s in answer_question(kb, "I have lupus. What can I do to stop it?").sentences
        if s.section == "Mycophenolate (MMF)"
    ]
    assert (
        "The study did not show that mycophenolate mofetil works better than cyclophosphamide: "
        "the difference could be chance." in section
    )
    assert section[-1] == (
        "Bottom line: the one randomised trial we hold compared it with cyclophosphamide "
        "and did not show that it works better."
    )


def test_missing_safety_numbers_are_said_to_be_missing_from_the_sources(kb: OneReading) -> None:
    """TULIP-2 reported serious adverse events; the knowledge base does not hold them. The
    answer must not read as if the study gave none."""
    text = answer_question(kb, "Is anifrolumab safe?").plain_text()
    assert "The sources we hold give no overall numbers on serious side effects." in text
    assert "The studies we hold give no" not in text


def test_two_trials_that_both_missed_read_neither(kb: OneReading) -> None:
    section = [
        s.text
        for s in answer_question(kb, "I have lupus. What can I do to stop it?").sentences
        if s.section == "Low-dose interleukin-2 (IL-2)" and s.text.startswith("Bottom line")
    ]
    assert section == [
        "Bottom line: neither of the two randomised trials we hold met its main goal."
    ]


def _placebo_on_top_of_background() -> set[str]:
    """Studies whose placebo group got the same background treatment as the treated
    group (same text, or "same ..."), read from the study files with rdflib."""
    from rdflib import Graph

    found = set()
    for path in sorted((REPO / "kb" / "studies").glob("*.ttl")):
        graph = Graph().parse(path)
        rows = list(
            graph.query(
                """PREFIX ekb: <https://w3id.org/evidence-kb/ontology#>
                SELECT ?id ?role ?bg WHERE {
                    ?s ekb:studyId ?id ; ekb:hasArm ?arm . ?arm ekb:armRole ?role .
                    OPTIONAL { ?arm ekb:backgroundTherapy ?bg }
                }"""
            )
        )
        term = "https://w3id.org/evidence-kb/vocab/term/"
        treated = {
            str(r.bg) if r.bg else None for r in rows if str(r.role) == term + "experimental"
        }
        placebo = [
            str(r.bg) if r.bg else None for r in rows if str(r.role) == term + "placebo-comparator"
        ]
        if placebo and len(treated) == 1 and None not in treated:
            if all(
                b is not None and (b in treated or b.lower().startswith("same")) for b in placebo
            ):
                found.add(str(rows[0].id))
    return found


def test_a_placebo_group_on_the_same_background_treatment_is_not_read_as_untreated(
    kb: OneReading,
) -> None:
    """REGENCY's "placebo group" got mycophenolate and steroids like the obinutuzumab group;
    "compared with 33% in the placebo group" alone reads as if they had no treatment."""
    from kb.plain.sentences import SAME_BACKGROUND

    expected = _placebo_on_top_of_background()
    assert {"regency-furie-2025", "bliss-ln-furie-2020", "tulip2-morand-2020"} <= expected
    assert "hcq-withdrawal-canadian-1991" not in expected  # its placebo group stopped HCQ
    for study in SHIPPED_IDS:
        received = [
            s.text
            for s in summarise_study(kb, study).sentences
            if s.section == "What they received"
        ]
        assert (SAME_BACKGROUND in received) == (study in expected), study
    answer = answer_question(kb, "Does obinutuzumab work?").plain_text()
    assert answer.count(SAME_BACKGROUND) == 2  # NOBILITY and REGENCY


def test_the_placebo_group_of_a_withdrawal_trial_is_said_to_have_stopped_the_drug(
    kb: OneReading,
) -> None:
    """In the HCQ withdrawal trial the "placebo group" was switched from hydroxychloroquine
    to placebo ("switch to placebo" in the data); the short name alone reads as patients
    who never took it."""
    from rdflib import Graph, URIRef

    design = URIRef("https://w3id.org/evidence-kb/vocab/design/randomised-withdrawal-trial")
    withdrawal = {
        path.stem
        for path in (REPO / "kb" / "studies").glob("*.ttl")
        if (None, URIRef(EKB + "design"), design) in Graph().parse(path)
    }
    assert withdrawal == {"hcq-withdrawal-canadian-1991"}
    said = (
        "Everyone was taking hydroxychloroquine at the start. The placebo group was switched "
        "to a dummy treatment; the hydroxychloroquine group kept taking hydroxychloroquine."
    )
    for study in SHIPPED_IDS:
        texts = [s.text for s in summarise_study(kb, study).sentences]
        assert (said in texts) == (study in withdrawal), study
        assert not any("was switched to a dummy" in t for t in texts if t != said)
    assert said in answer_question(kb, "Does hydroxychloroquine prevent flares?").plain_text()
