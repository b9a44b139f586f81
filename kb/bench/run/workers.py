"""Benchmark workers: each operation in a fresh Python process, and what that process runs."""

from __future__ import annotations

import functools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kb.bench.run.results import PARSE_MIN_LIMIT
from kb.errors import CouldNotRun


def _pythonpath() -> str:
    # The worker must import this very copy of ``kb`` (a checkout need not be installed).
    root = str(Path(__file__).resolve().parents[3])  # kb/bench/run/workers.py -> checkout
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
            "from kb.bench.run.workers import worker_main; worker_main()",
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
    timer: Callable[[], float] | None = None,
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
            # ``timer`` reports the part of ``func`` that is measured, when not all of it
            elapsed = timer() if timer is not None else time.perf_counter() - started
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
    """First runs: each timed run evaluates the query (the result cache is off);
    then, with ``fill_cache``, one more run with the cache on leaves its entry for
    the re-run step."""
    from kb.queries import bind, get_query
    from kb.query_cache import RESULT_CACHE_ENV_VAR
    from kb.store import EmbeddedStore

    os.environ[RESULT_CACHE_ENV_VAR] = "never"
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
        if spec.get("fill_cache"):
            del os.environ[RESULT_CACHE_ENV_VAR]
            _timed(
                reporter,
                f"fill:{name}",
                functools.partial(_count_rows, store, name, params),
                spec.get("limit"),
            )
            os.environ[RESULT_CACHE_ENV_VAR] = "never"


def _w_rerun(spec: dict[str, Any], reporter: _Reporter) -> None:
    """Re-runs after an edit: before each timed run one study file changes (another
    text each time) and the store is opened again, as a new ``ekb query`` would
    (the warm-start store reloads that file; not timed). The result cache is on."""
    from kb.store import EmbeddedStore

    kb, edited = Path(spec["kb"]), Path(spec["edit"])
    original = edited.read_bytes()
    runs = iter(range(1_000_000))
    timings: list[float] = []

    def rerun(name: str, params: dict[str, str]) -> int:
        edit_study(edited, original, next(runs))
        store = EmbeddedStore.open_kb(kb)
        started = time.perf_counter()
        rows = _count_rows(store, name, params)
        timings.append(time.perf_counter() - started)
        return rows

    try:
        for name, params in spec["queries"].items():
            timings.clear()
            _repeat_timed(
                reporter,
                name,
                functools.partial(rerun, name, params),
                spec["repeat"],
                spec.get("limit"),
                warmup=False,
                timer=lambda: timings[-1],
            )
    finally:
        edited.write_bytes(original)


def edit_study(path: Path, original: bytes, revision: int) -> None:
    """Write ``original`` with one locator changed (the file stays valid), a
    different change for each ``revision``."""
    text = original.decode("utf-8")
    for locator in ("table 1", "abstract"):
        edited = text.replace(
            f'ekb:locator "{locator}"', f'ekb:locator "{locator}, revision {revision}"', 1
        )
        if edited != text:
            path.write_bytes(edited.encode("utf-8"))
            return
    raise CouldNotRun(f"{path}: no locator to edit")


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
    "rerun": _w_rerun,
    "validate": _w_validate,
    "export": _w_export,
    "rdflib": _w_rdflib,
}
