"""The on-disk cache of file reports (SQLite), shared across knowledge bases."""

from __future__ import annotations

import json
from collections.abc import Iterator, MutableMapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from kb.validation.model import FileReport, Finding

if TYPE_CHECKING:
    pass

#: The on-disk cache file, in the user's cache directory (``$EKB_CACHE_DIR``).
DISK_CACHE_NAME = "validation.sqlite"


class DiskCache(MutableMapping[str, FileReport]):
    """File reports by cache key in one SQLite file.

    Keys hold the file's SHA-256 and the fingerprint of the shapes,
    vocabularies and pySHACL version, so a report is reused only for the same
    bytes checked by the same rules, whichever knowledge base the file is in.
    A cache that cannot be read is deleted and rebuilt, never trusted; one
    that cannot be written is simply not used.
    """

    def __init__(self, path: Path) -> None:
        import sqlite3

        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        for _attempt in range(2):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path)
                db.execute("CREATE TABLE IF NOT EXISTS reports (key TEXT PRIMARY KEY, value TEXT)")
                db.execute("SELECT count(*) FROM reports").fetchone()
                self._db = db
                return
            except sqlite3.DatabaseError:
                self.path.unlink(missing_ok=True)  # corrupt: start again
            except OSError:
                return

    @property
    def usable(self) -> bool:
        return self._db is not None

    def __getitem__(self, key: str) -> FileReport:
        import sqlite3

        if self._db is None:
            raise KeyError(key)
        try:
            row = self._db.execute("SELECT value FROM reports WHERE key = ?", (key,)).fetchone()
        except sqlite3.DatabaseError as exc:  # locked by another process, or damaged
            raise KeyError(key) from exc
        if row is None:
            raise KeyError(key)
        try:
            return _report_from_json(row[0])
        except (ValueError, KeyError, TypeError) as exc:
            del self[key]
            raise KeyError(key) from exc

    def __setitem__(self, key: str, report: FileReport) -> None:
        import sqlite3

        if self._db is None:
            return
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO reports (key, value) VALUES (?, ?)",
                (key, _report_to_json(report)),
            )
        except sqlite3.DatabaseError:
            self._db = None  # full disk, read-only, locked: go on without it

    def __delitem__(self, key: str) -> None:
        if self._db is not None:
            self._db.execute("DELETE FROM reports WHERE key = ?", (key,))

    def __iter__(self) -> Iterator[str]:
        if self._db is None:
            return iter(())
        return iter([row[0] for row in self._db.execute("SELECT key FROM reports ORDER BY key")])

    def __len__(self) -> int:
        if self._db is None:
            return 0
        return int(self._db.execute("SELECT count(*) FROM reports").fetchone()[0])

    def close(self) -> None:
        """Write what was added and close the file."""
        import sqlite3

        if self._db is not None:
            try:
                self._db.commit()
            except sqlite3.DatabaseError:
                pass
            self._db.close()
            self._db = None


def _report_to_json(report: FileReport) -> str:
    return json.dumps(
        {
            "sha256": report.sha256,
            "findings": [asdict(f) for f in report.findings],
            "studies": list(report.studies),
            "related": [list(pair) for pair in report.related],
        },
        sort_keys=True,
    )


def _report_from_json(text: str) -> FileReport:
    data = json.loads(text)
    return FileReport(
        path="",
        sha256=data["sha256"],
        findings=tuple(Finding(**f) for f in data["findings"]),
        studies=tuple(data["studies"]),
        related=tuple((a, b) for a, b in data["related"]),
    )


def open_disk_cache(n_files: int) -> DiskCache | None:
    """The on-disk cache when the settings ask for one, else ``None``.

    Follows the warm-start store's settings: ``$EKB_CACHE`` = ``auto``
    (default: only for knowledge bases of ``CACHE_MIN_STUDIES`` files or
    more), ``always`` or ``never``; ``$EKB_CACHE_DIR`` moves the cache.
    """
    import os

    from kb.store import CACHE_ENV_VAR, CACHE_MIN_STUDIES, cache_root

    mode = os.environ.get(CACHE_ENV_VAR, "auto").lower()
    if mode == "never" or (mode != "always" and n_files < CACHE_MIN_STUDIES):
        return None
    cache = DiskCache(cache_root() / DISK_CACHE_NAME)
    return cache if cache.usable else None
