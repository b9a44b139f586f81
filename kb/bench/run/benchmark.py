"""The benchmark itself (runs in the parent): knowledge bases, workers per size, the result."""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kb.bench.run.results import (
    DEFAULT_EKB_LIMIT,
    DEFAULT_LIMIT,
    DEFAULT_REPEAT,
    DEFAULT_SIZES,
    PARSE_MIN_LIMIT,
    QUERY_MIN_RATIO,
    QUERY_PARAMS,
    RERUN_MIN_RATIO,
    TARGETS,
    BenchmarkResult,
    Measure,
    Operation,
    SizeResult,
)
from kb.bench.run.workers import edit_study, run_worker
from kb.errors import CouldNotRun, UsageError

Progress = Callable[[str], None]


def _measure(worker: dict[str, Any], step: str, limit: float | None) -> Measure:
    """The :class:`Measure` of one step of a worker's report."""
    found = worker.get("steps", {}).get(step)
    if found is None:
        if worker.get("killed"):
            return Measure("over_limit", limit_s=limit, detail="stopped by the benchmark")
        if worker.get("error"):
            return Measure("failed", detail=str(worker["error"]))
        return Measure("not_run")
    status = found.get("status", "failed")
    extra = {k: found[k] for k in ("min_s", "max_s", "rows") if k in found}
    return Measure(
        status,
        value=found.get("seconds"),
        runs=found.get("runs"),
        detail=found.get("detail"),
        limit_s=found.get("limit_s") or (limit if status == "over_limit" else None),
        extra=extra,
    )


def _memory(workers: Sequence[dict[str, Any]]) -> Measure:
    peaks = [w["peak_rss_mib"] for w in workers if w.get("peak_rss_mib")]
    if not peaks:
        return Measure("not_run")
    return Measure("ok", value=max(peaks), extra={"workers": len(peaks)})


def study_kb(workdir: Path, n: int, seed: int, progress: Progress) -> Path:
    """A synthetic knowledge base of ``n`` studies in ``workdir`` (reused when already there)."""
    from kb.bench.generate import GENERATOR_VERSION, generate_kb

    kb = workdir / f"kb-{n}-seed{seed}"
    marker = kb / "bench.json"
    wanted = {"n": n, "seed": seed, "generator": GENERATOR_VERSION}
    try:
        if json.loads(marker.read_text(encoding="utf-8")) == wanted:
            return kb
    except (OSError, ValueError):
        pass
    if kb.exists():
        shutil.rmtree(kb)
    progress(f"n={n}: generating {n} synthetic studies in {kb}")
    started = time.perf_counter()
    generate_kb(n, kb, seed=seed)
    progress(f"n={n}: generated in {time.perf_counter() - started:.1f} s")
    marker.write_text(json.dumps(wanted), encoding="utf-8")
    return kb


def _changed_study(kb: Path, n: int) -> Path:
    """The study file the 'after one study changes' step edits: the middle one."""
    return kb / "studies" / f"syn-{max(1, n // 2):06d}.ttl"


def _edit_study(path: Path) -> bytes:
    """Change one locator in a study file (it stays valid); returns the original bytes."""
    original = path.read_bytes()
    edit_study(path, original, 0)
    return original


def query_params(n: int) -> dict[str, dict[str, str]]:
    """:data:`QUERY_PARAMS` with ``{mid}`` filled in for a knowledge base of ``n`` studies."""
    mid = f"syn-{max(1, n // 2):06d}"
    return {q: {k: v.replace("{mid}", mid) for k, v in p.items()} for q, p in QUERY_PARAMS.items()}


def bench_size(
    n: int,
    workdir: Path,
    *,
    seed: int = 0,
    repeat: int = DEFAULT_REPEAT,
    baseline: bool = True,
    limit: float = DEFAULT_LIMIT,
    ekb_limit: float = DEFAULT_EKB_LIMIT,
    progress: Progress = lambda _m: None,
) -> SizeResult:
    """Every measurement at one size. See the module docstring."""
    kb = study_kb(workdir, n, seed, progress)
    cache = Path(tempfile.mkdtemp(prefix=f"cache-{n}-", dir=workdir))
    cached_env = {"EKB_CACHE": "always", "EKB_CACHE_DIR": str(cache)}
    workers: list[dict[str, Any]] = []
    slack = 30.0

    def ekb_worker(label: str, spec: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
        progress(f"n={n}: {label} ...")
        result = run_worker(
            {**spec, "kb": str(kb), "limit": ekb_limit}, env=env, timeout=ekb_limit + slack
        )
        workers.append(result)
        steps = ", ".join(
            f"{k} {v['seconds']:.3f} s" if v.get("status") == "ok" else f"{k} {v.get('status')}"
            for k, v in result.get("steps", {}).items()
        )
        progress(f"n={n}: {label}: {steps or result.get('error') or 'no result'}")
        return result

    try:
        cold = ekb_worker("cold load", {"action": "open"}, {"EKB_CACHE": "never"})
        build = ekb_worker(
            "first run (builds the warm-start cache)", {"action": "open"}, cached_env
        )
        warm = ekb_worker("warm start", {"action": "open"}, cached_env)
        params = query_params(n)

        # One worker per query: a query evaluated inside the engine cannot be
        # interrupted in its process, so a slow one is stopped by the parent.
        def per_query(label: str, spec: dict[str, Any]) -> dict[str, Any]:
            collected: dict[str, Any] = {"steps": {}, "bound": {}}
            for name in sorted(params):
                one = ekb_worker(
                    f"{label} {name}",
                    {**spec, "queries": {name: params[name]}, "repeat": repeat},
                    cached_env,
                )
                if name not in one.get("steps", {}) and one.get("killed"):
                    one.setdefault("steps", {})[name] = {
                        "status": "over_limit",
                        "limit_s": ekb_limit,
                    }
                collected["steps"].update(one.get("steps", {}))
                collected["bound"].update(one.get("bound", {}))
            return collected

        queries = per_query("query", {"action": "queries", "fill_cache": True})
        # The living-review loop: one study file changes before each run, and the
        # result cache (filled by the first runs) holds every other study's rows.
        changed = _changed_study(kb, n)
        original = changed.read_bytes()
        try:
            reruns = per_query(
                "re-run after one study file changed:", {"action": "rerun", "edit": str(changed)}
            )
        finally:
            changed.write_bytes(original)
        full = ekb_worker("full validation", {"action": "validate"}, cached_env)
        original = _edit_study(changed)
        try:
            after = ekb_worker(
                "validation after one study changes", {"action": "validate"}, cached_env
            )
        finally:
            changed.write_bytes(original)
        export_dir = Path(tempfile.mkdtemp(prefix=f"export-{n}-", dir=workdir))
        exported = ekb_worker(
            "export csv", {"action": "export", "out": str(export_dir)}, cached_env
        )

        base: dict[str, Any] = {"steps": {}}
        if baseline:
            bound = queries.get("bound", {})
            progress(
                f"n={n}: baseline (rdflib parse, {len(bound)} queries, export csv, pySHACL;"
                f" limit {limit:g} s each) ..."
            )
            base_export = Path(tempfile.mkdtemp(prefix=f"export-rdflib-{n}-", dir=workdir))
            base = run_worker(
                {
                    "action": "rdflib",
                    "kb": str(kb),
                    "bound": bound,
                    "repeat": repeat,
                    "limit": limit,
                    "export": str(base_export),
                    "shacl": True,
                },
                timeout=limit * (len(bound) + 3) + max(limit, PARSE_MIN_LIMIT) + slack,
            )
            steps = base.get("steps", {})
            progress(
                f"n={n}: baseline: "
                + ", ".join(
                    f"{k} {v['seconds']:.3f} s"
                    if v.get("status") == "ok"
                    else f"{k} {v.get('status')}"
                    for k, v in steps.items()
                )
            )
    finally:
        shutil.rmtree(cache, ignore_errors=True)

    def b(step: str) -> Measure:
        return _measure(base, step, limit) if baseline else Measure("skipped")

    parse = b("parse")
    ops = [
        Operation(
            "cold_load",
            "cold load (no cache)",
            "s",
            _measure(cold, "open", ekb_limit),
            parse,
            TARGETS["cold_load"],
        ),
        Operation(
            "cache_build",
            "first run, builds warm-start cache",
            "s",
            _measure(build, "open", ekb_limit),
            parse,
            TARGETS["cache_build"],
            note="baseline: rdflib parses every file on every start",
        ),
        Operation(
            "warm_start",
            "warm start (cache)",
            "s",
            _measure(warm, "open", ekb_limit),
            parse,
            TARGETS["warm_start"],
            note="baseline: rdflib parses every file on every start",
        ),
    ]
    for name in sorted(params):
        ops.append(
            Operation(
                f"query:{name}",
                f"query {name}",
                "s",
                _measure(queries, name, ekb_limit),
                b(f"query:{name}"),
                TARGETS["query"],
                QUERY_MIN_RATIO,
                note=_params_note(params[name]),
            )
        )
    for name in sorted(params):
        ops.append(
            Operation(
                f"query_rerun:{name}",
                f"re-run {name} after one study file changed",
                "s",
                _measure(reruns, name, ekb_limit),
                b(f"query:{name}"),
                TARGETS["query_rerun"],
                RERUN_MIN_RATIO,
                note="baseline: rdflib has no result cache, so its run of the same text",
            )
        )
    shacl = b("shacl")
    ops += [
        Operation(
            "validate_full",
            "full validation",
            "s",
            _measure(full, "validate", ekb_limit),
            shacl,
            TARGETS["validate_full"],
        ),
        Operation(
            "validate_after_change",
            "validation after one study changes",
            "s",
            _measure(after, "validate", ekb_limit),
            shacl,
            TARGETS["validate_after_change"],
            note="baseline: pySHACL has no incremental mode, so this is the full validation again",
        ),
        Operation(
            "export_csv",
            "export csv",
            "s",
            _measure(exported, "export", ekb_limit),
            b("export"),
            TARGETS["export_csv"],
        ),
        Operation(
            "peak_memory",
            "peak memory (largest worker)",
            "MiB",
            _memory(workers),
            _memory([base]) if baseline else Measure("skipped"),
            TARGETS["peak_memory_mib"],
        ),
    ]
    # Baseline ratios for queries compare row counts too: a fast wrong answer is no answer.
    for op in ops:
        if (
            op.key.startswith(("query:", "query_rerun:"))
            and op.ekb.status == "ok"
            and op.baseline.status == "ok"
        ):
            op.ekb.extra["rows_match_baseline"] = op.ekb.extra.get("rows") == op.baseline.extra.get(
                "rows"
            )
    study_bytes = sum(f.stat().st_size for f in (kb / "studies").glob("*.ttl"))
    triples = cold.get("triples")
    for d in kb.parent.glob(f"export-*{n}-*"):
        shutil.rmtree(d, ignore_errors=True)
    return SizeResult(n=n, triples=triples, study_bytes=study_bytes, operations=ops)


def _params_note(params: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "no parameters"


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on."""
    import importlib.metadata as md

    versions: dict[str, str | None] = {}
    for dist in ("pyoxigraph", "rdflib", "pyshacl", "pyshacl-turbo"):
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            versions[dist] = None
    from kb import __version__

    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "evidence_kb": __version__,
        "packages": versions,
    }


def parse_sizes(text: str) -> list[int]:
    """``"1000,10000"`` -> ``[1000, 10000]`` (``_`` and ``k`` allowed: ``10k``).

    :raises UsageError: not a comma-separated list of positive whole numbers.
    """
    sizes = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        factor = 1000 if part.endswith("k") else 1
        part = part.rstrip("k")
        if not part.isdigit() or int(part) * factor < 1:
            raise UsageError(
                f"--n expects positive whole numbers separated by commas, not {text!r}"
            )
        sizes.append(int(part) * factor)
    return sizes


def run_benchmark(
    sizes: Sequence[int] = DEFAULT_SIZES,
    *,
    workdir: Path | None = None,
    seed: int = 0,
    repeat: int = DEFAULT_REPEAT,
    baseline: bool = True,
    limit: float = DEFAULT_LIMIT,
    ekb_limit: float = DEFAULT_EKB_LIMIT,
    progress: Progress = lambda _m: None,
) -> BenchmarkResult:
    """Measure every size; see the module docstring.

    :param workdir: where knowledge bases are generated (and reused on the next
        run); default a temporary folder removed afterwards.
    :raises UsageError: bad sizes, repeat or limits.
    """
    if not sizes or any(n < 1 for n in sizes):
        raise UsageError("give at least one knowledge base size of 1 or more studies")
    if repeat < 1:
        raise UsageError("--repeat must be at least 1")
    if limit <= 0 or ekb_limit <= 0:
        raise UsageError("time limits must be positive")
    settings = {
        "sizes": list(sizes),
        "seed": seed,
        "repeat": repeat,
        "baseline": baseline,
        "limit_s": limit,
        "ekb_limit_s": ekb_limit,
        "query_params": QUERY_PARAMS,
    }
    temporary = workdir is None
    root = Path(tempfile.mkdtemp(prefix="ekb-bench-")) if workdir is None else Path(workdir)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CouldNotRun(f"{root}: cannot create the benchmark folder: {exc.strerror}") from exc
    try:
        results = [
            bench_size(
                n,
                root,
                seed=seed,
                repeat=repeat,
                baseline=baseline,
                limit=limit,
                ekb_limit=ekb_limit,
                progress=progress,
            )
            for n in sizes
        ]
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
    return BenchmarkResult(settings, machine_info(), results)
