"""Writers: each format's handling of numbers, booleans, IRIs, unbound values and awkward text."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from kb.errors import UsageError
from kb.output import FORMATS, plain_value, render, write_result
from kb.store import QueryResult

XSD = "http://www.w3.org/2001/XMLSchema#"


def typed(value: str, datatype: str) -> Literal:
    return Literal(value, datatype=URIRef(XSD + datatype))


ARM = URIRef("https://w3id.org/evidence-kb/resource/study/s1/arm/a")
AGENT = URIRef("https://w3id.org/evidence-kb/vocab/agent/belimumab")


@pytest.fixture
def result() -> QueryResult:
    return QueryResult(
        ["arm", "agent", "events", "change", "flag", "note"],
        [
            {
                "arm": ARM,
                "agent": AGENT,
                "events": typed("7", "integer"),
                "change": typed("-50.3", "decimal"),
                "flag": typed("true", "boolean"),
                "note": Literal("=SUM(A1), then | pipe\tand\nline"),
            },
            {"arm": ARM, "note": Literal("-x @y +z", lang="en")},
        ],
    )


def test_json_gives_numbers_as_numbers_booleans_as_booleans_and_null_when_unbound(
    result: QueryResult,
) -> None:
    rows = json.loads(render(result, "json"))
    assert rows[0]["events"] == 7 and isinstance(rows[0]["events"], int)
    assert rows[0]["change"] == -50.3
    assert rows[0]["flag"] is True
    assert rows[1]["events"] is None and rows[1]["agent"] is None
    assert list(rows[1]) == result.columns


def test_json_keeps_iris_in_full(result: QueryResult) -> None:
    rows = json.loads(render(result, "json"))
    assert rows[0]["arm"] == str(ARM) and rows[0]["agent"] == str(AGENT)


def test_jsonl_writes_one_object_per_row(result: QueryResult) -> None:
    lines = render(result, "jsonl").splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["change"] == -50.3


def test_csv_keeps_negative_numbers_and_leaves_formula_like_text_alone(result: QueryResult) -> None:
    rows = list(csv.reader(io.StringIO(render(result, "csv"))))
    assert rows[0] == result.columns
    assert rows[1][3] == "-50.3"
    assert rows[1][5] == "=SUM(A1), then | pipe\tand\nline"
    assert rows[2][5] == "-x @y +z"
    assert rows[2][2] == ""  # unbound


def test_tsv_escapes_tabs_and_line_breaks_inside_values(result: QueryResult) -> None:
    lines = render(result, "tsv").splitlines()
    assert len(lines) == 3
    cells = lines[1].split("\t")
    assert len(cells) == len(result.columns)
    assert cells[5] == "=SUM(A1), then | pipe\\tand\\nline"
    assert cells[3] == "-50.3"


def test_markdown_shortens_iris_and_escapes_pipes(result: QueryResult) -> None:
    text = render(result, "md")
    lines = text.splitlines()
    assert lines[0] == "| arm | agent | events | change | flag | note |"
    assert "| study/s1/arm/a | agent:belimumab | 7 | -50.3 | true |" in lines[2]
    assert "\\|" in lines[2] and "<br>" in lines[2]


def test_plain_table_aligns_columns_and_shortens_iris(result: QueryResult) -> None:
    lines = render(result, "table").splitlines()
    assert lines[0].split() == result.columns
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].startswith("study/s1/arm/a  agent:belimumab  7")
    assert lines[0].index("events") == lines[2].index("7")


def test_every_format_is_deterministic(result: QueryResult) -> None:
    for fmt in FORMATS:
        assert render(result, fmt) == render(result, fmt)


def test_an_unknown_format_is_a_usage_error(result: QueryResult) -> None:
    with pytest.raises(UsageError, match="unknown format 'xml'"):
        render(result, "xml")


def test_write_result_writes_the_file_and_nothing_to_stdout(
    result: QueryResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "sub" / "out.csv"
    write_result(result, "csv", target)
    assert target.read_text(encoding="utf-8") == render(result, "csv")
    assert capsys.readouterr().out == ""


def test_an_ill_typed_number_keeps_its_text() -> None:
    assert plain_value(typed("about 10", "integer")) == "about 10"


def test_an_empty_result_still_has_its_header() -> None:
    empty = QueryResult(["a", "b"], [])
    assert render(empty, "csv") == "a,b\n"
    assert json.loads(render(empty, "json")) == []
    assert render(empty, "jsonl") == ""
