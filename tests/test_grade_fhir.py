"""FHIR R5 certainty export validated with fhir.resources (synthetic ratings on dat.bcg)."""

from __future__ import annotations

from pathlib import Path

from kb.grade import FinalRating, from_meta, rate, suggest
from kb.grade.fhir import CERT_RATING, CERT_TYPE, outcome_evidence

BCG = Path(__file__).parent / "data" / "meta" / "dat.bcg.csv"


def test_outcome_evidence_validates_and_carries_every_domain() -> None:
    from fhir.resources.evidence import Evidence

    from kb.analysis.csv_input import read_csv
    from kb.analysis.meta import analyse

    inp = read_csv(BCG, measure="RR")
    report = analyse(inp)
    rob = {s.study: "low" for s in inp.studies}
    rob[inp.studies[0].study] = None  # synthetic: one result not assessed
    ev = from_meta(inp, report, rob=rob, randomised={s.study: True for s in inp.studies})
    start, sugg, _ = suggest(ev)
    cert = rate(
        start,
        sugg,
        {
            "risk of bias": FinalRating("serious", "synthetic reason"),
            "indirectness": FinalRating("not serious", "synthetic"),
        },
    )
    res = outcome_evidence(
        id="synthetic-bcg",
        title="BCG and tuberculosis (synthetic ratings)",
        measure="RR",
        estimate=ev.estimate,
        ci=ev.ci,
        studies=13,
        participants=ev.participants,
        cert=cert,
        rob=[(s.label, s.rob, "RoB 2") for s in ev.studies],
    )
    model = Evidence.model_validate(res)
    overall = model.certainty[0]
    assert overall.type.coding[0].system == CERT_TYPE and overall.type.coding[0].code == "Overall"
    assert overall.rating.coding[0].system == CERT_RATING
    assert overall.rating.coding[0].code == cert.rating.replace(" ", "-")
    types = [s.type.coding[0].code for s in overall.subcomponent]
    assert types == [
        "RiskOfBias",
        "Inconsistency",
        "Indirectness",
        "Imprecision",
        "PublicationBias",
        "LargeEffect",
        "DoseResponseGradient",
        "PlausibleConfounding",
    ]
    rob_sub = overall.subcomponent[0]
    assert rob_sub.rating.coding[0].code == "serious-concern"
    assert rob_sub.subcomponent[0].rating.text == "not assessed"
    assert rob_sub.subcomponent[1].rating.coding[0].code == "no-concern"
    assert float(model.statistic[0].quantity.value) == round(report.pooled.est, 6)
