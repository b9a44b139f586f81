"""Equal- and random-effects models for a set of effect sizes, as R metafor's ``rma.uni``.

Methods: ``REML`` (restricted maximum likelihood by Fisher scoring, metafor's default),
``DL`` (DerSimonian-Laird), ``PM`` (Paule-Mandel) and ``EE`` (equal effects, also called
fixed effect; ``FE`` is accepted as a synonym). The output matches metafor's ``rma()`` with
``test="z"`` and ``level=95``: estimate, SE, z, p, CI; tau², its SE (REML, DL), I², H²;
Cochran's Q with df and p; the prediction interval (``predict()``).

numpy and scipy do the arithmetic and the distributions; the estimators are written here
because neither library has them (statsmodels' ``combine_effects`` has DL and PM but no
REML, and would add a dependency for a few lines).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

#: A list of numbers or a numpy array.
Numbers = Sequence[float] | np.ndarray

#: Estimators of the between-study variance, plus EE (no between-study variance).
METHODS = ("REML", "DL", "PM", "EE")

_REML_TOL = 1e-10
_REML_MAX_ITER = 1000


class ModelError(ValueError):
    """The model cannot be fitted to these data (e.g. no studies, or REML did not converge)."""


@dataclass(frozen=True)
class MetaResult:
    """A fitted model, on the analysis scale (log ratio, logit, ...).

    ``weights`` are the model's weights in percent, in the order of the input.
    ``i2`` is in percent. ``se_tau2`` is ``None`` where not computed (EE, PM).
    """

    method: str
    k: int
    estimate: float
    se: float
    zval: float
    pval: float
    ci_lb: float
    ci_ub: float
    pi_lb: float
    pi_ub: float
    tau2: float
    se_tau2: float | None
    i2: float
    h2: float
    q: float
    q_df: int
    q_pval: float
    weights: tuple[float, ...]
    level: float = 0.95

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2)


def _as_arrays(yi: Numbers, vi: Numbers) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    if y.ndim != 1 or y.shape != v.shape:
        raise ModelError("yi and vi must be two lists of the same length")
    if len(y) == 0:
        raise ModelError("no studies to pool")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v))):
        raise ModelError("yi and vi must be finite numbers")
    if np.any(v <= 0):
        raise ModelError("every sampling variance vi must be positive")
    return y, v


def _wmean(y: np.ndarray, w: np.ndarray) -> float:
    return float(np.sum(w * y) / np.sum(w))


def cochran_q(yi: Numbers, vi: Numbers) -> float:
    """Cochran's Q: the inverse-variance weighted sum of squares about the EE estimate."""
    y, v = _as_arrays(yi, vi)
    w = 1 / v
    return float(np.sum(w * (y - _wmean(y, w)) ** 2))


def tau2_dl(yi: Numbers, vi: Numbers) -> float:
    """DerSimonian-Laird estimate of tau², truncated at 0."""
    y, v = _as_arrays(yi, vi)
    k = len(y)
    if k < 2:
        return 0.0
    w = 1 / v
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    return max(0.0, (cochran_q(y, v) - (k - 1)) / float(c))


def _generalised_q(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    w = 1 / (v + tau2)
    return float(np.sum(w * (y - _wmean(y, w)) ** 2))


def tau2_pm(yi: Numbers, vi: Numbers) -> float:
    """Paule-Mandel estimate: the tau² at which the generalised Q equals its df, k - 1.

    0 when Q at tau² = 0 is already below k - 1. The root is found with
    :func:`scipy.optimize.brentq` (the generalised Q decreases in tau²).
    """
    y, v = _as_arrays(yi, vi)
    k = len(y)
    if k < 2 or _generalised_q(y, v, 0.0) <= k - 1:
        return 0.0
    hi = max(1.0, float(np.var(y, ddof=1)))
    while _generalised_q(y, v, hi) > k - 1:
        hi *= 2
        if hi > 1e12:
            raise ModelError("Paule-Mandel estimator found no root")
    return float(optimize.brentq(lambda t: _generalised_q(y, v, t) - (k - 1), 0.0, hi, xtol=1e-12))


def _reml_matrices(v: np.ndarray, tau2: float) -> tuple[np.ndarray, np.ndarray]:
    w = 1 / (v + tau2)
    # P = W - W 1 (1'W1)^-1 1'W: the REML projection for an intercept-only model.
    p = np.diag(w) - np.outer(w, w) / np.sum(w)
    return p, p @ p


def tau2_reml(yi: Numbers, vi: Numbers) -> tuple[float, float]:
    """REML estimate of tau² by Fisher scoring (as metafor), and its standard error.

    Starts from the Hedges (method of moments, unweighted) estimate like metafor; a
    step that would make tau² negative is halved until it does not.

    :returns: ``(tau2, se_tau2)`` with ``se_tau2 = sqrt(2 / tr(P P))``.
    :raises ModelError: no convergence in 1000 iterations.
    """
    y, v = _as_arrays(yi, vi)
    k = len(y)
    if k < 2:
        return 0.0, float("nan")
    tau2 = max(0.0, float(np.var(y, ddof=1) - np.mean(v)))
    for _ in range(_REML_MAX_ITER):
        p, pp = _reml_matrices(v, tau2)
        step = float((y @ pp @ y - np.trace(p)) / np.trace(pp))
        while tau2 + step < 0:
            step /= 2
        tau2 += step
        if abs(step) < _REML_TOL:
            break
    else:
        raise ModelError("REML estimation of tau² did not converge")
    if tau2 < _REML_TOL:
        tau2 = 0.0
    _, pp = _reml_matrices(v, tau2)
    return tau2, math.sqrt(2 / float(np.trace(pp)))


def _se_tau2_dl(v: np.ndarray, tau2: float) -> float:
    k = len(v)
    w = 1 / v
    p = np.diag(w) - np.outer(w, w) / np.sum(w)
    tr_p = float(np.trace(p))
    t = max(tau2, 0.0)
    return math.sqrt((2 * (k - 1) + 4 * t * tr_p + 2 * t**2 * float(np.sum(p * p))) / tr_p**2)


def rma(yi: Numbers, vi: Numbers, method: str = "REML", level: float = 0.95) -> MetaResult:
    """Fit an intercept-only equal- or random-effects model.

    :param method: ``REML``, ``DL``, ``PM`` or ``EE`` (``FE`` is the same as ``EE``).
    :param level: confidence level of the CI and the prediction interval.
    :raises ModelError: no studies, bad variances, or an unknown method.

    >>> r = rma([-0.89, -1.59, -1.35], [0.33, 0.19, 0.42], method="EE")
    >>> round(r.estimate, 4), r.k, r.tau2
    (-1.3129, 3, 0.0)
    """
    method = method.upper()
    if method == "FE":
        method = "EE"
    if method not in METHODS:
        raise ModelError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if not 0 < level < 1:
        raise ModelError(f"level must be between 0 and 1 (got {level})")
    y, v = _as_arrays(yi, vi)
    k = len(y)
    w_fe = 1 / v
    q = cochran_q(y, v)
    q_df = k - 1
    q_pval = float(stats.chi2.sf(q, q_df)) if q_df > 0 else float("nan")

    se_tau2: float | None = None
    if method == "EE":
        tau2 = 0.0
    elif method == "DL":
        tau2 = tau2_dl(y, v)
        se_tau2 = _se_tau2_dl(v, tau2) if k > 1 else None
    elif method == "PM":
        tau2 = tau2_pm(y, v)
    else:
        tau2, se = tau2_reml(y, v)
        se_tau2 = se if k > 1 else None

    w = 1 / (v + tau2)
    estimate = _wmean(y, w)
    se_est = math.sqrt(1 / float(np.sum(w)))
    zval = estimate / se_est
    pval = float(2 * stats.norm.sf(abs(zval)))
    crit = float(stats.norm.ppf(1 - (1 - level) / 2))
    ci_lb, ci_ub = estimate - crit * se_est, estimate + crit * se_est
    pi_half = crit * math.sqrt(se_est**2 + tau2)

    if q_df > 0:
        if method == "EE":
            # metafor: for an EE model, I² and H² come from Q directly.
            i2 = max(0.0, 100 * (q - q_df) / q) if q > 0 else 0.0
            h2 = q / q_df
        else:
            # metafor: "typical" within-study variance (Higgins & Thompson, 2002).
            s2 = q_df / float(np.sum(w_fe) - np.sum(w_fe**2) / np.sum(w_fe))
            i2 = 100 * tau2 / (tau2 + s2)
            h2 = (tau2 + s2) / s2
    else:
        i2, h2 = float("nan"), float("nan")

    weights = tuple(float(x) for x in 100 * w / np.sum(w))
    return MetaResult(
        method=method,
        k=k,
        estimate=estimate,
        se=se_est,
        zval=zval,
        pval=pval,
        ci_lb=ci_lb,
        ci_ub=ci_ub,
        pi_lb=estimate - pi_half,
        pi_ub=estimate + pi_half,
        tau2=tau2,
        se_tau2=se_tau2,
        i2=i2,
        h2=h2,
        q=q,
        q_df=q_df,
        q_pval=q_pval,
        weights=weights,
        level=level,
    )


def study_ci(yi: float, vi: float, level: float = 0.95) -> tuple[float, float]:
    """A single study's Wald confidence interval on the analysis scale."""
    crit = float(stats.norm.ppf(1 - (1 - level) / 2))
    half = crit * math.sqrt(vi)
    return yi - half, yi + half


# --------------------------------------------------------------------- whole analysis


@dataclass(frozen=True)
class StudyRow:
    """One study in a report: its effect size on the analysis scale and, for ratio and
    proportion measures, back on the natural scale (``est``, ``lb``, ``ub``)."""

    study: str
    label: str
    yi: float
    vi: float
    ci_lb: float
    ci_ub: float
    est: float
    lb: float
    ub: float
    weight: float | None
    n: float | None
    design: str | None
    blinding: str | None
    single_arm: bool
    open_label: bool
    corrected: bool
    comparison: str | None
    timepoint_weeks: float | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pooled:
    """The model's estimate, CI and prediction interval on the natural scale."""

    est: float
    lb: float
    ub: float
    pi_lb: float
    pi_ub: float


@dataclass(frozen=True)
class MetaReport:
    """Everything ``ekb meta`` shows: studies, exclusions, the model (None if k < 2)."""

    measure: str
    method: str
    title: str
    source: str
    level: float
    studies: tuple[StudyRow, ...]
    excluded: tuple[tuple[str, str, str | None], ...]
    model: MetaResult | None
    pooled: Pooled | None
    message: str

    @property
    def k(self) -> int:
        return len(self.studies)


def analyse(
    inp: object,
    *,
    method: str = "REML",
    level: float = 0.95,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = False,
) -> MetaReport:
    """Effect sizes for every study of a :class:`kb.analysis.data.MetaInput`, then the model.

    Studies whose data cannot give the measure join the exclusions with the reason.
    One study is reported without pooling; none raises.

    :raises kb.errors.CheckFailed: no study has usable data (the message lists why).
    :raises kb.errors.UsageError: an unknown method.
    """
    from kb.analysis.data import Exclusion, MetaInput
    from kb.analysis.effects import (
        MEASURE_LABELS,
        NotEstimable,
        back_transform,
        escalc,
        harmonic_mean,
    )
    from kb.errors import CheckFailed, UsageError

    assert isinstance(inp, MetaInput)
    method_up = method.upper()
    if method_up == "FE":
        method_up = "EE"
    if method_up not in METHODS:
        raise UsageError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    measure = inp.measure
    effects = escalc(measure, [s.values for s in inp.studies], add=add, to=to, drop00=drop00)
    excluded = list(inp.excluded)
    kept = []
    for study, eff in zip(inp.studies, effects, strict=True):
        if isinstance(eff, NotEstimable):
            excluded.append(Exclusion(study.study, f"no {measure} from these data: {eff}"))
        else:
            kept.append((study, eff))
    excluded.sort(key=lambda e: (e.study, e.reason, e.detail or ""))
    excl = tuple((e.study, e.reason, e.detail) for e in excluded)
    what = MEASURE_LABELS.get(measure, measure)
    if not kept:
        reasons = "; ".join(f"{s}: {r}" for s, r, _ in excl) or "no rows"
        raise CheckFailed(f"nothing to pool for {inp.title or 'this outcome'} ({what}): {reasons}")

    sizes = [eff.ni for _, eff in kept if eff.ni is not None]
    n_hm = harmonic_mean(sizes) if measure == "PFT" and sizes else None

    model: MetaResult | None = None
    weights: tuple[float, ...] | tuple[None, ...]
    if len(kept) >= 2:
        model = rma([e.yi for _, e in kept], [e.vi for _, e in kept], method=method_up, level=level)
        weights = model.weights
        message = f"{model.k} studies pooled ({what}, {method_up})"
    else:
        weights = (None,)
        message = f"a single study: reported without pooling ({what})"

    rows = []
    for (study, eff), weight in zip(kept, weights, strict=True):
        lb, ub = study_ci(eff.yi, eff.vi, level)
        n_back = eff.ni
        rows.append(
            StudyRow(
                study=study.study,
                label=study.label,
                yi=eff.yi,
                vi=eff.vi,
                ci_lb=lb,
                ci_ub=ub,
                est=back_transform(measure, eff.yi, n_back),
                lb=back_transform(measure, lb, n_back),
                ub=back_transform(measure, ub, n_back),
                weight=weight,
                n=study.n,
                design=study.design,
                blinding=study.blinding,
                single_arm=study.single_arm,
                open_label=study.open_label,
                corrected=eff.corrected,
                comparison=study.comparison,
                timepoint_weeks=study.timepoint_weeks,
                notes=tuple(study.notes),
            )
        )
    pooled = None
    if model is not None:
        pooled = Pooled(
            est=back_transform(measure, model.estimate, n_hm),
            lb=back_transform(measure, model.ci_lb, n_hm),
            ub=back_transform(measure, model.ci_ub, n_hm),
            pi_lb=back_transform(measure, model.pi_lb, n_hm),
            pi_ub=back_transform(measure, model.pi_ub, n_hm),
        )
    return MetaReport(
        measure=measure,
        method=method_up,
        title=inp.title,
        source=inp.source,
        level=level,
        studies=tuple(rows),
        excluded=excl,
        model=model,
        pooled=pooled,
        message=message,
    )


# --------------------------------------------------------------------------- writers


def _f(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "NA"
    return f"{x:.{digits}f}"


def _p(p: float | None) -> str:
    if p is None or math.isnan(p):
        return "NA"
    return "<.0001" if p < 0.0001 else f"{p:.4f}"


def _marks(row: StudyRow) -> str:
    marks = []
    if row.single_arm:
        marks.append("single-arm")
    if row.open_label:
        marks.append("open-label")
    if row.corrected:
        marks.append("+1/2 zero cells")
    return ", ".join(marks)


def report_dict(report: MetaReport) -> dict[str, object]:
    """The report as plain data (the JSON output)."""
    from kb.analysis.effects import BACK_TRANSFORMED, MEASURE_LABELS

    back = report.measure in BACK_TRANSFORMED
    out: dict[str, object] = {
        "title": report.title,
        "source": report.source,
        "measure": report.measure,
        "measure_label": MEASURE_LABELS.get(report.measure, report.measure),
        "method": report.method,
        "level": report.level,
        "k": report.k,
        "message": report.message,
        "studies": [
            {
                "study": r.study,
                "label": r.label,
                "n": r.n,
                "yi": r.yi,
                "vi": r.vi,
                "ci_lb": r.ci_lb,
                "ci_ub": r.ci_ub,
                **(
                    {"estimate": r.est, "estimate_ci_lb": r.lb, "estimate_ci_ub": r.ub}
                    if back
                    else {}
                ),
                "weight_percent": r.weight,
                "comparison": r.comparison,
                "timepoint_weeks": r.timepoint_weeks,
                "design": r.design,
                "blinding": r.blinding,
                "single_arm": r.single_arm,
                "open_label": r.open_label,
                "continuity_correction": r.corrected,
                "notes": list(r.notes),
            }
            for r in report.studies
        ],
        "excluded": [
            {"study": s, "reason": reason, "detail": d} for s, reason, d in report.excluded
        ],
        "model": None,
    }
    m = report.model
    if m is not None:
        model: dict[str, object] = {
            "estimate": m.estimate,
            "se": m.se,
            "zval": m.zval,
            "pval": m.pval,
            "ci_lb": m.ci_lb,
            "ci_ub": m.ci_ub,
            "pi_lb": m.pi_lb,
            "pi_ub": m.pi_ub,
            "tau2": m.tau2,
            "se_tau2": m.se_tau2,
            "tau": m.tau,
            "i2": m.i2,
            "h2": m.h2,
            "q": m.q,
            "q_df": m.q_df,
            "q_pval": m.q_pval,
        }
        if back and report.pooled is not None:
            p = report.pooled
            model["back_transformed"] = {
                "estimate": p.est,
                "ci_lb": p.lb,
                "ci_ub": p.ub,
                "pi_lb": p.pi_lb,
                "pi_ub": p.pi_ub,
            }
        out["model"] = model
    return out


def _json_safe(value: object) -> object:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def format_json(report: MetaReport) -> str:
    import json

    return json.dumps(_json_safe(report_dict(report)), indent=2, ensure_ascii=False) + "\n"


def format_csv(report: MetaReport) -> str:
    """One row per study, then the pooled row (``study`` = ``POOLED (<method>)``) and the
    excluded studies with their reason, in one table."""
    import csv
    import io

    from kb.analysis.effects import BACK_TRANSFORMED

    back = report.measure in BACK_TRANSFORMED
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        [
            "row",
            "study",
            "n",
            "yi",
            "vi",
            "ci_lb",
            "ci_ub",
            "estimate",
            "estimate_ci_lb",
            "estimate_ci_ub",
            "weight_percent",
            "design",
            "blinding",
            "single_arm",
            "open_label",
            "note",
        ]
    )
    for r in report.studies:
        writer.writerow(
            [
                "study",
                r.study,
                "" if r.n is None else f"{r.n:g}",
                repr(r.yi),
                repr(r.vi),
                repr(r.ci_lb),
                repr(r.ci_ub),
                repr(r.est) if back else "",
                repr(r.lb) if back else "",
                repr(r.ub) if back else "",
                "" if r.weight is None else repr(r.weight),
                r.design or "",
                r.blinding or "",
                str(r.single_arm).lower(),
                str(r.open_label).lower(),
                "; ".join(r.notes),
            ]
        )
    m = report.model
    if m is not None and report.pooled is not None:
        writer.writerow(
            [
                "pooled",
                f"POOLED ({report.method})",
                "",
                repr(m.estimate),
                repr(m.se**2),
                repr(m.ci_lb),
                repr(m.ci_ub),
                repr(report.pooled.est) if back else "",
                repr(report.pooled.lb) if back else "",
                repr(report.pooled.ub) if back else "",
                "100",
                "",
                "",
                "",
                "",
                f"tau2={m.tau2!r}; I2={m.i2!r}; H2={m.h2!r}; Q={m.q!r}; df={m.q_df}; "
                f"Q_p={m.q_pval!r}; "
                f"pi=[{m.pi_lb!r}, {m.pi_ub!r}]",
            ]
        )
    for s, reason, detail in report.excluded:
        writer.writerow(
            [
                "excluded",
                s,
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                reason + (f" ({detail})" if detail else ""),
            ]
        )
    return buf.getvalue()


def format_table(report: MetaReport) -> str:
    """The human-readable report."""
    from kb.analysis.effects import BACK_TRANSFORMED, MEASURE_LABELS

    back = report.measure in BACK_TRANSFORMED
    pct = int(round(report.level * 100))
    what = MEASURE_LABELS.get(report.measure, report.measure)
    lines = [f"Meta-analysis: {report.title}" if report.title else "Meta-analysis"]
    lines.append(f"Measure: {report.measure} ({what}); model: {report.method}; k = {report.k}")
    lines.append("")
    head_scale = {"RR": "log RR", "OR": "log OR", "PLO": "logit", "PFT": "PFT"}.get(
        report.measure, report.measure
    )
    headers = ["study", "n", f"yi ({head_scale})", "vi", f"{pct}% CI"]
    if back:
        headers += [
            report.measure if report.measure in ("RR", "OR") else "proportion",
            f"{pct}% CI",
        ]
    headers += ["weight", "marks"]
    body = []
    for r in report.studies:
        cells = [
            r.label,
            "" if r.n is None else f"{r.n:g}",
            _f(r.yi),
            _f(r.vi),
            f"[{_f(r.ci_lb)}, {_f(r.ci_ub)}]",
        ]
        if back:
            cells += [_f(r.est), f"[{_f(r.lb)}, {_f(r.ub)}]"]
        cells += ["" if r.weight is None else f"{r.weight:.1f}%", _marks(r)]
        body.append(cells)
    widths = [max(len(h), *(len(row[i]) for row in body)) for i, h in enumerate(headers)]
    lines.append("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in body:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    for r in report.studies:
        if r.comparison or r.notes:
            extra = "; ".join([*([r.comparison] if r.comparison else []), *r.notes])
            lines.append(f"  {r.label}: {extra}")
    lines.append("")
    m = report.model
    if m is None:
        lines.append(f"{report.message}.")
    else:
        lines.append(f"Pooled ({report.method}, k = {m.k}):")
        lines.append(
            f"  estimate {_f(m.estimate)}  SE {_f(m.se)}  z {_f(m.zval)}  p {_p(m.pval)}  "
            f"{pct}% CI [{_f(m.ci_lb)}, {_f(m.ci_ub)}]"
        )
        if back and report.pooled is not None:
            p = report.pooled
            name = report.measure if report.measure in ("RR", "OR") else "proportion"
            lines.append(
                f"  {name} {_f(p.est)}  {pct}% CI [{_f(p.lb)}, {_f(p.ub)}]  "
                f"prediction interval [{_f(p.pi_lb)}, {_f(p.pi_ub)}]"
            )
        else:
            lines.append(f"  prediction interval [{_f(m.pi_lb)}, {_f(m.pi_ub)}]")
        se_tau2 = f" (SE {_f(m.se_tau2)})" if m.se_tau2 is not None else ""
        lines.append(
            f"Heterogeneity: tau^2 {_f(m.tau2)}{se_tau2}  tau {_f(m.tau)}  "
            f"I^2 {m.i2:.2f}%  H^2 {_f(m.h2, 2)}  "
            f"Q({m.q_df}) {_f(m.q)}  p {_p(m.q_pval)}"
        )
    if report.excluded:
        lines.append("")
        lines.append(f"Excluded ({len(report.excluded)}):")
        for s, reason, detail in report.excluded:
            lines.append(f"  {s}: {reason}" + (f" ({detail})" if detail else ""))
    return "\n".join(lines) + "\n"


#: ``-f`` choices and their writers.
FORMATS = {"table": format_table, "json": format_json, "csv": format_csv}
