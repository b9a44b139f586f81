"""The benchmark behind ``ekb bench run``: evidence-kb against plain rdflib + pySHACL.

For each knowledge base size N a synthetic knowledge base is generated
(:mod:`kb.bench.generate`) and every operation runs in a fresh Python
subprocess (a *worker*, :func:`worker_main`), so imports, caches and memory
never leak from one measurement into the next, and the peak memory of an
operation is the ``ru_maxrss`` of its worker.

evidence-kb side (what ``ekb`` does):

- cold load: :meth:`kb.store.EmbeddedStore.open_kb` with ``EKB_CACHE=never``;
- first cached run: ``open_kb`` building the warm-start cache in an empty cache folder;
- warm start: ``open_kb`` again, from that cache;
- every canned query: :func:`kb.queries.run_query` (binding included), median of
  ``repeat`` runs after one untimed warm-up;
- full validation: :func:`kb.validation.validate_kb` with an empty cache folder;
- validation after one study changes: one study file is edited and
  ``validate_kb`` runs again in a new process (the edit is undone afterwards);
- ``export csv``: :func:`kb.export.export` into a temporary folder.

Baseline side (the way most projects would do it): one rdflib ``Graph``, every
file parsed into it; each canned query's bound text (the very text the embedded
store ran) through ``graph.query``; the same ``export csv`` code reading from
that graph; ``pyshacl.validate`` of the whole graph against ``shapes.ttl``.
Each baseline operation has a time limit: an operation that exceeds it is
stopped and reported as over the limit, never estimated.

Nothing here asserts speed; :func:`run_benchmark` returns the measurements and
:func:`render_table` shows them.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.errors import CouldNotRun, UsageError

#: Canned query -> parameters used in the benchmark. They are what a reviewer
#: would ask of a lupus knowledge base; ``{mid}`` is the id of the middle study.
QUERY_PARAMS: dict[str, dict[str, str]] = {
    "characteristics": {"condition": "lupus nephritis"},
    "claims": {"intervention": "belimumab"},
    "counts": {},
    "evidence-map": {"condition": "lupus"},
    "head-to-head": {"intervention": "belimumab"},
    "meta-input": {"outcome": "complete renal response"},
    "missing-data": {},
    "outcome-results": {"outcome": "complete renal response"},
    "pico": {"study": "{mid}"},
    "provenance": {"study": "{mid}"},
    "safety": {"intervention": "belimumab"},
    "studies": {"condition": "lupus nephritis"},
}

#: Targets of issue 9, at 10,000 studies on a 2-core machine.
TARGET_N = 10_000
TARGETS: dict[str, float] = {
    "cold_load": 10.0,
    "warm_start": 1.0,
    "query": 0.3,
    "validate_full": 90.0,
    "validate_after_change": 3.0,
    "export_csv": 10.0,
    "peak_memory_mib": 3 * 1024.0,
}
#: A canned query must also be this many times faster than the rdflib baseline.
QUERY_MIN_RATIO = 50.0

DEFAULT_SIZES = (1_000, 10_000)
DEFAULT_REPEAT = 5
DEFAULT_LIMIT = 300.0
#: evidence-kb operations get a generous limit of their own: a slow one is a
#: finding to report, but a hung one must not hang the benchmark.
DEFAULT_EKB_LIMIT = 600.0
#: The rdflib parse of the baseline may take this long even with a lower --limit.
PARSE_MIN_LIMIT = 300.0


# ---------------------------------------------------------------------------
# Results


@dataclass
class Measure:
    """One side (ekb or baseline) of one operation.

    ``status`` is ``ok``, ``over_limit`` (stopped at ``limit_s``), ``failed``
    (``detail`` says why), ``not_run`` (an earlier step failed) or ``skipped``.
    """

    status: str
    value: float | None = None
    runs: int | None = None
    detail: str | None = None
    limit_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "value": self.value}
        for key in ("runs", "detail", "limit_s"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out.update(self.extra)
        return out


@dataclass
class Operation:
    """A row of the table: what was measured, on both sides, and its target."""

    key: str
    label: str
    unit: str  # "s" or "MiB"
    ekb: Measure
    baseline: Measure
    target: float | None = None
    min_ratio: float | None = None
    note: str | None = None

    def ratio(self) -> tuple[float | None, bool]:
        """Baseline / ekb and whether it is a lower bound (the baseline hit its limit)."""
        if self.ekb.status != "ok" or not self.ekb.value:
            return None, False
        if self.baseline.status == "ok" and self.baseline.value is not None:
            return self.baseline.value / self.ekb.value, False
        if self.baseline.status == "over_limit" and self.baseline.limit_s:
            return self.baseline.limit_s / self.ekb.value, True
        return None, False

    def target_met(self) -> bool | None:
        if self.target is None or self.ekb.status != "ok" or self.ekb.value is None:
            return None if self.target is None else False
        met = self.ekb.value <= self.target
        if self.min_ratio is not None:
            ratio, _lower_bound = self.ratio()
            met = met and ratio is not None and ratio >= self.min_ratio
        return met

    def to_dict(self, check_targets: bool) -> dict[str, Any]:
        ratio, lower_bound = self.ratio()
        out: dict[str, Any] = {
            "key": self.key,
            "label": self.label,
            "unit": self.unit,
            "ekb": self.ekb.to_dict(),
            "baseline": self.baseline.to_dict(),
            "ratio": None if ratio is None else round(ratio, 3),
            "ratio_is_lower_bound": lower_bound,
        }
        if self.target is not None:
            out["target"] = {"max": self.target, "min_ratio": self.min_ratio}
            out["target_met"] = self.target_met() if check_targets else None
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class SizeResult:
    """Every operation at one knowledge base size."""

    n: int
    triples: int | None
    study_bytes: int
    operations: list[Operation]

    def to_dict(self) -> dict[str, Any]:
        check = self.n >= TARGET_N
        return {
            "n": self.n,
            "triples": self.triples,
            "study_bytes": self.study_bytes,
            "targets_checked": check,
            "operations": [op.to_dict(check) for op in self.operations],
        }


@dataclass
class BenchmarkResult:
    settings: dict[str, Any]
    machine: dict[str, Any]
    sizes: list[SizeResult]

    def to_dict(self) -> dict[str, Any]:
        return {
            "benchmark": "evidence-kb",
            "settings": self.settings,
            "machine": self.machine,
            "sizes": [s.to_dict() for s in self.sizes],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"


# ---------------------------------------------------------------------------
# Running workers


def _pythonpath() -> str:
    # The worker must import this very copy of ``kb`` (a checkout need not be installed).
    root = str(Path(__file__).resolve().parent.parent.parent)
    old = os.environ.get("PYTHONPATH")
    return root + (os.pathsep + old if old else "")


def run_worker(
    spec: dict[str, Any], *, env: dict[str, str] | None = None, timeout: float
) -> dict[str, Any]:
    """Run one worker in a fresh interpreter and return what it reported.

    The worker writes its results after every step, so a worker stopped at
    ``timeout`` still reports the steps it finished; ``"killed": true`` marks it.

    :raises CouldNotRun: the worker could not start or wrote nothing.
    """
    with tempfile.TemporaryDirectory(prefix="ekb-bench-") as tmp:
        spec_path = Path(tmp) / "spec.json"
        result_path = Path(tmp) / "result.json"
        spec = {**spec, "result": str(result_path)}
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        full_env = dict(os.environ)
        full_env.pop("EKB_KB", None)
        full_env.update(env or {})
        full_env["PYTHONPATH"] = _pythonpath()
        cmd = [
            sys.executable,
            "-c",
            "from kb.bench.run import worker_main; worker_main()",
            str(spec_path),
        ]
        killed = False
        started = time.perf_counter()
        try:
            proc = subprocess.Popen(
                cmd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as exc:
            raise CouldNotRun(f"cannot start a benchmark worker: {exc}") from exc
        try:
            _out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, err = proc.communicate()
            killed = True
        wall = time.perf_counter() - started
        try:
            result: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            result = {"steps": {}}
        result["killed"] = killed
        result["returncode"] = proc.returncode
        result["process_s"] = wall
        if proc.returncode != 0 and not killed:
            lines = err.decode("utf-8", "replace").strip().splitlines()
            result["error"] = result.get("error") or (
                lines[-1] if lines else f"exit {proc.returncode}"
            )
        return result


# ---------------------------------------------------------------------------
# The worker (runs in the subprocess)


class _TimeLimit(BaseException):
    """Raised in the worker when an operation runs past its limit.

    A BaseException, so no ``except Exception`` in a library swallows it.
    """


@contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    if not seconds:
        yield
        return

    def _alarm(_signum: int, _frame: Any) -> None:
        raise _TimeLimit()

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _Reporter:
    """Collects a worker's steps and writes them (with the peak memory so far) after each."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {"steps": {}}

    def step(self, name: str, **values: Any) -> None:
        self.data["steps"][name] = values
        self.flush()

    def set(self, **values: Any) -> None:
        self.data.update(values)
        self.flush()

    def flush(self) -> None:
        import resource

        # ru_maxrss is in KiB on Linux (bytes on macOS).
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.data["peak_rss_mib"] = rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data), encoding="utf-8")
        os.replace(tmp, self.path)


def _timed(reporter: _Reporter, name: str, func: Callable[[], Any], limit: float | None) -> Any:
    """Run ``func`` under ``limit`` and report its seconds (or ``over_limit``/``failed``).

    :returns: what ``func`` returned, or ``_FAILED``.
    """
    started = time.perf_counter()
    try:
        with _time_limit(limit):
            value = func()
    except _TimeLimit:
        reporter.step(name, status="over_limit", limit_s=limit)
        return _FAILED
    except Exception as exc:  # a failure is a finding of the benchmark, reported as such
        reporter.step(name, status="failed", detail=f"{type(exc).__name__}: {exc}"[:500])
        return _FAILED
    reporter.step(name, status="ok", seconds=time.perf_counter() - started)
    return value


_FAILED = object()


def _repeat_timed(
    reporter: _Reporter,
    name: str,
    func: Callable[[], int],
    repeat: int,
    limit: float | None,
    warmup: bool,
    **extra: Any,
) -> None:
    """Median of up to ``repeat`` runs of ``func`` (which returns a row count).

    With ``warmup``, a first run under a second is a warm-up and not counted
    (a slower one counts: warming up a slow query would double its cost).
    Another run starts only if the runs so far suggest it ends within
    ``limit`` in total, so a slow operation gives fewer runs (their number is
    reported), never an estimate.
    """
    times: list[float] = []
    rows = None
    spent = 0.0
    try:
        for _ in range(repeat + (1 if warmup else 0)):
            if times and limit and spent + max(times) > limit:
                break
            started = time.perf_counter()
            with _time_limit(limit):
                rows = func()
            elapsed = time.perf_counter() - started
            if warmup and elapsed < 1.0:
                warmup = False  # that was the warm-up
                continue
            warmup = False
            times.append(elapsed)
            spent += elapsed
            if len(times) == repeat:
                break
    except _TimeLimit:
        if not times:
            reporter.step(name, status="over_limit", limit_s=limit, **extra)
            return
    except Exception as exc:
        reporter.step(name, status="failed", detail=f"{type(exc).__name__}: {exc}"[:500], **extra)
        return
    reporter.step(
        name,
        status="ok",
        seconds=statistics.median(times),
        min_s=min(times),
        max_s=max(times),
        runs=len(times),
        rows=rows,
        **extra,
    )


def worker_main(argv: Sequence[str] | None = None) -> None:
    """Entry point of a worker process: ``worker_main([spec.json])``."""
    args = list(sys.argv[1:] if argv is None else argv)
    spec = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    reporter = _Reporter(Path(spec["result"]))
    reporter.flush()
    action = _ACTIONS[spec["action"]]
    try:
        action(spec, reporter)
    except Exception as exc:
        reporter.set(error=f"{type(exc).__name__}: {exc}"[:500])
        raise


def _w_open(spec: dict[str, Any], reporter: _Reporter) -> None:
    started = time.perf_counter()
    from kb.store import EmbeddedStore

    reporter.set(import_s=time.perf_counter() - started)
    store = _timed(
        reporter, "open", lambda: EmbeddedStore.open_kb(Path(spec["kb"])), spec.get("limit")
    )
    if store is not _FAILED:
        reporter.set(triples=len(store))


def _w_queries(spec: dict[str, Any], reporter: _Reporter) -> None:
    from kb.queries import bind, get_query
    from kb.store import EmbeddedStore

    store = EmbeddedStore.open_kb(Path(spec["kb"]))
    bound: dict[str, str] = {}
    for name, params in spec["queries"].items():
        try:
            bound[name] = bind(store, get_query(name), params)
        except Exception as exc:
            reporter.step(name, status="failed", detail=f"{type(exc).__name__}: {exc}"[:500])
            continue
        # Reported before running, so the baseline gets the text even if this
        # query is stopped at its limit.
        reporter.set(bound=bound)
        _repeat_timed(
            reporter,
            name,
            functools.partial(_count_rows, store, name, params),
            spec["repeat"],
            spec.get("limit"),
            warmup=True,
        )


def _count_rows(store: Any, name: str, params: dict[str, str]) -> int:
    from kb.queries import run_query

    return len(run_query(store, name, params).rows)


def _count_rdflib_rows(graph: Any, text: str) -> int:
    return len(list(graph.query(text)))


def _w_validate(spec: dict[str, Any], reporter: _Reporter) -> None:
    from kb.validation import validate_kb

    report = _timed(reporter, "validate", lambda: validate_kb(Path(spec["kb"])), spec.get("limit"))
    if report is not _FAILED:
        reporter.set(conforms=report.conforms, counts=report.counts(), files=len(report.files))


def _w_export(spec: dict[str, Any], reporter: _Reporter) -> None:
    from kb.export import export

    out = Path(spec["out"])
    _timed(
        reporter,
        "export",
        lambda: export("csv", kb_dir=Path(spec["kb"]), output=out),
        spec.get("limit"),
    )
    reporter.set(files=sorted(p.name for p in out.glob("*.csv")))


class RdflibStore:
    """A :class:`kb.store.Store` over a plain rdflib Graph (the baseline engine)."""

    def __init__(self, graph: Any) -> None:
        self.graph = graph

    def select(self, query: str) -> Any:
        from kb.store import QueryResult

        result = self.graph.query(query)
        columns = [str(v) for v in result.vars]
        rows = [
            {k: v for k, v in zip(columns, row, strict=True) if v is not None} for row in result
        ]
        return QueryResult(columns, rows)

    def ask(self, query: str) -> bool:
        return bool(self.graph.query(query).askAnswer)

    def construct(self, query: str) -> list[Any]:
        return list(self.graph.query(query))


def _all_files(kb: Path) -> list[Path]:
    from kb import paths
    from kb.store import schema_files

    return [*schema_files(kb), *paths.study_files(kb)]


def _w_rdflib(spec: dict[str, Any], reporter: _Reporter) -> None:
    """Baseline: parse into one rdflib Graph, run the bound queries, export csv, pySHACL."""
    limit = spec.get("limit")
    started = time.perf_counter()
    from rdflib import Graph

    reporter.set(import_s=time.perf_counter() - started)
    kb = Path(spec["kb"])

    def parse() -> Any:
        graph = Graph()
        for f in _all_files(kb):
            graph.parse(f, format="turtle")
        return graph

    # Parsing gets at least PARSE_MIN_LIMIT: without the graph nothing else
    # of the baseline could be measured.
    graph = _timed(reporter, "parse", parse, max(limit or 0, PARSE_MIN_LIMIT))
    if graph is _FAILED:
        return
    reporter.set(triples=len(graph))
    for name, text in spec.get("bound", {}).items():
        _repeat_timed(
            reporter,
            f"query:{name}",
            functools.partial(_count_rdflib_rows, graph, text),
            spec["repeat"],
            limit,
            warmup=False,
        )
    if spec.get("export"):
        from kb.export.csv_export import render
        from kb.export.tables import select_studies

        out = Path(spec["export"])

        def export_csv() -> None:
            from kb.export import write

            store = RdflibStore(graph)
            write(render(store, select_studies(store)), out)

        _timed(reporter, "export", export_csv, limit)
    if spec.get("shacl"):
        import pyshacl

        from kb import paths

        shapes = Graph().parse(paths.shapes_file(), format="turtle")

        def shacl() -> bool:
            conforms, _report, _text = pyshacl.validate(
                graph, shacl_graph=shapes, inference="none", advanced=True, inplace=True
            )
            return bool(conforms)

        _timed(reporter, "shacl", shacl, limit)


_ACTIONS: dict[str, Callable[[dict[str, Any], _Reporter], None]] = {
    "open": _w_open,
    "queries": _w_queries,
    "validate": _w_validate,
    "export": _w_export,
    "rdflib": _w_rdflib,
}


# ---------------------------------------------------------------------------
# The benchmark (runs in the parent)

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
    text = original.decode("utf-8")
    edited = text.replace('ekb:locator "table 1"', 'ekb:locator "table 1, revised"', 1)
    if edited == text:
        edited = text.replace('ekb:locator "abstract"', 'ekb:locator "abstract, revised"', 1)
    path.write_bytes(edited.encode("utf-8"))
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
        queries: dict[str, Any] = {"steps": {}, "bound": {}}
        for name in sorted(params):
            one = ekb_worker(
                f"query {name}",
                {"action": "queries", "queries": {name: params[name]}, "repeat": repeat},
                cached_env,
            )
            if name not in one.get("steps", {}) and one.get("killed"):
                one.setdefault("steps", {})[name] = {"status": "over_limit", "limit_s": ekb_limit}
            queries["steps"].update(one.get("steps", {}))
            queries["bound"].update(one.get("bound", {}))
        full = ekb_worker("full validation", {"action": "validate"}, cached_env)
        changed = _changed_study(kb, n)
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
        if op.key.startswith("query:") and op.ekb.status == "ok" and op.baseline.status == "ok":
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


# ---------------------------------------------------------------------------
# The table


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
