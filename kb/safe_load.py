"""Loading YAML and JSON that a stranger wrote, within limits.

Forms and registry records come from outside (a colleague's extraction, a
download); their parsers must not run for minutes, recurse until Python gives
up, or keep one of two values silently. PyYAML's ``SafeLoader`` only refuses
unsafe *tags*; it expands aliases (a 400-byte "billion laughs" runs for
minutes), follows recursive ones, keeps the last of two equal keys and
recurses once per nesting level. The standard ``json`` module takes ``NaN``,
``Infinity``, ``1e400`` (infinity) and 5,000-digit numbers. The limits here
are written by hand because neither library has them as options:

* YAML aliases and anchors are refused (forms never need them);
* a key given twice in one mapping is refused, naming both lines;
* nesting deeper than :data:`MAX_DEPTH` is refused;
* keys must be plain text without control characters (a key ``"events\\n"``
  would otherwise look like ``events``);
* numbers must be finite, and integers at most :data:`MAX_INT_DIGITS` digits.

Errors keep each library's own error type, so callers report them as they
report any syntax error (with file and line): YAML problems are a
:class:`yaml.MarkedYAMLError`, JSON ones a :class:`json.JSONDecodeError`.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

import yaml

#: Deepest nesting of lists and mappings accepted (forms use 4 or 5 levels).
MAX_DEPTH = 64
#: Longest integer accepted, in digits (a 64-bit count has 19).
MAX_INT_DIGITS = 19

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class LimitError(yaml.MarkedYAMLError):
    """A YAML document is well formed but outside the limits (see the module docstring)."""

    def __init__(self, problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem=problem, problem_mark=mark)


def _limited(loader_class: type[yaml.SafeLoader]) -> type[yaml.SafeLoader]:
    class Limited(loader_class):  # type: ignore[valid-type,misc]
        _depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise LimitError(
                    f"YAML aliases (*{event.anchor}) are not accepted", event.start_mark
                )
            event = self.peek_event()
            if getattr(event, "anchor", None):
                raise LimitError(
                    f"YAML anchors (&{event.anchor}) are not accepted", event.start_mark
                )
            self._depth += 1
            try:
                if self._depth > MAX_DEPTH:
                    raise LimitError(f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, Any] = {}
            for key_node, _value in node.value:
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, str) and _CONTROL.search(key):
                    raise LimitError(
                        f"the key {key!r} holds a control character (line break, tab, ...)",
                        key_node.start_mark,
                    )
                try:
                    first = seen.get(key)
                except TypeError:
                    raise LimitError("a key must be plain text", key_node.start_mark) from None
                if first is not None:
                    raise LimitError(
                        f"the key {key!r} is given twice (first on line {first.line + 1})",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark
            return super().construct_mapping(node, deep=deep)

        def construct_yaml_int(self, node: Any) -> Any:
            digits = str(node.value).lstrip("+-").replace("_", "")
            if len(digits) > MAX_INT_DIGITS:
                raise LimitError(
                    f"the integer {_excerpt(str(node.value))} has more than "
                    f"{MAX_INT_DIGITS} digits",
                    node.start_mark,
                )
            return super().construct_yaml_int(node)

    Limited.add_constructor("tag:yaml.org,2002:int", Limited.construct_yaml_int)
    return Limited


_LIMITED: dict[type, type[yaml.SafeLoader]] = {}


def load_yaml(text: str, loader_class: type[yaml.SafeLoader] = yaml.SafeLoader) -> Any:
    """Parse one YAML document with ``loader_class`` (a ``SafeLoader`` subclass), within limits.

    :raises yaml.YAMLError: not YAML, or outside the limits (:class:`LimitError`, with a mark).
    """
    limited = _LIMITED.get(loader_class)
    if limited is None:
        limited = _LIMITED[loader_class] = _limited(loader_class)
    loader = limited(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        data = loader.construct_document(node)
        _check_numbers(data, node)
        return data
    except RecursionError:
        raise LimitError(f"nested more than {MAX_DEPTH} levels deep", None) from None
    finally:
        loader.dispose()


def _check_numbers(data: Any, node: Any) -> None:
    """Refuse NaN and infinities anywhere in the document (iteratively: no recursion)."""
    stack: list[tuple[Any, Any]] = [(data, node)]
    while stack:
        value, at = stack.pop()
        if isinstance(value, float | Decimal) and not _finite(value):
            raise LimitError(
                f"{value} is not a number a form can hold", getattr(at, "start_mark", None)
            )
        if isinstance(value, dict):
            pairs = at.value if isinstance(at, yaml.MappingNode) else []
            nodes = {id(v): vn for (_kn, vn), v in zip(pairs, value.values(), strict=False)}
            stack.extend((v, nodes.get(id(v), at)) for v in value.values())
        elif isinstance(value, list):
            items = at.value if isinstance(at, yaml.SequenceNode) else []
            stack.extend((v, items[i] if i < len(items) else at) for i, v in enumerate(value))


def _finite(value: float | Decimal) -> bool:
    return value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)


class _NotAllowed(Exception):
    def __init__(self, message: str, token: str) -> None:
        super().__init__(message)
        self.message = message
        self.token = token


def _parse_constant(name: str) -> Any:
    raise _NotAllowed(f"{name} is not a number a record can hold", name)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotAllowed(f"{_excerpt(text)} is too large for a number", text)
    return value


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _NotAllowed(
            f"the integer {_excerpt(text)} has more than {MAX_INT_DIGITS} digits", text
        )
    return int(text)


def load_json(text: str, *, unchecked_depth: tuple[str, ...] = ()) -> Any:
    """``json.loads`` within limits: finite numbers, bounded integers, bounded depth.

    :param unchecked_depth: a path of object keys whose value's depth the caller
        bounds itself, by requiring a shape of it (the rows of a SPARQL result:
        walking them again cost a quarter of reading a large result).
    :raises json.JSONDecodeError: not JSON, or outside the limits (with the position).
    """
    try:
        data = json.loads(
            text,
            parse_constant=_parse_constant,
            parse_float=_parse_float,
            parse_int=_parse_int,
        )
    except _NotAllowed as exc:
        raise json.JSONDecodeError(exc.message, text, _position_of(text, exc.token)) from None
    except RecursionError:
        raise json.JSONDecodeError(
            f"nested more than {MAX_DEPTH} levels deep", text, _too_deep_at(text)
        ) from None
    try:
        check_json_depth(_without(data, unchecked_depth))
    except ValueError as exc:
        raise json.JSONDecodeError(str(exc), text, _too_deep_at(text)) from None
    return data


def _without(data: Any, path: tuple[str, ...]) -> Any:
    """``data`` with the value at ``path`` (object keys) left out, if it is there."""
    if not path or not isinstance(data, dict) or path[0] not in data:
        return data
    rest = {k: v for k, v in data.items() if k != path[0]}
    if len(path) > 1:
        rest[path[0]] = _without(data[path[0]], path[1:])
    return rest


def check_json_depth(data: Any) -> None:
    """Raise ``ValueError`` when parsed JSON nests deeper than :data:`MAX_DEPTH`."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _too_deep_at(text: str) -> int:
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return match.start()
        elif token in "]}":
            depth -= 1
    return 0


def _position_of(text: str, token: str) -> int:
    for match in re.finditer(r'"(?:[^"\\]|\\.)*"|' + re.escape(token), text):
        if match.group() == token:
            return match.start()
    return 0


def _excerpt(text: str, limit: int = 24) -> str:
    return (
        text
        if len(text) <= limit
        else f"{text[: limit // 2]}...{text[-6:]} ({len(text)} characters)"
    )


__all__ = [
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "LimitError",
    "check_json_depth",
    "load_json",
    "load_yaml",
]
