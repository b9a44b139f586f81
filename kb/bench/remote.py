"""``ekb bench remote``: push a large synthetic knowledge base to an Oxigraph server and query it.

A local ``oxigraph serve`` (the ``oxigraph`` package, as the tests use) is
started on loopback with a fresh database folder (RocksDB on disk, as a
deployment keeps it), or with ``memory`` an in-memory store (no ``--location``:
nothing survives the server, but every lookup is a memory read). The knowledge base is
generated (in parts of ``part`` studies if asked; by default one folder) and
uploaded with :func:`kb.push.push_kb` (the code behind ``ekb push``, which
streams: its memory does not grow with the knowledge base). Then every canned query
runs through :class:`kb.remote.RemoteStore` (the code behind ``--endpoint``),
each stopped at ``timeout`` seconds. Not part of CI: it takes minutes and
gigabytes.
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.errors import CouldNotRun, KbError


def find_oxigraph() -> str | None:
    """The ``oxigraph`` executable: beside the running Python, else on PATH."""
    return shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which(
        "oxigraph"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running ``oxigraph serve``: its base URL and process id."""

    base: str
    pid: int

    def peak_rss_mib(self) -> float | None:
        """The server process's peak resident memory so far (Linux only), in MiB."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text(encoding="utf-8")
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None


@contextmanager
def oxigraph_server(location: Path | None) -> Iterator[Server]:
    """A running ``oxigraph serve`` on loopback, stopped afterwards.

    :param location: its database folder; None for an in-memory store.
    :raises CouldNotRun: no ``oxigraph`` executable, or the server did not come up.
    """
    exe = find_oxigraph()
    if exe is None:
        raise CouldNotRun("no oxigraph executable: pip install oxigraph")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    storage = [] if location is None else ["--location", str(location)]
    proc = subprocess.Popen(
        [exe, "serve", *storage, "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/query?query=ASK%7B%7D", timeout=2) as r:
                    r.read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise CouldNotRun("the oxigraph server did not start") from None
                time.sleep(0.2)
        yield Server(base, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def _env(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _parts(
    workdir: Path, n: int, part: int, seed: int, progress: Callable[[str], None]
) -> list[Path]:
    """Knowledge base folders holding studies 1..n, ``part`` studies each (reused if present).

    One pass over the seed's sequence writes every part (the generator's
    random stream is sequential, so parts cannot be made independently).
    """
    from kb.bench.generate import GENERATOR_VERSION, iter_studies
    from kb.fileio import atomic_write_text

    root = workdir / f"remote-{n}-part{part}-seed{seed}-v{GENERATOR_VERSION}"
    folders = [root / f"part-{k:03d}" for k in range(-(-n // part))]
    if all((f / "complete").exists() for f in folders):
        return folders
    progress(f"generating {n} studies in {len(folders)} parts under {root}")
    for f in folders:
        (f / "studies").mkdir(parents=True, exist_ok=True)
    for index, (study, text) in enumerate(iter_studies(n, seed)):
        atomic_write_text(folders[index // part] / "studies" / f"{study}.ttl", text)
    for f in folders:
        (f / "complete").write_text("ok\n", encoding="utf-8")
    return folders


def run_remote(
    n: int,
    workdir: Path,
    *,
    part: int | None = None,
    seed: int = 0,
    timeout: float = 300.0,
    repeat: int = 3,
    memory: bool = False,
    progress: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Push ``n`` synthetic studies to a fresh Oxigraph server and run every canned query.

    :param part: studies per knowledge-base folder, each pushed on its own (default:
        all ``n`` in one folder, one push).
    :param memory: the server keeps its store in memory instead of on disk.
    :returns: a JSON-ready dict: push seconds (total and per part), triples on
        the server, per query the median seconds (or ``over_limit``) and of them
        the seconds on the wire (sending, the server's evaluation, the answer's
        bytes; the rest is reading the answer in this process), peak memory
        (of this process for the whole run and for the push alone, and of the server).
    """
    from kb.bench.run import query_params
    from kb.push import push_kb
    from kb.queries import run_query
    from kb.remote import RemoteStore

    part = n if part is None else part
    workdir.mkdir(parents=True, exist_ok=True)
    folders = _parts(workdir, n, part, seed, progress)
    database = workdir / f"oxigraph-db-{n}"
    shutil.rmtree(database, ignore_errors=True)
    result: dict[str, Any] = {
        "n": n,
        "part": part,
        "timeout_s": timeout,
        "storage": "memory" if memory else "disk",
        "push": {},
        "queries": {},
    }
    try:
        with oxigraph_server(None if memory else database) as server, _env(EKB_CACHE="never"):
            base = server.base
            pushed = []
            for folder in folders:
                started = time.perf_counter()
                report = push_kb(f"{base}/store", folder, timeout=timeout)
                took = time.perf_counter() - started
                pushed.append(took)
                progress(f"pushed {folder.name} in {took:.1f} s ({report.method})")
            result["push"] = {
                "seconds": sum(pushed),
                "parts": len(pushed),
                "part_seconds": pushed,
                "peak_rss_mib": _peak_rss_mib(),  # before any query result is held
            }
            store = RemoteStore(f"{base}/query", timeout=timeout)
            count = store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows[0]["n"]
            result["triples"] = int(str(count))
            for name, params in sorted(query_params(n).items()):
                times: list[float] = []
                wire: list[float] = []  # of each run, the seconds on the wire
                entry: dict[str, Any] = {"params": params}
                try:
                    for _ in range(repeat):
                        started, on_wire = time.perf_counter(), store.wire_seconds
                        rows = len(run_query(store, name, params).rows)
                        times.append(time.perf_counter() - started)
                        wire.append(store.wire_seconds - on_wire)
                        if sum(times) + times[-1] > timeout:
                            break
                    entry.update(_measured(times, wire), rows=rows)
                except KbError as exc:
                    if times:
                        entry.update(_measured(times, wire))
                    else:
                        entry.update(status="over_limit", detail=str(exc)[:300])
                result["queries"][name] = entry
                shown = f"{entry['seconds']:.3f} s" if entry["status"] == "ok" else entry["status"]
                progress(f"query {name}: {shown}")
            result["server_peak_rss_mib"] = server.peak_rss_mib()
    finally:
        shutil.rmtree(database, ignore_errors=True)
    result["peak_rss_mib"] = _peak_rss_mib()
    return result


def _measured(times: list[float], wire: list[float]) -> dict[str, Any]:
    """A query's entry from the seconds of its runs and, of each, the seconds on the wire."""
    return {
        "status": "ok",
        "seconds": statistics.median(times),
        "server_seconds": statistics.median(wire),
        "runs": len(times),
    }


def _peak_rss_mib() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if sys.platform != "darwin" else rss / (1024 * 1024)


def remote_table(result: dict[str, Any]) -> Any:
    """A ``rich`` table of :func:`run_remote`'s result."""
    from rich.table import Table

    storage = {"memory": "in memory", "disk": "on disk"}.get(result.get("storage", "disk"), "")
    table = Table(title=f"evidence-kb on an Oxigraph server ({storage}): {result['n']:,} studies")
    table.add_column("operation")
    table.add_column("time", justify="right")
    table.add_column("note")
    push = result["push"]
    peak = f"; peak memory {push['peak_rss_mib']:,.0f} MiB" if "peak_rss_mib" in push else ""
    table.add_row(
        "ekb push (POST, default graph)",
        f"{push['seconds']:.1f} s",
        f"{push['parts']} part{'s' if push['parts'] != 1 else ''}; "
        f"{result.get('triples', 0):,} triples on the server{peak}",
    )
    for name, entry in result["queries"].items():
        if entry["status"] == "ok":
            value = entry["seconds"]
            shown = f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
            note = f"median of {entry['runs']}, {entry['rows']:,} rows"
            if "server_seconds" in entry:
                note += f"; {entry['server_seconds']:.2f} s of it on the wire (the server)"
        else:
            shown = f"> {result['timeout_s']:g} s"
            note = "stopped at the timeout"
        table.add_row(f"query {name}", shown, note)
    table.add_row("peak memory (this process)", f"{result['peak_rss_mib']:,.0f} MiB", "")
    if result.get("server_peak_rss_mib") is not None:
        table.add_row("peak memory (the server)", f"{result['server_peak_rss_mib']:,.0f} MiB", "")
    return table
