"""The study, its registry source and its population, from the protocol section."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from kb.importers.ctgov.base import MapperBase
from kb.importers.ctgov.parsing import _date_literal, _norm_enum, _text, parse_count

if TYPE_CHECKING:
    pass


_MASKING = {
    "NONE": "open-label",
    "SINGLE": "single-blind",
    "DOUBLE": "double-blind",
    "TRIPLE": "double-blind",
    "QUADRUPLE": "double-blind",
}


class StudyMapper(MapperBase):
    """Study-level fields of the protocol section."""

    def map_source(self) -> None:
        from rdflib import Literal
        from rdflib.namespace import RDF, XSD

        from kb.namespaces import EKB, SRCTYPE

        s = self.source
        self.g.add((s, RDF.type, EKB.Source))
        self.lit(s, EKB.title, f"ClinicalTrials.gov record {self.nct}")
        self.g.add((s, EKB.sourceType, SRCTYPE["registry-record"]))
        self.g.add(
            (
                s,
                EKB.url,
                Literal(f"https://clinicaltrials.gov/study/{self.nct}", datatype=XSD.anyURI),
            )
        )
        misc = (self.r.get("derivedSection") or {}).get("miscInfoModule") or {}
        version = misc.get("versionHolder")
        if isinstance(version, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", version):
            self.g.add((s, EKB.versionDate, Literal(version, datatype=XSD.date)))
        status = self.protocol("statusModule")
        last = (status.get("lastUpdatePostDateStruct") or {}).get("date")
        if last:
            self.note(s, f"Last update posted on ClinicalTrials.gov: {last}.")
        self.note(
            s,
            "Imported from the ClinicalTrials.gov API v2 JSON record; locators are JSON paths "
            "within the study object.",
        )

    def map_study(self) -> None:
        from rdflib import Literal
        from rdflib.namespace import XSD

        from kb.namespaces import DESIGN, EKB

        s = self.study
        ident = self.protocol("identificationModule")
        status = self.protocol("statusModule")
        design = self.protocol("designModule")
        self.record(s, EKB.Study, "protocolSection.identificationModule")
        self.lit(s, EKB.studyId, self.study_id)
        self.lit(s, EKB.registrationId, self.nct)
        title = _text(ident.get("briefTitle")) or _text(ident.get("officialTitle")) or self.nct
        self.lit(s, EKB.title, title)
        official = _text(ident.get("officialTitle"))
        if official and official != title:
            self.note(s, f"Official title: {official}.")
        acronym = _text(ident.get("acronym"))
        if acronym:
            self.note(s, f"Acronym: {acronym}.")
        for other in ident.get("secondaryIdInfos") or []:
            if isinstance(other, dict) and other.get("id"):
                kind = other.get("type")
                self.note(s, f"Secondary id: {other['id']}" + (f" ({kind})." if kind else "."))
        self.add(s, EKB.reportedIn, self.source)
        posted = (status.get("resultsFirstPostDateStruct") or {}).get("date") or (
            status.get("studyFirstPostDateStruct") or {}
        ).get("date")
        if isinstance(posted, str) and re.match(r"\d{4}", posted):
            self.g.add((s, EKB.year, Literal(posted[:4], datatype=XSD.gYear)))
        self.lit(s, EKB.status, _text(status.get("overallStatus")))
        self.add(s, EKB.startDate, _date_literal((status.get("startDateStruct") or {}).get("date")))
        self.add(
            s,
            EKB.completionDate,
            _date_literal((status.get("completionDateStruct") or {}).get("date")),
        )

        info = design.get("designInfo") or {}
        study_type = _norm_enum(design.get("studyType"))
        allocation = _norm_enum(info.get("allocation"))
        model = _norm_enum(info.get("interventionModel"))
        obs_model = _norm_enum(info.get("observationalModel"))
        arm_groups = self.protocol("armsInterventionsModule").get("armGroups") or []
        concept = None
        if study_type == "INTERVENTIONAL":
            if model == "SINGLE_GROUP" or (len(arm_groups) == 1 and allocation != "RANDOMIZED"):
                concept = "single-arm-trial"
            elif allocation == "RANDOMIZED":
                concept = "randomised-controlled-trial"
            elif allocation == "NON_RANDOMIZED" or len(arm_groups) > 1:
                concept = "non-randomised-controlled-trial"
                if allocation != "NON_RANDOMIZED":
                    self.note(
                        s,
                        f"Allocation registered as {info.get('allocation') or 'nothing'} "
                        "with several arms: recorded as non-randomised.",
                    )
        elif study_type == "EXPANDED_ACCESS":
            concept = "case-series"
            self.note(s, "An expanded-access record: recorded as a case series.")
        elif study_type == "OBSERVATIONAL":
            concept = (
                "cohort" if obs_model in {"COHORT", "NATURAL_HISTORY"} else "observational-analysis"
            )
        if concept:
            self.g.add((s, EKB.design, DESIGN[concept]))
        self.single_arm = concept == "single-arm-trial"
        parts = [p for p in (design.get("studyType"),) if p]
        for key, label in (
            ("allocation", "allocation"),
            ("interventionModel", "model"),
            ("observationalModel", "observational model"),
            ("timePerspective", "time perspective"),
            ("primaryPurpose", "purpose"),
        ):
            if info.get(key):
                parts.append(f"{label} {info[key]}")
        masking = info.get("maskingInfo") or {}
        if masking.get("masking"):
            who = ", ".join(str(w) for w in masking.get("whoMasked") or [])
            parts.append(f"masking {masking['masking']}" + (f" ({who})" if who else ""))
        if parts:
            self.lit(s, EKB.designText, "; ".join(str(p) for p in parts))
        mask = _norm_enum(masking.get("masking"))
        masked = {_norm_enum(w) for w in masking.get("whoMasked") or []}
        blinding = _MASKING.get(mask)
        if mask == "SINGLE" and masked == {"OUTCOMES_ASSESSOR"}:
            blinding = "blinded-assessment"
        if blinding:
            self.g.add((s, EKB.blinding, self.term(blinding)))
        phases = [p for p in design.get("phases") or [] if _norm_enum(p) not in {"NA", ""}]
        if phases:
            labels = [
                _norm_enum(p).replace("EARLY_PHASE", "early ").replace("PHASE", "") for p in phases
            ]
            self.lit(s, EKB.phase, "/".join(labels))
        countries = sorted(
            {
                str(loc["country"])
                for loc in self.protocol("contactsLocationsModule").get("locations") or []
                if isinstance(loc, dict) and loc.get("country")
            }
        )
        for country in countries:
            self.lit(s, EKB.country, country)
        sponsors = self.protocol("sponsorCollaboratorsModule")
        lead = (sponsors.get("leadSponsor") or {}).get("name")
        if lead:
            funding = f"lead sponsor: {lead}"
            collaborators = [
                c.get("name") for c in sponsors.get("collaborators") or [] if c.get("name")
            ]
            if collaborators:
                funding += "; collaborators: " + "; ".join(str(c) for c in collaborators)
            self.lit(s, EKB.funding, funding)
        self.add(s, EKB.hasPopulation, self.population)

    def map_population(self) -> None:
        from kb.namespaces import EKB

        p = self.population
        design = self.protocol("designModule")
        enrolment = design.get("enrollmentInfo") or {}
        self.record(
            p,
            EKB.Population,
            "protocolSection.designModule.enrollmentInfo.count",
            _text(enrolment.get("count")),
        )
        count = parse_count(enrolment.get("count"))
        kind = _norm_enum(enrolment.get("type"))
        if count is not None and kind in {"ACTUAL", ""}:
            self.lit(p, EKB.enrolled, count)
        elif count is not None:
            self.note(
                p,
                f"Enrolment {count} is registered as {enrolment.get('type')}, not actual; "
                "ekb:enrolled is left absent.",
            )
        conditions = [
            c for c in self.protocol("conditionsModule").get("conditions") or [] if _text(c)
        ]
        for c in conditions:
            self.add(p, EKB.condition, self.concept("condition", _text(c) or ""))
        if conditions:
            self.lit(p, EKB.conditionText, "; ".join(_text(c) or "" for c in conditions))
        elig = self.protocol("eligibilityModule")
        lines = []
        if _text(elig.get("eligibilityCriteria")):
            lines.append(_text(elig.get("eligibilityCriteria")))
        limits = []
        if elig.get("minimumAge") or elig.get("maximumAge"):
            limits.append(
                f"ages {elig.get('minimumAge', 'any')} to {elig.get('maximumAge', 'any')}"
            )
        if elig.get("sex"):
            limits.append(f"sex {elig['sex']}")
        if "healthyVolunteers" in elig:
            limits.append(
                "healthy volunteers "
                + ("accepted" if elig["healthyVolunteers"] else "not accepted")
            )
        if _text(elig.get("studyPopulation")):
            limits.append(f"study population: {_text(elig.get('studyPopulation'))}")
        if limits:
            lines.append("Registered limits: " + "; ".join(limits) + ".")
        if lines:
            self.lit(p, EKB.eligibility, "\n\n".join(str(x) for x in lines))
