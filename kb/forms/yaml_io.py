"""Reading and writing form YAML: decimals stay exact, dates stay text.

All YAML parsing of forms goes through :func:`load_form_text` (one place to harden).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from kb.errors import CouldNotRun


class _FormLoader(yaml.SafeLoader):
    """SafeLoader that reads floats as :class:`Decimal` and leaves dates as text."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")  # type: ignore[arg-type]
    try:
        return Decimal(text)
    except InvalidOperation:
        return Decimal(text.lower().replace(".inf", "Infinity").replace(".nan", "NaN"))


_FormLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_FormLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _FormDumper(yaml.SafeDumper):
    """SafeDumper that writes decimals in full and never sorts keys."""


def decimal_lexical(value: Decimal | int) -> str:
    """The xsd:decimal lexical form used everywhere: plain digits, always with a point.

    >>> decimal_lexical(Decimal("12")), decimal_lexical(Decimal("-50.30")), decimal_lexical(3)
    ('12.0', '-50.30', '3.0')
    """
    text = format(Decimal(value), "f")
    if "." not in text:
        text += ".0"
    if text.startswith("-0") and Decimal(text) == 0:
        text = text[1:]
    return text


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:float", decimal_lexical(value))


_FormDumper.add_representer(Decimal, _represent_decimal)
_FormDumper.yaml_implicit_resolvers = _FormLoader.yaml_implicit_resolvers


def load_form_text(text: str, origin: str = "<form>") -> Any:
    """Parse YAML form text.

    :raises CouldNotRun: the text is not YAML (names the line).
    """
    from kb.safe_load import load_yaml

    try:
        return load_yaml(text, _FormLoader)  # kb.safe_load: limits, duplicate keys
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{origin}:{mark.line + 1}" if mark is not None else origin
        problem = getattr(exc, "problem", None) or str(exc)
        raise CouldNotRun(f"{where}: not a valid YAML form: {problem}") from exc


def load_form_file(path: Path) -> Any:
    """Read and parse a form file.

    :raises CouldNotRun: unreadable or not YAML.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CouldNotRun(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise CouldNotRun(f"{path}: not UTF-8 text") from exc
    return load_form_text(text, str(path))


def dump_form(form: dict[str, Any]) -> str:
    """A form as YAML text, keys in form order, decimals exact."""
    return yaml.dump(
        form,
        Dumper=_FormDumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
