"""RoB assessments as FHIR R5 ArtifactAssessment (kb.rob.fhir), validated with fhir.resources.

The forms are the SYNTHETIC ones of tests/data/rob (made up; no real study was assessed).
Expected judgements come from ``ekb rob check -f json`` (the CLI's own path) and expected
answers from the YAML forms read here, not from the exporter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fhir.resources.artifactassessment import ArtifactAssessment
from fhir.resources.bundle import Bundle

from kb.grade.fhir import CERT_RATING, CERT_TYPE, ROB_CODES
from kb.rob.assessment import assess_file
from kb.rob.fhir import artifact_assessment, bundle

DATA = Path(__file__).parent / "data" / "rob"
FORMS = sorted(DATA.glob("synthetic-*.yaml"))


def ekb(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from kb.cli import main; main()", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_synthetic_form_exports_a_valid_bundle() -> None:
    found = [assess_file(f) for f in FORMS]
    model = Bundle.model_validate(bundle(found, "synthetic-review"))
    ids = [e.resource.id for e in model.entry]
    assert len(ids) == len(set(ids)) == len(FORMS)
    for entry in model.entry:
        assert entry.resource.get_resource_type() == "ArtifactAssessment"


@pytest.mark.parametrize("form", [f for f in FORMS if "robins" not in f.name], ids=lambda f: f.stem)
def test_rob2_judgements_and_answers_are_those_of_the_form(form: Path) -> None:
    data = yaml.safe_load(form.read_text())
    res = ArtifactAssessment.model_validate(artifact_assessment(assess_file(form)))
    [top] = res.content
    assert (top.type.coding[0].system, top.type.coding[0].code) == (CERT_TYPE, "RiskOfBias")
    if "not_assessed" in data:
        assert [c.text for c in top.classifier] == ["not assessed"]
        assert not top.classifier[0].coding and not top.component
        assert data["not_assessed"] in top.summary
        return
    check = ekb("rob", "check", form, "-f", "json")
    assert check.returncode == 0, check.stderr
    expected = json.loads(check.stdout)
    assert top.classifier[0].text == expected["overall"]
    assert top.classifier[0].coding[0].system == CERT_RATING
    assert top.classifier[0].coding[0].code == ROB_CODES[expected["overall"]]
    domains = {c.type.text.split()[0]: c for c in top.component}
    assert {d: c.classifier[0].text for d, c in domains.items()} == expected["domains"]
    answered = {
        c.type.text.split()[0]: c.classifier[0].text
        for d in domains.values()
        for c in d.component or []
    }
    assert answered == {str(k): str(v).upper() for k, v in data["answers"].items()}
    assert res.artifactUri.endswith(f"/study/{data['study']}")


def test_support_quotes_overrides_and_section_b_travel(tmp_path: Path) -> None:
    data = yaml.safe_load((DATA / "synthetic-rob2-trial-a.yaml").read_text())
    data["answers"]["1.1"] = {"answer": "Y", "support": "synthetic: computer-generated list"}
    form = tmp_path / "with-support.yaml"
    form.write_text(yaml.safe_dump(data))
    res = artifact_assessment(assess_file(form))
    [d1, *_] = res["content"][0]["component"]
    [q11] = [c for c in d1["component"] if c["type"]["text"].startswith("1.1 ")]
    assert q11["summary"] == "synthetic: computer-generated list"

    robins = artifact_assessment(assess_file(DATA / "synthetic-robins-cohort-f.yaml"))
    ArtifactAssessment.model_validate(robins)
    [section_b, d1, *_] = robins["content"][0]["component"]
    assert section_b["type"]["text"] == "Section B"
    assert [c["type"]["text"] for c in section_b["component"]] == ["B1", "B3"]
    assert d1["classifier"][0]["text"] == "low-except-confounding"
    assert "the reviewer's judgement" in d1["summary"]


def test_the_shipped_review_exports_its_not_assessed_result(tmp_path: Path) -> None:
    out = tmp_path / "rob.json"
    run = ekb("rob", "show", "il2-sle-ln-worked-example", "-f", "fhir", "-o", out)
    assert run.returncode == 0, run.stderr
    model = Bundle.model_validate(json.loads(out.read_text()))
    [entry] = model.entry
    [top] = entry.resource.content
    assert top.classifier[0].text == "not assessed"
    assert "full text not available" in top.summary
    assert entry.resource.artifactUri.endswith("/study/he-2020-ard-il2-rct")
