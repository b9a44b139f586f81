"""robvis-compatible table and the two standard risk-of-bias plots.

The table has the layout robvis (McGuinness & Higgins, Res Synth Methods 2021;12:55-61;
https://github.com/mcguinlu/robvis) reads: ``Study, D1..Dn, Overall, Weight``, with the values
its ``get_judgements`` accepts per tool (``R/helpers.R`` @0810523): ROB2 "Low", "Some
concerns", "High", "No information"; ROBINS-I "Low", "Moderate", "Serious", "Critical", "No
information". ROBINS-I V2's "low except for concerns about uncontrolled confounding" has no
robvis value of its own and is written "Low" (robvis' six-domain ROBINS-I template is still an
open request, robvis#165).

A result that was **not assessed** has no robvis value (robvis' "No information" means the
assessor looked and found nothing, which is a different fact), so the table leaves it out and
:func:`robvis_table` returns it separately; the plots show it as a grey "not assessed" cell.

The plots are drawn with matplotlib in robvis' layout and its default ("cochrane") colours,
because robvis is an R package and this one must run without R.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from kb.errors import UsageError
from kb.rob import rob2, robins_i
from kb.rob.assessment import NOT_ASSESSED, Assessment

ROBVIS_VALUES = {
    "rob2": {rob2.LOW: "Low", rob2.SOME: "Some concerns", rob2.HIGH: "High"},
    "robins-i": {
        robins_i.LOW: "Low",
        robins_i.LOW_EXCEPT: "Low",
        robins_i.MODERATE: "Moderate",
        robins_i.SERIOUS: "Serious",
        robins_i.CRITICAL: "Critical",
    },
}
#: robvis' template names, for the user's ``rob_traffic_light(tool=...)``.
ROBVIS_TOOL = {"rob2": "ROB2", "robins-i": "ROBINS-I"}

# robvis "cochrane" colour scheme (R/helpers.R, get_colour()).
_COLOURS = {
    "Low": "#02C100",
    "Some concerns": "#E2DF07",
    "Moderate": "#E2DF07",
    "High": "#BF0000",
    "Serious": "#BF0000",
    "Critical": "#820000",
    "No information": "#4EA1F7",
    "Not assessed": "#BDBDBD",
}
_SYMBOLS = {
    "Low": "+",
    "Some concerns": "−",
    "Moderate": "−",
    "High": "×",
    "Serious": "×",
    "Critical": "!",
    "No information": "?",
    "Not assessed": "",
}
_ORDER = {
    "rob2": ["Low", "Some concerns", "High", "No information", "Not assessed"],
    "robins-i": ["Low", "Moderate", "Serious", "Critical", "No information", "Not assessed"],
}


def _domains(tool: str) -> tuple[str, ...]:
    return rob2.DOMAINS if tool == "rob2" else robins_i.DOMAINS


def _names(tool: str) -> dict[str, str]:
    return rob2.DOMAIN_NAMES if tool == "rob2" else robins_i.DOMAIN_NAMES


def _one_tool(assessments: Sequence[Assessment]) -> str:
    tools = {a.tool for a in assessments}
    if not tools:
        raise UsageError("no risk-of-bias assessments to export")
    if len(tools) > 1:
        raise UsageError(
            "robvis takes one tool per table; these assessments mix "
            + " and ".join(sorted(tools))
            + " (export each tool separately)"
        )
    return tools.pop()


def _cell(tool: str, value: str) -> str:
    if value == NOT_ASSESSED:
        return "Not assessed"
    return ROBVIS_VALUES[tool][value]


def robvis_table(
    assessments: Sequence[Assessment],
    weights: Mapping[str, float] | None = None,
    labels: Mapping[str, str] | None = None,
) -> tuple[list[str], list[list[str]], list[Assessment]]:
    """The robvis table: header, rows, and the assessments left out as not assessed.

    :param weights: study -> meta-analysis weight (percent); the ``Weight`` column is written
        only when given, never made up.
    :param labels: study -> the label to print (default: the study id).
    """
    tool = _one_tool(assessments)
    domains = _domains(tool)
    header = ["Study", *domains, "Overall"] + (["Weight"] if weights is not None else [])
    rows: list[list[str]] = []
    left_out: list[Assessment] = []
    for a in assessments:
        if not a.assessed:
            left_out.append(a)
            continue
        row = [(labels or {}).get(a.study, a.study)]
        row += [_cell(tool, a.domains[d].final) for d in domains]
        row.append(_cell(tool, a.overall.final))
        if weights is not None:
            w = weights.get(a.study)
            row.append("" if w is None else f"{w:.2f}")
        rows.append(row)
    return header, rows, left_out


def format_csv(header: list[str], rows: list[list[str]]) -> str:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _grid(
    assessments: Sequence[Assessment], labels: Mapping[str, str] | None
) -> tuple[str, list[str], list[list[str]]]:
    tool = _one_tool(assessments)
    cols = [*_domains(tool), "Overall"]
    rows = []
    for a in assessments:
        cells = [_cell(tool, a.domains[d].final) for d in _domains(tool)]
        cells.append(_cell(tool, a.overall.final))
        rows.append([(labels or {}).get(a.study, a.study), *cells])
    return tool, cols, rows


def _save(fig: object, path: Path) -> None:
    import io

    from kb.fileio import atomic_write_bytes

    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise UsageError(f"{path}: the plot file must end in .png or .svg")
    buf = io.BytesIO()
    # A fixed SVG hash salt and no date keep the SVG byte-stable between runs.
    meta = {"Date": None} if suffix == ".svg" else {}
    fig.savefig(buf, format=suffix[1:], dpi=150, bbox_inches="tight", metadata=meta)  # type: ignore[attr-defined]
    atomic_write_bytes(path, buf.getvalue())


def _legend_entries(tool: str, present: set[str]) -> list[str]:
    return [v for v in _ORDER[tool] if v in present]


def traffic_light(
    assessments: Sequence[Assessment],
    path: Path,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
) -> None:
    """robvis' traffic-light plot: one row per result, one circle per domain and overall."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    matplotlib.rcParams["svg.hashsalt"] = "evidence-kb"
    tool, cols, rows = _grid(assessments, labels)
    n_rows, n_cols = len(rows), len(cols)
    label_width = max(len(r[0]) for r in rows)
    fig_w = 1.2 + 0.11 * label_width + 0.7 * n_cols + 2.6
    fig, ax = plt.subplots(figsize=(fig_w, 1.1 + 0.5 * n_rows))
    present: set[str] = set()
    for i, row in enumerate(rows):
        y = n_rows - 1 - i
        for j, value in enumerate(row[1:]):
            present.add(value)
            ax.scatter(
                j, y, s=520, color=_COLOURS[value], edgecolors="black", linewidths=0.6, zorder=3
            )
            ax.text(
                j,
                y,
                _SYMBOLS[value],
                ha="center",
                va="center",
                fontsize=12,
                fontweight="bold",
                color="black",
                zorder=4,
            )
    ax.set_xticks(range(n_cols), cols)
    ax.xaxis.tick_top()
    ax.set_yticks(range(n_rows), [r[0] for r in reversed(rows)])
    ax.set_xlim(-0.6, n_cols - 0.4)
    ax.set_ylim(-0.6, n_rows - 0.4)
    ax.axvline(n_cols - 1.5, color="grey", linewidth=0.8)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(length=0)
    ax.set_axisbelow(True)
    ax.grid(True, color="#EEEEEE", zorder=0)
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=11,
            markerfacecolor=_COLOURS[v],
            markeredgecolor="black",
            label=v,
        )
        for v in _legend_entries(tool, present)
    ]
    domain_notes = "\n".join(f"{d}: {name}" for d, name in _names(tool).items())
    leg = ax.legend(
        handles=handles,
        title="Judgement",
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        frameon=False,
    )
    ax.add_artist(leg)
    ax.text(1.02, 0.0, domain_notes, transform=ax.transAxes, fontsize=7, va="bottom", ha="left")
    if title:
        ax.set_title(title, pad=28)
    _save(fig, path)
    plt.close(fig)


def summary_bars(
    assessments: Sequence[Assessment],
    path: Path,
    weights: Mapping[str, float] | None = None,
    title: str | None = None,
) -> None:
    """robvis' summary plot: per domain, the share of results at each judgement.

    With ``weights`` (study -> meta-analysis weight) the shares are weighted, as robvis'
    ``rob_summary(weighted = TRUE)``; a study without a weight is then an error, not zero.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "evidence-kb"
    tool, cols, rows = _grid(assessments, None)
    if weights is not None:
        missing = [a.study for a in assessments if a.study not in weights]
        if missing:
            raise UsageError("no meta-analysis weight for: " + ", ".join(missing))
        w = [float(weights[a.study]) for a in assessments]
    else:
        w = [1.0] * len(assessments)
    total = sum(w)
    order = _ORDER[tool]
    names = {**_names(tool), "Overall": "Overall risk of bias"}
    height = 0.9 + 0.45 * len(cols)
    fig, ax = plt.subplots(figsize=(9, height))
    present: set[str] = set()
    for k in range(len(cols)):
        y = len(cols) - 1 - k
        left = 0.0
        for value in order:
            share = sum(wi for wi, row in zip(w, rows, strict=True) if row[1 + k] == value)
            if share == 0:
                continue
            present.add(value)
            width = 100 * share / total
            ax.barh(
                y,
                width,
                left=left,
                color=_COLOURS[value],
                edgecolor="black",
                linewidth=0.5,
                label=value,
            )
            left += width
    ax.set_yticks(range(len(cols)), [names[c] for c in reversed(cols)], fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Weighted share of results (%)" if weights else "Share of results (%)")
    handles, labels = ax.get_legend_handles_labels()
    unique = {lab: h for h, lab in zip(handles, labels, strict=True)}
    keep = [v for v in order if v in unique]
    # Just below the x-axis label, whatever the number of rows (axes are ~77% of the figure).
    below = -0.55 / (0.77 * height)
    ax.legend(
        [unique[v] for v in keep],
        keep,
        loc="upper center",
        bbox_to_anchor=(0.5, below),
        ncol=len(keep),
        frameon=False,
    )
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    if title:
        ax.set_title(title)
    _save(fig, path)
    plt.close(fig)
