"""Entry points: validate files, paths or a knowledge base (optionally in worker processes)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kb import paths
from kb.errors import CouldNotRun, RdfSyntaxError, UsageError
from kb.validation.cache import open_disk_cache
from kb.validation.file_checks import _cross_file_findings
from kb.validation.model import FileReport, ValidationReport
from kb.validation.turtle import _read_bytes
from kb.validation.validator import TURBO_BATCH_SIZE, StudyValidator

if TYPE_CHECKING:
    pass


def study_files_in(paths_given: Iterable[Path]) -> list[Path]:
    """Expand files and folders into the Turtle files to validate.

    A knowledge-base folder (one with ``studies/``) stands for its study files;
    any other folder for the ``*.ttl`` files directly in it.

    :raises UsageError: a path does not exist, or a folder holds no Turtle file.
    """
    return paths.expand_inputs(
        paths_given,
        lambda folder: (
            paths.study_files(folder)
            if (folder / "studies").is_dir()
            else sorted(folder.glob("*.ttl"))
        ),
        "no Turtle (.ttl) files to validate",
    )


#: Called after each file with (files done, files in all).
ProgressCallback = Callable[[int, int], None]


def validate_files(
    files: Sequence[Path],
    kb_dir: Path | None = None,
    validator: StudyValidator | None = None,
    display: Sequence[str] | None = None,
    jobs: int = 1,
    progress: ProgressCallback | None = None,
    engine: str = "auto",
) -> ValidationReport:
    """Validate study files (each with the vocabularies of ``kb_dir``), then the cross-file facts.

    :param kb_dir: the knowledge base whose vocabularies and studies resolve
        references; default ``$EKB_KB`` or the shipped one.
    :param validator: reuse a :class:`StudyValidator` (and its cache).
    :param display: names for the files in the report (default: as given).
    :param jobs: worker processes; files are independent, so more jobs
        validate a large knowledge base faster (each worker parses the shapes
        and vocabularies once). Cached files are not sent to workers.
    :param progress: called after each file with (done, total).
    :param engine: ``auto``, ``pyshacl`` or ``turbo`` (see :class:`StudyValidator`);
        ignored when ``validator`` is given.
    :raises RdfSyntaxError: a file is not valid Turtle.
    :raises UsageError: ``jobs`` is below 1, or an unknown engine.
    """
    if jobs < 1:
        raise UsageError(f"jobs must be at least 1, not {jobs}")
    kb_dir = Path(kb_dir) if kb_dir is not None else paths.default_kb_dir()
    disk_cache = None
    if validator is None:
        disk_cache = open_disk_cache(len(files))
        validator = StudyValidator(paths.kb_vocab_files(kb_dir), cache=disk_cache, engine=engine)
    try:
        return _validate_files(files, kb_dir, validator, display, jobs, progress)
    finally:
        if disk_cache is not None:
            disk_cache.close()


def _validate_files(
    files: Sequence[Path],
    kb_dir: Path,
    validator: StudyValidator,
    display: Sequence[str] | None,
    jobs: int,
    progress: ProgressCallback | None,
) -> ValidationReport:
    names = list(display) if display is not None else [str(f) for f in files]
    pairs = [(Path(f), n) for f, n in zip(files, names, strict=True)]
    total = len(pairs)
    if jobs == 1:
        step = (lambda done: progress(done, total)) if progress else None
        final = validator.validate_many(pairs, progress=step)
        return ValidationReport(files=tuple(_cross_file_findings(final, kb_dir)))
    reports: list[FileReport | None] = [None] * total
    done = 0
    todo: list[int] = []
    for i, (path, name) in enumerate(pairs):
        digest = hashlib.sha256(_read_bytes(path)).hexdigest()
        cached = validator.cached(digest, name)
        if cached is not None:
            reports[i] = cached
            done += 1
            if progress:
                progress(done, total)
        else:
            todo.append(i)
    if todo:
        from concurrent.futures import ProcessPoolExecutor

        engine = validator.engine_for(len(todo))
        # pySHACL: one file per task; turbo: batches, at most TURBO_BATCH_SIZE,
        # and small enough that every worker gets some.
        size = 1 if engine == "pyshacl" else min(TURBO_BATCH_SIZE, -(-len(todo) // jobs))
        chunks = [todo[k : k + size] for k in range(0, len(todo), size)]
        with ProcessPoolExecutor(
            max_workers=min(jobs, len(chunks)),
            initializer=_worker_init,
            initargs=(validator.vocab_files, validator.shapes_file, engine),
        ) as pool:
            outcomes = pool.map(
                _worker_validate_many,
                [[pairs[i] for i in chunk] for chunk in chunks],
                chunksize=4 if engine == "pyshacl" else 1,
            )
            for chunk, outcome in zip(chunks, outcomes, strict=True):
                for i, report in zip(chunk, _unwrap_worker_outcome(outcome), strict=True):
                    validator.remember(report)
                    reports[i] = report
                    done += 1
                    if progress:
                        progress(done, total)
    final = [r for r in reports if r is not None]
    return ValidationReport(files=tuple(_cross_file_findings(final, kb_dir)))


_worker_validator: StudyValidator | None = None


def _worker_init(vocab_files: list[Path], shapes_file: Path, engine: str = "pyshacl") -> None:
    global _worker_validator
    _worker_validator = StudyValidator(vocab_files, shapes_file, engine=engine)


def _worker_validate_many(
    pairs: list[tuple[Path, str]],
) -> list[FileReport] | tuple[str, ...]:
    # Errors travel back as plain tuples: RdfSyntaxError does not pickle.
    assert _worker_validator is not None
    try:
        if len(pairs) == 1:
            return [_worker_validator.validate_file(*pairs[0])]
        return _worker_validator.validate_many(pairs)
    except RdfSyntaxError as exc:
        return ("syntax", exc.path, "" if exc.line is None else str(exc.line), exc.detail)
    except CouldNotRun as exc:
        return ("could-not-run", str(exc))


def _unwrap_worker_outcome(outcome: list[FileReport] | tuple[str, ...]) -> list[FileReport]:
    if isinstance(outcome, list):
        return outcome
    if outcome[0] == "syntax":
        _, path, line, detail = outcome
        raise RdfSyntaxError(path, int(line) if line else None, detail)
    raise CouldNotRun(outcome[1])


def validate_paths(
    paths_given: Sequence[Path],
    kb_dir: Path | None = None,
    jobs: int = 1,
    progress: ProgressCallback | None = None,
    validator: StudyValidator | None = None,
    engine: str = "auto",
) -> ValidationReport:
    """Validate the files and folders given (see :func:`study_files_in`).

    Review files (in a ``reviews/`` folder, or declaring an ``ekb:Review``) are
    checked against the review shapes (:mod:`kb.sysreview.validate`).

    :raises UsageError: a path does not exist or a folder holds no Turtle file.
    :raises RdfSyntaxError: a file is not valid Turtle.
    """
    from kb.sysreview.validate import split_review_files, with_review_reports

    studies, reviews = split_review_files(study_files_in(paths_given), paths_given)
    report = ValidationReport()
    if studies:
        report = validate_files(
            studies, kb_dir, validator, jobs=jobs, progress=progress, engine=engine
        )
    return with_review_reports(report, reviews, kb_dir)


def validate_kb(
    kb_dir: Path | None = None,
    jobs: int = 1,
    progress: ProgressCallback | None = None,
    validator: StudyValidator | None = None,
    engine: str = "auto",
) -> ValidationReport:
    """Validate every study and review of a knowledge base (default ``$EKB_KB`` or the shipped one).

    Files are named relative to the knowledge base folder (``studies/x.ttl``).

    :raises UsageError: the folder has no ``studies/`` with Turtle files.
    """
    kb_dir = Path(kb_dir) if kb_dir is not None else paths.default_kb_dir()
    files = paths.study_files(kb_dir)
    if not files:
        raise UsageError(f"{kb_dir}: no study files in {kb_dir / 'studies'}")
    report = validate_files(
        files,
        kb_dir,
        validator,
        display=[f"studies/{f.name}" for f in files],
        jobs=jobs,
        progress=progress,
        engine=engine,
    )
    # The knowledge base's reviews too (reviews/*.ttl), with the review shapes.
    from kb.sysreview.validate import with_review_reports

    reviews = paths.review_files(kb_dir)
    return with_review_reports(report, reviews, kb_dir, [f"reviews/{f.name}" for f in reviews])
