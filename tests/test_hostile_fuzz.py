"""Brief property-based fuzzing of the loaders that read strangers' input: forms
(YAML), study files (Turtle) and registry records (JSON). Whatever the bytes, each
loader returns or raises its one documented error — never anything else. A few
seconds in all (bounded examples, no deadline for a loaded CI machine)."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.errors import CouldNotRun
from kb.forms import load_form_text
from kb.safe_load import load_json, load_yaml
from kb.validation import parse_turtle

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

YAML_ALPHABET = st.sampled_from(list("ab: -[]{}&*!|>'\"\n\t#,.0123456789e+") + ["~", "<<", ".nan"])
yaml_like = st.lists(YAML_ALPHABET, max_size=80).map("".join)
json_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**18), 10**18)
    | st.floats(allow_nan=False, allow_infinity=False)  # non-finite: refused by design
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(yaml_like)
def test_form_loader_returns_or_raises_could_not_run(text: str) -> None:
    try:
        load_form_text(text, "fuzz.yaml")
    except CouldNotRun as exc:
        assert str(exc).startswith("fuzz.yaml")


@FUZZ
@given(yaml_like)
def test_yaml_loader_raises_only_yaml_errors(text: str) -> None:
    try:
        load_yaml(text)
    except yaml.YAMLError:
        pass


@FUZZ
@given(st.text(max_size=120))
def test_json_loader_raises_only_decode_errors(text: str) -> None:
    try:
        load_json(text)
    except json.JSONDecodeError:
        pass


@FUZZ
@given(json_like)
def test_json_loader_reads_what_json_writes(value: object) -> None:
    assert load_json(json.dumps(value)) == value


_SCRATCH = Path(tempfile.mkdtemp(prefix="ekb-fuzz-"))
atexit.register(shutil.rmtree, _SCRATCH, True)

TURTLE_BITS = st.sampled_from(
    [
        "@prefix ekb: <https://w3id.org/evidence-kb/ontology#> .\n",
        "<a> ", "ekb:x ", '"s" ', '"""long\n""" ', "12 ", "1e400 ", "_:b ", "[ ", "] ", "( ", ") ",
        ". ", "; ", ", ", "\\u0000 ", "<http://x/\x00> ", "\x1b[2J ", "@base <x> . ", "a ",
    ]
)  # fmt: skip


@FUZZ
@given(st.lists(TURTLE_BITS, max_size=30).map("".join))
def test_turtle_loader_raises_only_syntax_errors(text: str) -> None:
    path = _SCRATCH / "fuzz.ttl"
    path.write_text(text, encoding="utf-8")
    try:
        parse_turtle(path)
    except CouldNotRun as exc:  # RdfSyntaxError is one
        message = str(exc)
        assert "fuzz.ttl" in message and "\x1b" not in message and len(message) < 600
