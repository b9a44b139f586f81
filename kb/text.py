"""Small text helpers shared by the library and the command line."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the closest candidate, or an empty string.

    >>> did_you_mean("studie", ["studies", "claims"])
    " Did you mean 'studies'?"
    >>> did_you_mean("zzz", ["studies"])
    ''
    """
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.5)
    return f" Did you mean {close[0]!r}?" if close else ""


#: Characters escaped inside a double-quoted string, the same in Turtle and SPARQL (ECHAR).
_STRING_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def quoted_string(value: str) -> str:
    """A double-quoted Turtle/SPARQL string whose value is exactly ``value``.

    Every character that could end the string or the line is escaped; other
    control characters become ``\\u`` escapes, so the result is one line.

    >>> quoted_string('say "hi" } #')
    '"say \\\\"hi\\\\" } #"'
    >>> quoted_string("a\\nb")
    '"a\\\\nb"'
    """
    out = []
    for ch in value:
        if ch in _STRING_ESCAPES:
            out.append(_STRING_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


# C0 controls except tab and line feed, DEL, C1 controls, and the bidirectional
# overrides and isolates (text that reorders what a terminal shows).
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str) -> str:
    r"""``text`` with terminal control characters shown as escapes, so they cannot act.

    A title holding ``ESC [2J`` would clear the screen of whoever prints it;
    here it is shown as ``\x1b[2J``. Line feeds and tabs are kept.

    >>> escape_controls("ok\x1b[31mred\r\n")
    'ok\\x1b[31mred\\r\n'
    """

    def shown(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"

    return _CONTROL_CHARS.sub(shown, text)
