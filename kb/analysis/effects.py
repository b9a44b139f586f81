"""Effect sizes and their sampling variances, as R metafor's ``escalc`` computes them.

Measures (metafor's names and defaults, ``vtype="LS"``):

=======  ====================================  =========================================
measure  what                                  needs
=======  ====================================  =========================================
RR       log risk ratio                        ai, bi, ci, di (or ai, ci, n1i, n2i)
OR       log odds ratio                        ai, bi, ci, di (or ai, ci, n1i, n2i)
RD       risk difference                       ai, bi, ci, di (or ai, ci, n1i, n2i)
MD       raw mean difference                   m1i, sd1i, n1i, m2i, sd2i, n2i
SMD      standardised mean difference          m1i, sd1i, n1i, m2i, sd2i, n2i
         (Hedges' g, exact bias correction)
PR       raw proportion                        xi, ni
PLO      logit of a proportion (log odds)      xi, ni
PFT      Freeman-Tukey double arcsine          xi, ni
GEN      an outcome already computed           yi, vi
=======  ====================================  =========================================

Zero cells follow ``escalc``'s defaults (``add=1/2, to="only0", drop00=FALSE``): 1/2 is
added to every cell of a 2x2 table that has a zero cell (RR, OR and RD alike), and to
``xi`` and ``ni - xi`` of a single group with ``xi = 0`` or ``xi = ni`` (PR, PLO); PFT
never gets a correction (metafor sets ``add=0`` for it). Studies with no events, or only
events, in both groups are kept unless ``drop00`` is set, again as in ``escalc``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: Measures comparing two groups on a dichotomous outcome.
BINARY_MEASURES = ("RR", "OR", "RD")
#: Measures comparing two groups on a continuous outcome.
CONTINUOUS_MEASURES = ("MD", "SMD")
#: Measures describing one group's proportion.
PROPORTION_MEASURES = ("PR", "PLO", "PFT")
#: Every measure :func:`effect_size` knows.
MEASURES = (*BINARY_MEASURES, *CONTINUOUS_MEASURES, *PROPORTION_MEASURES, "GEN")

#: How each measure reads, for tables and plot axes.
MEASURE_LABELS: dict[str, str] = {
    "RR": "risk ratio",
    "OR": "odds ratio",
    "RD": "risk difference",
    "MD": "mean difference",
    "SMD": "standardised mean difference (Hedges' g)",
    "PR": "proportion",
    "PLO": "proportion (analysed as log odds)",
    "PFT": "proportion (analysed with the Freeman-Tukey double arcsine)",
    "GEN": "effect size",
}

#: Measures analysed on a transformed scale and reported back on the natural one.
BACK_TRANSFORMED = ("RR", "OR", "PLO", "PFT")
#: Ratio measures: plotted on a log axis, "no effect" at 1.
RATIO_MEASURES = ("RR", "OR")

_ZERO_RULES = ("only0", "all", "if0all", "none")


class NotEstimable(ValueError):
    """A study's data cannot give this effect size; the message says why."""


@dataclass(frozen=True)
class EffectSize:
    """One study's observed outcome ``yi`` and its sampling variance ``vi``.

    ``n`` is the number of participants behind it (both groups, or the single group);
    ``ni`` the single group's size, kept for the Freeman-Tukey back-transformation;
    ``corrected`` says whether a continuity correction was added.
    """

    yi: float
    vi: float
    n: float | None = None
    ni: float | None = None
    corrected: bool = False


def measure_kind(measure: str) -> str:
    """``"binary"``, ``"continuous"``, ``"proportion"`` or ``"generic"``.

    >>> measure_kind("RR"), measure_kind("SMD"), measure_kind("PFT")
    ('binary', 'continuous', 'proportion')
    """
    if measure in BINARY_MEASURES:
        return "binary"
    if measure in CONTINUOUS_MEASURES:
        return "continuous"
    if measure in PROPORTION_MEASURES:
        return "proportion"
    if measure == "GEN":
        return "generic"
    raise ValueError(f"unknown measure {measure!r}; choose one of {', '.join(MEASURES)}")


def _num(values: Mapping[str, float | None], name: str) -> float | None:
    v = values.get(name)
    if v is None:
        return None
    v = float(v)
    if math.isnan(v):
        return None
    return v


def _count(values: Mapping[str, float | None], name: str) -> float | None:
    v = _num(values, name)
    if v is not None and v < 0:
        raise NotEstimable(f"{name} is negative ({v:g})")
    return v


def two_by_two(values: Mapping[str, float | None]) -> tuple[float, float, float, float]:
    """The four cells ``ai, bi, ci, di`` from cells or from ``ai, ci, n1i, n2i``.

    :raises NotEstimable: a cell is missing, negative, or the totals disagree.
    """
    ai, bi, ci, di = (_count(values, k) for k in ("ai", "bi", "ci", "di"))
    n1, n2 = _count(values, "n1i"), _count(values, "n2i")
    if ai is None:
        raise NotEstimable("no events in the first group (ai)")
    if ci is None:
        raise NotEstimable("no events in the second group (ci)")
    if bi is None:
        if n1 is None:
            raise NotEstimable("neither bi nor n1i for the first group")
        bi = n1 - ai
    elif n1 is not None and abs(ai + bi - n1) > 1e-9:
        raise NotEstimable(f"ai + bi = {ai + bi:g} but n1i = {n1:g}")
    if di is None:
        if n2 is None:
            raise NotEstimable("neither di nor n2i for the second group")
        di = n2 - ci
    elif n2 is not None and abs(ci + di - n2) > 1e-9:
        raise NotEstimable(f"ci + di = {ci + di:g} but n2i = {n2:g}")
    if bi < 0:
        raise NotEstimable(
            f"more events ({ai:g}) than participants ({ai + bi:g}) in the first group"
        )
    if di < 0:
        raise NotEstimable(
            f"more events ({ci:g}) than participants ({ci + di:g}) in the second group"
        )
    if ai + bi == 0 or ci + di == 0:
        raise NotEstimable("a group has no participants")
    return ai, bi, ci, di


def has_zero_cell(measure: str, values: Mapping[str, float | None]) -> bool:
    """Whether a study's table (or single group) has a zero cell; False when it cannot tell."""
    try:
        if measure in BINARY_MEASURES:
            return 0 in two_by_two(values)
        if measure in PROPORTION_MEASURES:
            xi, ni = _count(values, "xi"), _count(values, "ni")
            return xi is not None and ni is not None and (xi == 0 or xi == ni)
    except NotEstimable:
        return False
    return False


def is_double_zero(values: Mapping[str, float | None]) -> bool:
    """No events in both groups, or only events in both (metafor's ``drop00`` case)."""
    try:
        ai, bi, ci, di = two_by_two(values)
    except NotEstimable:
        return False
    return (ai == 0 and ci == 0) or (bi == 0 and di == 0)


def _binary(
    measure: str, values: Mapping[str, float | None], add: float, apply_add: bool
) -> EffectSize:
    ai, bi, ci, di = two_by_two(values)
    n = ai + bi + ci + di
    corrected = False
    if apply_add and add > 0:
        ai, bi, ci, di = ai + add, bi + add, ci + add, di + add
        corrected = True
    n1, n2 = ai + bi, ci + di
    if measure == "RR":
        if ai == 0 or ci == 0:
            raise NotEstimable(
                "a zero event count leaves the log risk ratio undefined (no continuity correction)"
            )
        yi = math.log((ai / n1) / (ci / n2))
        vi = 1 / ai - 1 / n1 + 1 / ci - 1 / n2
    elif measure == "OR":
        if 0 in (ai, bi, ci, di):
            raise NotEstimable(
                "a zero cell leaves the log odds ratio undefined (no continuity correction)"
            )
        yi = math.log((ai * di) / (bi * ci))
        vi = 1 / ai + 1 / bi + 1 / ci + 1 / di
    else:  # RD
        p1, p2 = ai / n1, ci / n2
        yi = p1 - p2
        vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    return EffectSize(yi, vi, n=n, corrected=corrected)


def hedges_correction(m: float) -> float:
    """The exact small-sample correction factor ``c(m)`` for Hedges' g (``m = n1 + n2 - 2``).

    >>> round(hedges_correction(10), 6)
    0.922307
    """
    if m <= 1:
        raise NotEstimable(f"too few participants for a standardised mean difference (df = {m:g})")
    return math.exp(math.lgamma(m / 2) - 0.5 * math.log(m / 2) - math.lgamma((m - 1) / 2))


def _continuous(measure: str, values: Mapping[str, float | None]) -> EffectSize:
    names = ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")
    got = {k: _num(values, k) for k in names}
    missing = [k for k in names if got[k] is None]
    if missing:
        raise NotEstimable(f"missing {', '.join(missing)}")
    m1, sd1, n1, m2, sd2, n2 = (float(got[k]) for k in names)  # type: ignore[arg-type]
    if n1 <= 0 or n2 <= 0:
        raise NotEstimable("a group has no participants")
    if sd1 < 0 or sd2 < 0:
        raise NotEstimable("a negative standard deviation")
    if measure == "MD":
        vi = sd1**2 / n1 + sd2**2 / n2
        if vi <= 0:
            raise NotEstimable("both standard deviations are zero")
        return EffectSize(m1 - m2, vi, n=n1 + n2)
    df = n1 + n2 - 2
    if df <= 0:
        raise NotEstimable("too few participants for a pooled standard deviation")
    sdp = math.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / df)
    if sdp == 0:
        raise NotEstimable("the pooled standard deviation is zero")
    yi = hedges_correction(df) * (m1 - m2) / sdp
    vi = 1 / n1 + 1 / n2 + yi**2 / (2 * (n1 + n2))
    return EffectSize(yi, vi, n=n1 + n2)


def pft(xi: float, ni: float) -> float:
    """Freeman-Tukey double arcsine of ``xi`` events in ``ni`` (metafor's ``PFT`` scale)."""
    return 0.5 * (math.asin(math.sqrt(xi / (ni + 1))) + math.asin(math.sqrt((xi + 1) / (ni + 1))))


def _proportion(
    measure: str, values: Mapping[str, float | None], add: float, apply_add: bool
) -> EffectSize:
    xi, ni = _count(values, "xi"), _count(values, "ni")
    if xi is None:
        raise NotEstimable("no event count (xi)")
    if ni is None:
        raise NotEstimable("no group size (ni)")
    if ni == 0:
        raise NotEstimable("the group has no participants")
    if xi > ni:
        raise NotEstimable(f"more events ({xi:g}) than participants ({ni:g})")
    n = ni
    if measure == "PFT":
        return EffectSize(pft(xi, ni), 1 / (4 * ni + 2), n=n, ni=ni)
    corrected = False
    mi = ni - xi
    if apply_add and add > 0:
        xi, mi, corrected = xi + add, mi + add, True
    nn = xi + mi
    if measure == "PR":
        p = xi / nn
        vi = p * (1 - p) / nn
        if vi == 0:
            raise NotEstimable("a proportion of 0 or 1 has no variance (no continuity correction)")
        return EffectSize(p, vi, n=n, ni=ni, corrected=corrected)
    if xi == 0 or mi == 0:
        raise NotEstimable("a proportion of 0 or 1 has no log odds (no continuity correction)")
    return EffectSize(math.log(xi / mi), 1 / xi + 1 / mi, n=n, ni=ni, corrected=corrected)


def effect_size(
    measure: str,
    values: Mapping[str, float | None],
    *,
    add: float = 0.5,
    apply_add: bool | None = None,
) -> EffectSize:
    """One study's effect size, from metafor's column names in ``values``.

    :param measure: one of :data:`MEASURES`.
    :param add: the continuity correction (metafor's ``add``); PFT ignores it.
    :param apply_add: whether to add it; by default only when the study has a zero cell
        (metafor's ``to="only0"``).
    :raises NotEstimable: the data are missing or impossible; the message says why.

    >>> e = effect_size("RR", {"ai": 4, "bi": 119, "ci": 11, "di": 128})
    >>> round(e.yi, 4), round(e.vi, 4)
    (-0.8893, 0.3256)
    """
    kind = measure_kind(measure)
    if apply_add is None:
        apply_add = has_zero_cell(measure, values)
    if kind == "binary":
        return _binary(measure, values, add, apply_add)
    if kind == "continuous":
        return _continuous(measure, values)
    if kind == "proportion":
        return _proportion(measure, values, add, apply_add)
    yi, vi = _num(values, "yi"), _num(values, "vi")
    if yi is None or vi is None:
        raise NotEstimable("missing yi or vi")
    if vi <= 0:
        raise NotEstimable(f"sampling variance vi must be positive (got {vi:g})")
    return EffectSize(yi, vi, n=_num(values, "ni"))


def escalc(
    measure: str,
    studies: Sequence[Mapping[str, float | None]],
    *,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = False,
) -> list[EffectSize | NotEstimable]:
    """Effect sizes for several studies, with metafor's zero-cell rules across them.

    :param to: ``"only0"`` (default: correct tables with a zero cell), ``"all"``,
        ``"if0all"`` (correct every table when any has a zero cell) or ``"none"``.
    :param drop00: drop studies with no events (or only events) in both groups.
    :returns: per study, an :class:`EffectSize` or the :class:`NotEstimable` saying why not.
    """
    if to not in _ZERO_RULES:
        raise ValueError(f"unknown zero-cell rule {to!r}; choose one of {', '.join(_ZERO_RULES)}")
    kind = measure_kind(measure)
    zeros = [has_zero_cell(measure, s) for s in studies]
    any_zero = any(zeros)
    out: list[EffectSize | NotEstimable] = []
    for study, zero in zip(studies, zeros, strict=True):
        if drop00 and kind == "binary" and is_double_zero(study):
            out.append(NotEstimable("no events (or only events) in both groups: dropped (drop00)"))
            continue
        apply_add = {"only0": zero, "all": True, "if0all": any_zero, "none": False}[to]
        try:
            out.append(effect_size(measure, study, add=add, apply_add=apply_add))
        except NotEstimable as exc:
            out.append(exc)
    return out


def ipft(y: float, n: float) -> float:
    """Inverse of the Freeman-Tukey double arcsine for a group of ``n`` (Miller, 1978).

    Values below the transform of 0 (or above that of 1) give 0 (or 1), as in
    metafor's ``transf.ipft``.
    """
    if y <= pft(0, n):
        return 0.0
    if y >= pft(n, n):
        return 1.0
    s = math.sin(2 * y)
    inner = 1 - (s + (s - 1 / s) / n) ** 2
    return 0.5 * (1 - math.copysign(1.0, math.cos(2 * y)) * math.sqrt(max(inner, 0.0)))


def harmonic_mean(values: Sequence[float]) -> float:
    """The harmonic mean, used to back-transform a pooled Freeman-Tukey value."""
    return len(values) / sum(1 / v for v in values)


def back_transform(measure: str, value: float, n: float | None = None) -> float:
    """A value on the analysis scale back on the natural one (ratio, proportion).

    :param n: the group size (for PFT; the harmonic mean of the sizes for a pooled value).
    """
    if measure in RATIO_MEASURES:
        return math.exp(value)
    if measure == "PLO":
        return 1 / (1 + math.exp(-value))
    if measure == "PFT":
        if n is None:
            raise ValueError("PFT needs the group size to back-transform")
        return ipft(value, n)
    return value
