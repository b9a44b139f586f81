"""The shipped lupus corpus against its reference file (tests/data/reference/lupus-studies.yaml,
a copy of shared/reference/lupus-studies.yaml kept with the tests, see its README).

Expected values are read from the reference file itself wherever it prints them, so a number
typed wrongly into a study file, or a null that became a value, fails here.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF

REPO = Path(__file__).resolve().parents[1]
STUDIES = REPO / "kb" / "studies"
VOCAB = REPO / "ontology" / "vocab"
REFERENCE = Path(__file__).resolve().parent / "data" / "reference" / "lupus-studies.yaml"

EKB = Namespace("https://w3id.org/evidence-kb/ontology#")
RES = "https://w3id.org/evidence-kb/resource/study/"
SRCTYPE = Namespace("https://w3id.org/evidence-kb/vocab/source-type/")

#: The pilot's record id in the reference file, and the id it has in the knowledge base.
PILOT_RECORD, PILOT_ID = "il2-refractory-ln-rheumther-2021", "il2-refractory-ln-2021"


@pytest.fixture(scope="module")
def records() -> dict[str, dict]:
    docs = [d for d in yaml.safe_load_all(REFERENCE.read_text(encoding="utf-8")) if d]
    return {d["id"]: d for d in docs}


@pytest.fixture(scope="module")
def kb() -> Graph:
    graph = Graph()
    for path in sorted(STUDIES.glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


@pytest.fixture(scope="module")
def vocab() -> Graph:
    graph = Graph()
    for path in sorted(VOCAB.glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


def node(study: str, key: str) -> URIRef:
    return URIRef(f"{RES}{study}/{key}")


def value(graph: Graph, subject: URIRef, prop: str):
    """The single Python value of ``subject prop``; fails if absent or repeated."""
    values = list(graph.objects(subject, EKB[prop]))
    assert len(values) == 1, f"{subject} ekb:{prop}: expected one value, found {values}"
    found = values[0]
    return found.toPython() if isinstance(found, Literal) else found


def values(graph: Graph, subject: URIRef, *props: str) -> tuple:
    return tuple(value(graph, subject, prop) for prop in props)


def absent(graph: Graph, subject: URIRef, prop: str) -> bool:
    return (subject, EKB[prop], None) not in graph


def dec(text: str) -> Decimal:
    return Decimal(text)


def pct(printed: str) -> Decimal:
    """``"55.17%"`` -> 55.17."""
    match = re.fullmatch(r"\s*(-?[\d.]+)%\s*", printed)
    assert match, printed
    return dec(match.group(1))


def n_of_n(printed: str) -> tuple[int, int, Decimal | None]:
    """``"7/13 (53.85%)"`` -> (7, 13, 53.85); the percentage may be missing."""
    match = re.fullmatch(r"\s*(\d+)/(\d+)(?:\s*\(([\d.]+)%\))?\s*", printed)
    assert match, printed
    return int(match.group(1)), int(match.group(2)), dec(match.group(3)) if match.group(3) else None


def n_pct(printed: str) -> tuple[int, Decimal | None]:
    """``"2 (6.9%)"`` -> (2, 6.9); ``"0"`` -> (0, None)."""
    match = re.fullmatch(r"\s*(\d+)(?:\s*\(([\d.]+)%?\))?\s*", printed)
    assert match, printed
    return int(match.group(1)), dec(match.group(2)) if match.group(2) else None


def ci(printed: str) -> tuple[Decimal, Decimal, Decimal]:
    """``"OR 1.6 (95% CI 1.0 to 2.3)"`` -> (1.6, 1.0, 2.3)."""
    number = r"(-?[\d.]+)"
    pattern = (
        number + r" \((?:95% CI )?(?:printed as )?" + number + r"(?:,| to|-) ?" + number + r"\)"
    )
    match = re.search(pattern, printed)
    assert match, printed
    return dec(match.group(1)), dec(match.group(2)), dec(match.group(3))


# --------------------------------------------------------------------------------------------
# The set of studies
# --------------------------------------------------------------------------------------------


def test_shipped_kb_holds_exactly_the_fifteen_studies_of_the_reference_file(kb, records):
    expected = {PILOT_ID if rid == PILOT_RECORD else rid for rid in records}
    shipped = {str(s) for s in kb.objects(None, EKB.studyId)}
    assert len(records) == 15
    assert shipped == expected


def test_each_study_lives_in_a_file_named_after_its_id(kb):
    for path in STUDIES.glob("*.ttl"):
        graph = Graph().parse(path, format="turtle")
        ids = [str(s) for s in graph.objects(None, EKB.studyId)]
        assert ids == [path.stem]


def test_the_pilot_is_not_encoded_twice(kb):
    assert not (STUDIES / f"{PILOT_RECORD}.ttl").exists()
    assert (URIRef(RES + PILOT_ID), RDF.type, EKB.Study) in kb


def test_study_years_match_the_reference_file(kb, records):
    for rid, rec in records.items():
        sid = PILOT_ID if rid == PILOT_RECORD else rid
        year = str(value(kb, URIRef(RES + sid), "year"))
        assert year == str(rec["year"])[:4], sid


# --------------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------------


def numbered_records(kb: Graph):
    for cls in (EKB.Result, EKB.Comparison, EKB.SafetyFinding):
        yield from kb.subjects(RDF.type, cls)


def test_every_result_comparison_and_safety_finding_has_a_typed_source_with_a_url(kb):
    checked = 0
    for record in numbered_records(kb):
        source = value(kb, record, "source")
        assert (source, RDF.type, EKB.Source) in kb
        assert not absent(kb, source, "sourceType"), record
        assert not absent(kb, record, "extractedBy") and not absent(kb, record, "extractedOn"), (
            record
        )
        if source == node(PILOT_ID, "source/pls"):
            # The plain-language summary was read from the project's seed file, not a web page.
            assert value(kb, source, "sourceType") == SRCTYPE["plain-language-summary"]
            continue
        assert str(value(kb, source, "url")).startswith("http"), record
        checked += 1
    assert checked > 200


def test_every_source_url_is_one_the_reference_file_names(kb, records):
    text = REFERENCE.read_text(encoding="utf-8")
    for source in kb.subjects(RDF.type, EKB.Source):
        for url in kb.objects(source, EKB.url):
            assert str(url) in text, f"{source}: {url} is not in the reference file"


def test_source_types_follow_the_tags_of_the_reference_file(kb):
    tagged = {
        ("he-2020-ard-il2-rct", "source/abstract"): "journal-abstract",
        ("he-2020-ard-il2-rct", "source/table2"): "journal-table",
        ("il2-refractory-ln-acr-2018", "source/abstract"): "congress-abstract",
        ("aurora1-rovin-2021", "source/press-release"): "sponsor-release",
        ("aurora1-rovin-2021", "source/congress-2020"): "congress-abstract",
        ("alms-induction-appel-2009", "source/summary"): "secondary-summary",
        ("nobility-furie-2022", "source/registry"): "registry-record",
        ("regency-furie-2025", "source/news"): "secondary-summary",
    }
    for (study, key), stype in tagged.items():
        assert value(kb, node(study, key), "sourceType") == SRCTYPE[stype]


def test_lower_confidence_source_types_are_marked_in_the_vocabulary(kb, vocab):
    used = set(kb.objects(None, EKB.sourceType))
    assert {SRCTYPE["sponsor-release"], SRCTYPE["secondary-summary"]} <= used
    for stype in used:
        flag = value(vocab, stype, "lowerConfidence")
        assert flag is (stype in {SRCTYPE["sponsor-release"], SRCTYPE["secondary-summary"]}), stype


def test_numbers_read_from_news_summaries_can_be_told_apart(kb, vocab):
    lower = {s for s in vocab.subjects(EKB.lowerConfidence, Literal(True))}
    weak = [
        r for r in numbered_records(kb) if value(kb, value(kb, r, "source"), "sourceType") in lower
    ]
    assert node("regency-furie-2025", "safety/sae-obinutuzumab") in weak
    assert node("alms-induction-appel-2009", "result/renal-response-w24-mmf") in weak
    assert node("he-2020-ard-il2-rct", "result/sri4-w12-il2") not in weak


# --------------------------------------------------------------------------------------------
# Spot checks against the reference file, one block per study
# --------------------------------------------------------------------------------------------


def test_pilot_numbers_match_the_plain_language_summary_facts(kb, records):
    facts = records[PILOT_RECORD]["facts_from_plain_language_summary"]
    events, total, percent = n_of_n(re.match(r"(\S+ \(\S+\))", facts[2]).group(1))
    r = node(PILOT_ID, "result/proteinuria-improvement-50-w12")
    assert values(kb, r, "events", "total", "percent") == (events, total, percent)
    assert "50.3%" in facts[3] and value(
        kb, node(PILOT_ID, "result/proteinuria-w12"), "percentChange"
    ) == dec("-50.3")
    assert value(kb, node(PILOT_ID, "result/treg-w12"), "followUpValue") == dec("16.6")


def test_pilot_gets_no_dose_from_the_congress_abstract(kb):
    assert absent(kb, node(PILOT_ID, "arm/il2/intervention"), "doseValue")


def test_acr_2018_abstract_dose_and_route(kb, records):
    arm = records["il2-refractory-ln-acr-2018"]["arms"][0]["intervention"]
    iv = node("il2-refractory-ln-acr-2018", "arm/il2/intervention")
    assert arm["dose"] == "1 million IU"
    assert value(kb, iv, "doseValue") == dec("1000000") and value(kb, iv, "doseUnit") == "[iU]"
    assert value(kb, iv, "doseText") == arm["dose"]
    assert str(value(kb, iv, "route")).endswith("/subcutaneous")
    assert absent(kb, node("il2-refractory-ln-acr-2018", "arm/il2"), "n")
    assert not list(kb.subjects(EKB.arm, node("il2-refractory-ln-acr-2018", "arm/il2")))


def test_jicr_2019_remission_rate_and_p_values(kb, records):
    outcomes = records["il2-deficiency-renal-jicr-2019"]["outcomes"]
    s = "il2-deficiency-renal-jicr-2019"
    assert value(kb, node(s, "result/remission-il2"), "percent") == pct(
        outcomes[3]["result"].split(" ")[0]
    )
    assert value(kb, node(s, "comparison/remission-il2-vs-conventional"), "pValue") == dec(
        outcomes[3]["p"]
    )
    assert value(kb, node(s, "result/serum-il2-active-ln"), "pValue") == dec(outcomes[0]["p"])
    # the comparator's rate is not given: nothing recorded for it
    assert not list(kb.subjects(EKB.arm, node(s, "arm/conventional")))


def test_he_2020_response_rates_and_the_29_analysed(kb, records):
    rec = records["he-2020-ard-il2-rct"]
    s = "he-2020-ard-il2-rct"
    for i, key in ((0, "sri4-w12"), (1, "sri4-w24")):
        il2 = node(s, f"result/{key}-il2")
        assert value(kb, il2, "percent") == pct(rec["outcomes"][i]["il2"])
        assert value(kb, il2, "printedText") == rec["outcomes"][i]["il2"]
        assert value(kb, il2, "total") == 29 and absent(kb, il2, "events")
        assert value(kb, node(s, f"result/{key}-placebo"), "percent") == pct(
            rec["outcomes"][i]["placebo"]
        )
        assert value(kb, node(s, f"comparison/{key}"), "pValue") == dec(rec["outcomes"][i]["p"])
    assert (
        value(kb, node(s, "arm/il2"), "n") == rec["population"]["n_randomised_per_arm"]["il2"] == 30
    )
    events, total, percent = n_of_n(rec["outcomes"][2]["il2"])
    r = node(s, "result/ln-complete-remission-il2")
    assert values(kb, r, "events", "total", "percent") == (events, total, percent)
    assert absent(kb, r, "timepointWeeks")  # timepoint null in the reference file


def test_he_2020_within_arm_medians_with_ranges_and_p(kb, records):
    s = "he-2020-ard-il2-rct"
    printed = records[s]["outcomes"][3]["il2"]
    medians = re.findall(r"([\d.]+) \(([\d.]+)-([\d.]+)\)", printed)
    for (median, low, high), week in zip(medians, (0, 12, 24), strict=True):
        r = node(s, f"result/sledai-w{week}-il2")
        assert value(kb, r, "timepointWeeks") == dec(week)
        assert values(kb, r, "median", "rangeLow", "rangeHigh") == (
            dec(median),
            dec(low),
            dec(high),
        )
    w12 = node(s, "result/sledai-w12-il2")
    assert value(kb, w12, "pValue") == dec("0.001") and value(kb, w12, "pValueComparator") == "<"
    assert absent(kb, node(s, "result/sledai-w0-il2"), "pValue")


def test_he_2020_baseline_prednisone_kept_from_both_tables(kb, records):
    s = "he-2020-ard-il2-rct"
    rec = records[s]
    table1 = rec["population"]["baseline_other"]["prednisone_mg_day_median_range_table1"]["il2"]
    table2 = rec["outcomes"][7]["il2"].split(" -> ")[0]
    b, r = node(s, "baseline/prednisone-il2"), node(s, "result/prednisone-w0-il2")
    assert value(kb, b, "median") == dec(table1.split(" ")[0]) == dec("12.5")
    assert value(kb, r, "median") == dec(table2.split(" ")[0]) == dec("15")
    assert value(kb, b, "locator") == "Table 1" and value(kb, r, "locator") == "Table 2"
    assert not absent(kb, b, "qualityFlag") and not absent(kb, r, "qualityFlag")


def test_he_2020_safety_counts_with_their_denominators(kb, records):
    s = "he-2020-ard-il2-rct"
    safety = records[s]["safety"]
    for key, yaml_key in (
        ("any-infection", "any_infection"),
        ("injection-site-reaction", "injection_site_reaction"),
        ("sae", "serious_adverse_events"),
        ("fever", "fever"),
    ):
        for arm in ("il2", "placebo"):
            affected, percent = n_pct(safety[yaml_key][arm])
            f = node(s, f"safety/{key}-{arm}")
            assert value(kb, f, "affected") == affected
            assert value(kb, f, "atRisk") == safety["denominators"][arm]
            if percent is None:
                assert absent(kb, f, "percent")
            else:
                assert value(kb, f, "percent") == percent
    # an explicit "0" is recorded as none occurred
    assert value(kb, node(s, "safety/sae-il2"), "affected") == 0


def test_he_2016_interim_sri_and_injection_site_reactions(kb, records):
    s = "he-2016-natmed-il2-open-label"
    rec = records[s]
    events, total, percent = n_of_n(rec["outcomes"][0]["il2"])
    r = node(s, "result/sri-w6-il2")
    assert values(kb, r, "events", "total", "percent") == (events, total, percent)
    assert value(kb, node(s, "safety/injection-site-reaction"), "affected") == 5
    # the primary endpoint's value was not read: an outcome without a result
    assert not list(kb.subjects(EKB.outcome, node(s, "outcome/response-w10")))


def test_lupil2_itt_and_post_hoc_results(kb, records):
    s = "lupil2-humrich-2022"
    out = records[s]["outcomes"]
    assert value(kb, node(s, "result/sri4-w12-il2"), "percent") == pct(out[0]["il2"])
    assert value(kb, node(s, "comparison/sri4-w12"), "pValue") == dec(out[0]["p"])
    assert value(kb, node(s, "result/sri4-w12-pp-placebo"), "percent") == pct(out[1]["placebo"])
    assert str(value(kb, node(s, "outcome/sri4-w12-pp"), "outcomeRole")).endswith("/post-hoc")


def test_charite_case_report_values(kb, records):
    s = "charite-il2-early-reports"
    assert "from 14 to 4" in records[s]["outcomes"][0]["result"]
    r = node(s, "result/sledai-case")
    assert values(kb, r, "baselineValue", "followUpValue") == (dec("14"), dec("4"))
    assert value(kb, node(s, "arm/cohort-2016/intervention"), "doseValue") == dec("1500000")


def test_bliss_ln_primary_odds_ratio_and_post_hoc_subgroups(kb, records):
    s = "bliss-ln-furie-2020"
    out = records[s]["outcomes"]
    c = node(s, "comparison/perr-w104")
    est, lo, hi = ci(out[0]["effect"])
    assert values(kb, c, "estimate", "ciLower", "ciUpper") == (est, lo, hi)
    assert value(kb, c, "ciLevel") == dec("0.95")
    assert value(kb, node(s, "result/perr-w104-belimumab"), "percent") == pct(out[0]["belimumab"])
    assert absent(kb, node(s, "result/perr-w104-belimumab"), "events")  # never back-calculated
    events, total, percent = n_of_n(
        re.search(r"belimumab (\S+ \(\S+\))", out[3]["relapsed"]).group(1)
    )
    r = node(s, "result/perr-w104-relapsed-belimumab")
    assert values(kb, r, "events", "total", "percent") == (events, total, percent)
    hr = node(s, "comparison/renal-event-or-death")
    assert value(kb, hr, "estimate") == dec("0.51") and str(
        value(kb, hr, "effectMeasure")
    ).endswith("/hazard-ratio")


def test_bliss_ln_extension_completion_kept_as_printed_with_a_flag(kb, records):
    s = "bliss-ln-furie-2020"
    ole = records[s]["safety"]["open_label_extension_28wk"]
    assert ole["completed"] == "245 (97%)"
    r = node(s, "result/ole-completion-all")
    assert values(kb, r, "events", "total", "percent") == (245, 255, dec("97"))
    assert "96.1" in value(kb, r, "qualityFlag")
    # double-blind adverse events were not read: no safety finding on the randomised arms
    for arm in ("belimumab", "placebo"):
        findings = set(kb.subjects(RDF.type, EKB.SafetyFinding))
        assert not set(kb.subjects(EKB.arm, node(s, f"arm/{arm}"))) & findings


def test_aurora1_primary_from_the_congress_abstract(kb, records):
    s = "aurora1-rovin-2021"
    out = records[s]["outcomes"][0]
    r = node(s, "result/crr-w52-voclosporin")
    assert value(kb, r, "percent") == pct(out["voclosporin"]) and absent(kb, r, "events")
    c = node(s, "comparison/crr-w52")
    assert values(kb, c, "estimate", "ciLower", "ciUpper") == ci(out["effect"])
    assert value(kb, c, "pValue") == dec("0.001") and value(kb, c, "pValueComparator") == "<"
    assert value(kb, value(kb, c, "source"), "url") == out["source"]
    assert value(kb, node(s, "safety/aurora2-death-voclosporin"), "affected") == 0


def test_nobility_arms_keep_125_of_126_and_the_missing_week_52_result_stays_absent(kb, records):
    s = "nobility-furie-2022"
    rec = records[s]
    assert [a["n"] for a in rec["arms"]] == [63, 62]
    assert (
        value(kb, node(s, "arm/obinutuzumab"), "n") == 63
        and value(kb, node(s, "arm/placebo"), "n") == 62
    )
    assert value(kb, node(s, "population"), "enrolled") == rec["population"]["n_enrolled"] == 126
    assert rec["outcomes"][0]["obinutuzumab"] is None
    assert not list(kb.subjects(EKB.outcome, node(s, "outcome/crr-w52")))
    weeks = {
        value(kb, r, "timepointWeeks")
        for r in kb.subjects(RDF.type, EKB.Result)
        if str(r).startswith(RES + s + "/result/crr-")
    }
    assert dec("52") not in weeks
    assert value(kb, node(s, "result/crr-w76-obinutuzumab"), "percent") == pct(
        rec["outcomes"][1]["obinutuzumab"]
    )
    assert not list(kb.subjects(RDF.type, EKB.SafetyFinding)) or not any(
        str(f).startswith(RES + s) for f in kb.subjects(RDF.type, EKB.SafetyFinding)
    )


def test_regency_percentages_are_model_based_and_not_counts(kb, records):
    s = "regency-furie-2025"
    out = records[s]["outcomes"][0]
    r = node(s, "result/crr-w76-obinutuzumab")
    assert value(kb, r, "percent") == pct(out["obinutuzumab"])
    assert value(kb, r, "modelBased") is True
    assert absent(kb, r, "events") and absent(kb, r, "total")
    c = node(s, "comparison/crr-w76")
    assert values(kb, c, "estimate", "ciLower", "ciUpper") == (dec("13.4"), dec("2.0"), dec("24.8"))
    assert "13.4" in out["effect"] and "2.0 to 24.8" in out["effect"]
    assert value(kb, c, "adjusted") is True


def test_tulip2_values_each_keep_their_own_source(kb, records):
    s = "tulip2-morand-2020"
    out = records[s]["outcomes"]
    r = node(s, "result/bicla-w52-anifrolumab")
    assert (
        value(kb, r, "percent") == pct(out[0]["anifrolumab"]) and value(kb, r, "modelBased") is True
    )
    assert value(kb, value(kb, r, "source"), "url") == out[0]["source"]
    diff = node(s, "comparison/bicla-w52-difference")
    assert value(kb, diff, "estimate") == dec("16.3")
    assert value(kb, value(kb, diff, "source"), "url") == out[0]["corroborating_source"]
    hr = node(s, "comparison/sustained-bicla-onset")
    assert values(kb, hr, "estimate", "ciLower", "ciUpper") == (
        dec("1.55"),
        dec("1.11"),
        dec("2.18"),
    )


def test_alms_ci_that_lost_its_sign_is_kept_flagged_and_excluded(kb, records):
    s = "alms-induction-appel-2009"
    out = records[s]["outcomes"]
    c = node(s, "comparison/no-bilag-a-b")
    assert out[4]["effect"] == "difference 4.8 (95% CI printed as 4.3 to 14.0)"
    assert values(kb, c, "estimate", "ciLower", "ciUpper") == ci(out[4]["effect"])
    assert value(kb, c, "qualityFlag").startswith("CI has almost surely lost a minus sign")
    assert value(kb, c, "excludeFromMetaAnalysis") is True
    events, total, percent = n_of_n(out[1]["mmf"])
    r = node(s, "result/responders-class-iii-iv-mmf")
    assert values(kb, r, "events", "total", "percent") == (events, total, percent)
    md = node(s, "comparison/sledai-change")
    assert values(kb, md, "estimate", "ciLower", "ciUpper") == ci(out[5]["effect"])
    sd = node(s, "result/sledai-change-mmf")
    assert values(kb, sd, "mean", "sd", "n") == (dec("-6.2"), dec("10.1"), 179)


def test_only_the_alms_interval_is_excluded_from_meta_analysis(kb):
    excluded = set(kb.subjects(EKB.excludeFromMetaAnalysis, Literal(True)))
    assert excluded == {node("alms-induction-appel-2009", "comparison/no-bilag-a-b")}


def test_euro_lupus_has_design_and_size_but_no_invented_results(kb, records):
    s = "euro-lupus-houssiau-2002"
    assert (
        value(kb, node(s, "population"), "enrolled") == records[s]["population"]["n_enrolled"] == 90
    )
    for cls in (EKB.Result, EKB.Comparison, EKB.SafetyFinding, EKB.Claim):
        assert not any(str(x).startswith(RES + s + "/") for x in kb.subjects(RDF.type, cls))
    assert absent(kb, node(s, "arm/low-dose"), "n")


def test_hcq_withdrawal_counts_and_model_based_relative_risks(kb, records):
    s = "hcq-withdrawal-canadian-1991"
    out = records[s]["outcomes"]
    for arm in ("hcq", "placebo"):
        events, total, _ = n_of_n(out[0][arm])
        r = node(s, f"result/flare-w24-{arm}")
        assert values(kb, r, "events", "total") == (events, total)
        assert absent(kb, r, "percent")  # not printed, not computed
    c = node(s, "comparison/flare-w24")
    assert values(kb, c, "estimate", "ciLower", "ciUpper") == ci(out[0]["effect"])
    assert value(kb, c, "modelBased") is True
    assert value(kb, c, "experimentalArm") == node(s, "arm/placebo")
    assert (
        value(kb, node(s, "outcome/major-flare-42m"), "timepointText") == out[3]["timepoint_weeks"]
    )


# --------------------------------------------------------------------------------------------
# Quirks and links
# --------------------------------------------------------------------------------------------


def test_congress_abstract_and_pilot_are_linked_both_ways_not_merged(kb):
    pilot, acr = URIRef(RES + PILOT_ID), URIRef(RES + "il2-refractory-ln-acr-2018")
    assert (pilot, EKB.possiblyRelatedTo, acr) in kb
    assert (acr, EKB.possiblyRelatedTo, pilot) in kb
    assert "not merged" in value(kb, pilot, "note") and "not merged" in value(kb, acr, "note")
    assert len(list(kb.objects(None, EKB.possiblyRelatedTo))) == 2


def test_model_based_flags_sit_only_on_the_studies_the_reference_file_names(kb):
    flagged = {str(x)[len(RES) :].split("/")[0] for x in kb.subjects(EKB.modelBased, Literal(True))}
    assert flagged == {"tulip2-morand-2020", "regency-furie-2025", "hcq-withdrawal-canadian-1991"}


def test_no_count_was_back_calculated_from_a_bare_percentage(kb):
    """Every events value is printed: the printed text holds it as a count."""
    for r in kb.subjects(EKB.events, None):
        events = value(kb, r, "events")
        printed = value(kb, r, "printedText")
        assert re.search(rf"(?<![\d.]){events}(?![\d.]*%)", printed), (r, printed)


def test_every_percent_appears_in_its_printed_text(kb):
    for r in kb.subjects(EKB.percent, None):
        if str(r).startswith(RES + PILOT_ID):
            continue
        percent = value(kb, r, "percent")
        printed = value(kb, r, "printedText")
        numbers = {Decimal(x) for x in re.findall(r"-?\d+(?:\.\d+)?", printed)}
        assert percent in numbers, (r, percent, printed)


def test_every_claim_has_a_grade_certainty_with_reasons_stated_as_the_extractors(kb):
    claims = list(kb.subjects(RDF.type, EKB.Claim))
    assert len(claims) >= 13
    for claim in claims:
        assert not absent(kb, claim, "certainty")
        assert list(kb.objects(claim, EKB.certaintyReason)), claim
        assert "extractor" in value(kb, claim, "note"), claim


def test_shipped_corpus_validates_without_violations():
    from kb.validation import validate_paths

    report = validate_paths([STUDIES])
    violations = [f for r in report.files for f in r.findings if f.severity == "Violation"]
    assert violations == []
