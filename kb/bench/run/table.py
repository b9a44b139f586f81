"""The benchmark's table (rich or Markdown), and results read back from JSON files."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kb.bench.run.results import TARGET_N, BenchmarkResult, Measure, Operation, SizeResult
from kb.errors import CouldNotRun


def _fmt_value(m: Measure, unit: str) -> str:
    if m.status == "ok" and m.value is not None:
        if unit == "MiB":
            return f"{m.value:,.0f} MiB"
        if m.value < 1:
            return f"{m.value * 1000:.1f} ms"
        return f"{m.value:.2f} s"
    if m.status == "over_limit":
        return f"> {m.limit_s:g} s (limit)"
    if m.status == "failed":
        return "failed"
    if m.status == "skipped":
        return "-"
    return "not run"


def _fmt_target(op: Operation) -> str:
    if op.target is None:
        return ""
    text = (
        f"<= {op.target:,.0f} MiB"
        if op.unit == "MiB"
        else (f"<= {op.target * 1000:.0f} ms" if op.target < 1 else f"<= {op.target:g} s")
    )
    if op.min_ratio is not None:
        text += f", >= {op.min_ratio:g}x"
    return text


def table_rows(result: BenchmarkResult) -> list[tuple[str, ...]]:
    """Rows of the table: N, operation, ekb, baseline, ratio, target, met."""
    rows: list[tuple[str, ...]] = []
    for size in result.sizes:
        check = size.n >= TARGET_N
        for op in size.operations:
            ratio, lower = op.ratio()
            if ratio is None:
                ratio_text = ""
            elif op.unit == "MiB":
                ratio_text = f"{ratio:.2f}x"
            else:
                ratio_text = ("> " if lower else "") + (
                    f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.1f}x"
                )
            met = op.target_met() if check else None
            rows.append(
                (
                    f"{size.n:,}",
                    op.label,
                    _fmt_value(op.ekb, op.unit),
                    _fmt_value(op.baseline, op.unit),
                    ratio_text,
                    _fmt_target(op) if check else "",
                    "" if met is None else ("yes" if met else "NO"),
                )
            )
    return rows


TABLE_COLUMNS = (
    "N",
    "operation",
    "evidence-kb",
    "rdflib + pySHACL",
    "ratio",
    "target (10k)",
    "met",
)


def render_table(result: BenchmarkResult) -> Any:
    """A ``rich`` table of the measurements."""
    from rich.table import Table

    table = Table(title="evidence-kb benchmark (ratio = baseline time / evidence-kb time)")
    for name in TABLE_COLUMNS:
        table.add_column(name, justify="right" if name not in ("operation",) else "left")
    previous = None
    for row in table_rows(result):
        if previous is not None and row[0] != previous:
            table.add_section()
        previous = row[0]
        table.add_row(*row)
    return table


def markdown_table(result: BenchmarkResult) -> str:
    """The same table as Markdown (for the README)."""
    lines = ["| " + " | ".join(TABLE_COLUMNS) + " |", "|" + "---|" * len(TABLE_COLUMNS)]
    for row in table_rows(result):
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def load_result(files: Sequence[Path]) -> BenchmarkResult:
    """A :class:`BenchmarkResult` from JSON files of ``ekb bench run --json`` (sizes joined).

    :raises CouldNotRun: a file cannot be read or is not such a JSON file.
    """
    sizes: list[SizeResult] = []
    settings: dict[str, Any] = {}
    machine: dict[str, Any] = {}
    for path in files:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            settings, machine = data["settings"], data["machine"]
            for size in data["sizes"]:
                ops = [
                    Operation(
                        op["key"],
                        op["label"],
                        op["unit"],
                        _measure_from(op["ekb"]),
                        _measure_from(op["baseline"]),
                        (op.get("target") or {}).get("max"),
                        (op.get("target") or {}).get("min_ratio"),
                        op.get("note"),
                    )
                    for op in size["operations"]
                ]
                sizes.append(SizeResult(size["n"], size["triples"], size["study_bytes"], ops))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CouldNotRun(f"{path}: not a benchmark result: {exc}") from exc
    return BenchmarkResult(settings, machine, sizes)


def _measure_from(data: dict[str, Any]) -> Measure:
    known = {"status", "value", "runs", "detail", "limit_s"}
    return Measure(
        data["status"],
        value=data.get("value"),
        runs=data.get("runs"),
        detail=data.get("detail"),
        limit_s=data.get("limit_s"),
        extra={k: v for k, v in data.items() if k not in known},
    )
