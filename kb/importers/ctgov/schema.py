"""The structure of the parts of a v2 study record the importer reads, as a JSON Schema.

A record whose fields have other types (an object where the data model has a list, a
string where it has an object) is refused before anything is converted, with the JSON path
and what was expected: the mapper would otherwise skip what it cannot read, and a study
file written from it would silently hold less than the record. The schema lists only the
fields the importer reads; other fields may hold anything. Types follow the v2 data model
(``tests/data/ctgov/registry/README.md``): numbers inside measures, denominators and the
participant flow are JSON strings (numbers are accepted too), adverse-event counts are
JSON integers.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

TEXT: dict[str, Any] = {"type": "string"}
FLAG: dict[str, Any] = {"type": "boolean"}
COUNT: dict[str, Any] = {"type": "integer"}
# Printed values: "19.63", "NA"; a JSON number is read the same way.
PRINTED: dict[str, Any] = {"type": ["string", "number"]}


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def _list(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def _texts() -> dict[str, Any]:
    return _list(TEXT)


_DATE = _object({"date": TEXT, "type": TEXT})
_GROUPS = _list(_object({"id": TEXT, "title": TEXT, "description": TEXT}, ("id",)))
_DENOMS = _list(
    _object(
        {"units": TEXT, "counts": _list(_object({"groupId": TEXT, "value": PRINTED}, ("groupId",)))}
    )
)
_MEASUREMENT = _object(
    {
        "groupId": TEXT,
        "value": PRINTED,
        "spread": PRINTED,
        "lowerLimit": PRINTED,
        "upperLimit": PRINTED,
        "comment": TEXT,
    },
    ("groupId",),
)
_CLASSES = _list(
    _object(
        {
            "title": TEXT,
            "denoms": _DENOMS,
            "categories": _list(_object({"title": TEXT, "measurements": _list(_MEASUREMENT)})),
        }
    )
)
_MEASURE_COMMON = {
    "title": TEXT,
    "description": TEXT,
    "populationDescription": TEXT,
    "paramType": TEXT,
    "dispersionType": TEXT,
    "unitOfMeasure": TEXT,
    "denomUnitsSelected": TEXT,
    "denoms": _DENOMS,
    "classes": _CLASSES,
}
_ANALYSIS = _object(
    {
        "groupIds": _texts(),
        **{
            key: PRINTED
            for key in (
                "paramValue",
                "ciPctValue",
                "ciLowerLimit",
                "ciUpperLimit",
                "pValue",
                "dispersionValue",
            )
        },
        **{
            key: TEXT
            for key in (
                "paramType",
                "ciNumSides",
                "statisticalMethod",
                "dispersionType",
                "nonInferiorityType",
                "ciLowerLimitComment",
                "ciUpperLimitComment",
                "pValueComment",
                "estimateComment",
                "groupDescription",
                "statisticalComment",
                "otherAnalysisDescription",
                "nonInferiorityComment",
            )
        },
    }
)
_ACHIEVEMENTS = _list(
    _object({"groupId": TEXT, "numSubjects": PRINTED, "numUnits": PRINTED, "comment": TEXT})
)
_EVENT = _object(
    {
        "term": TEXT,
        "organSystem": TEXT,
        "sourceVocabulary": TEXT,
        "assessmentType": TEXT,
        "notes": TEXT,
        "stats": _list(
            _object(
                {"groupId": TEXT, "numEvents": COUNT, "numAffected": COUNT, "numAtRisk": COUNT},
                ("groupId",),
            )
        ),
    }
)
_REGISTERED_OUTCOME = _list(_object({"measure": TEXT, "description": TEXT, "timeFrame": TEXT}))

STUDY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "The parts of a ClinicalTrials.gov API v2 study that evidence-kb imports",
    **_object(
        {
            "protocolSection": _object(
                {
                    "identificationModule": _object(
                        {
                            "nctId": TEXT,
                            "briefTitle": TEXT,
                            "officialTitle": TEXT,
                            "acronym": TEXT,
                            "secondaryIdInfos": _list(_object({"id": TEXT, "type": TEXT})),
                        },
                        ("nctId",),
                    ),
                    "statusModule": _object(
                        {
                            "overallStatus": TEXT,
                            "startDateStruct": _DATE,
                            "completionDateStruct": _DATE,
                            "studyFirstPostDateStruct": _DATE,
                            "resultsFirstPostDateStruct": _DATE,
                            "lastUpdatePostDateStruct": _DATE,
                        }
                    ),
                    "designModule": _object(
                        {
                            "studyType": TEXT,
                            "phases": _texts(),
                            "designInfo": _object(
                                {
                                    "allocation": TEXT,
                                    "interventionModel": TEXT,
                                    "observationalModel": TEXT,
                                    "timePerspective": TEXT,
                                    "primaryPurpose": TEXT,
                                    "maskingInfo": _object(
                                        {"masking": TEXT, "whoMasked": _texts()}
                                    ),
                                }
                            ),
                            "enrollmentInfo": _object(
                                {"count": {"type": ["integer", "string"]}, "type": TEXT}
                            ),
                        }
                    ),
                    "conditionsModule": _object({"conditions": _texts()}),
                    "eligibilityModule": _object(
                        {
                            "eligibilityCriteria": TEXT,
                            "minimumAge": TEXT,
                            "maximumAge": TEXT,
                            "sex": TEXT,
                            "healthyVolunteers": FLAG,
                            "studyPopulation": TEXT,
                        }
                    ),
                    "armsInterventionsModule": _object(
                        {
                            "armGroups": _list(
                                _object(
                                    {
                                        "label": TEXT,
                                        "type": TEXT,
                                        "description": TEXT,
                                        "interventionNames": _texts(),
                                    }
                                )
                            ),
                            "interventions": _list(
                                _object(
                                    {
                                        "type": TEXT,
                                        "name": TEXT,
                                        "description": TEXT,
                                        "otherNames": _texts(),
                                        "armGroupLabels": _texts(),
                                    }
                                )
                            ),
                        }
                    ),
                    "outcomesModule": _object(
                        {
                            "primaryOutcomes": _REGISTERED_OUTCOME,
                            "secondaryOutcomes": _REGISTERED_OUTCOME,
                            "otherOutcomes": _REGISTERED_OUTCOME,
                        }
                    ),
                    "contactsLocationsModule": _object(
                        {"locations": _list(_object({"country": TEXT}))}
                    ),
                    "sponsorCollaboratorsModule": _object(
                        {
                            "leadSponsor": _object({"name": TEXT}),
                            "collaborators": _list(_object({"name": TEXT})),
                        }
                    ),
                },
                ("identificationModule",),
            ),
            "resultsSection": _object(
                {
                    "participantFlowModule": _object(
                        {
                            "groups": _GROUPS,
                            "periods": _list(
                                _object(
                                    {
                                        "title": TEXT,
                                        "milestones": _list(
                                            _object(
                                                {
                                                    "type": TEXT,
                                                    "comment": TEXT,
                                                    "achievements": _ACHIEVEMENTS,
                                                }
                                            )
                                        ),
                                        "dropWithdraws": _list(
                                            _object(
                                                {
                                                    "type": TEXT,
                                                    "comment": TEXT,
                                                    "reasons": _ACHIEVEMENTS,
                                                }
                                            )
                                        ),
                                    }
                                )
                            ),
                        }
                    ),
                    "baselineCharacteristicsModule": _object(
                        {
                            "populationDescription": TEXT,
                            "groups": _GROUPS,
                            "denoms": _DENOMS,
                            "measures": _list(_object(_MEASURE_COMMON)),
                        }
                    ),
                    "outcomeMeasuresModule": _object(
                        {
                            "outcomeMeasures": _list(
                                _object(
                                    {
                                        **_MEASURE_COMMON,
                                        "type": TEXT,
                                        "timeFrame": TEXT,
                                        "reportingStatus": TEXT,
                                        "anticipatedPostingDate": TEXT,
                                        "groups": _GROUPS,
                                        "analyses": _list(_ANALYSIS),
                                    }
                                )
                            )
                        }
                    ),
                    "adverseEventsModule": _object(
                        {
                            "frequencyThreshold": PRINTED,
                            "timeFrame": TEXT,
                            "eventGroups": _list(
                                _object(
                                    {
                                        "id": TEXT,
                                        "title": TEXT,
                                        "description": TEXT,
                                        **{
                                            f"{prefix}{kind}": COUNT
                                            for prefix in ("deaths", "serious", "other")
                                            for kind in ("NumAffected", "NumAtRisk")
                                        },
                                    },
                                    ("id",),
                                )
                            ),
                            "seriousEvents": _list(_EVENT),
                            "otherEvents": _list(_EVENT),
                        }
                    ),
                }
            ),
            "derivedSection": _object({"miscInfoModule": _object({"versionHolder": TEXT})}),
        },
        ("protocolSection",),
    ),
}

_NAMES = {
    "object": "an object",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(the study object)"


@lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(STUDY_SCHEMA)
    return Draft202012Validator(STUDY_SCHEMA)


def structure_problems(record: Any, limit: int = 5) -> list[str]:
    """What in ``record`` does not have the structure the importer reads, one line each
    ("resultsSection.outcomeMeasuresModule.outcomeMeasures: expected a list, got an
    object"), the first ``limit`` in path order; empty when it conforms.

    >>> structure_problems({"protocolSection": {"identificationModule": {"nctId": 5}}})
    ['protocolSection.identificationModule.nctId: expected text, got a whole number']
    """
    problems = []
    errors = sorted(_validator().iter_errors(record), key=lambda e: [str(p) for p in e.path])
    for error in errors:
        where = _path(error.absolute_path)
        if error.validator == "type":
            wanted = error.validator_value
            wanted = wanted if isinstance(wanted, list) else [wanted]
            expected = " or ".join(_NAMES[w] for w in wanted)
            got = _NAMES[_json_type(error.instance)]
            problems.append(f"{where}: expected {expected}, got {got}")
        elif error.validator == "required":
            missing = str(error.message).split("'")[1] if "'" in error.message else "a field"
            problems.append(f"{where}: the required field '{missing}' is missing")
        else:  # the schema uses only type and required; kept general all the same
            problems.append(f"{where}: does not have the expected structure")
        if len(problems) >= limit:
            break
    return problems


def not_readable(problems: list[str]) -> str:
    """The message for a record with structure ``problems``."""
    return "not a ClinicalTrials.gov v2 study record the importer can read: " + "; ".join(problems)
