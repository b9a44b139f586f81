"""Small text helpers shared by the library and the command line."""

from __future__ import annotations

import difflib
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
