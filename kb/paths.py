"""Where the shipped resources are, installed or in a source checkout.

In a wheel the ontology and queries travel inside the package (``kb/ontology``,
``kb/queries``, see ``pyproject.toml``); in a source checkout or an editable
install they sit at the top of the repository. Nothing here reads the working
directory, so ``ekb`` behaves the same from any folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_REPO_DIR = PACKAGE_DIR.parent

#: Environment variable naming the knowledge base folder (like ``--kb``).
KB_ENV_VAR = "EKB_KB"


def _resource_dir(name: str) -> Path:
    installed = PACKAGE_DIR / name
    if installed.is_dir():
        return installed
    return _REPO_DIR / name


def ontology_dir() -> Path:
    """The folder holding ``ekb.ttl``, ``shapes.ttl`` and ``vocab/``."""
    return _resource_dir("ontology")


def ontology_file() -> Path:
    return ontology_dir() / "ekb.ttl"


def shapes_file() -> Path:
    return ontology_dir() / "shapes.ttl"


def vocab_dir() -> Path:
    return ontology_dir() / "vocab"


def queries_dir() -> Path:
    """The folder of canned ``.rq`` queries."""
    return _resource_dir("queries")


def shipped_kb_dir() -> Path:
    """The shipped knowledge base: the package folder (``studies/``, one file per study;
    ``reviews/``, one file per review)."""
    return PACKAGE_DIR


def default_kb_dir() -> Path:
    """``$EKB_KB`` when set, else the shipped knowledge base."""
    env = os.environ.get(KB_ENV_VAR)
    return Path(env).expanduser() if env else shipped_kb_dir()


def study_files(kb_dir: Path) -> list[Path]:
    """The study files of a knowledge base folder, sorted by name.

    Only regular files: a FIFO or device named ``*.ttl`` would block or never
    end a read, so it is refused, and so is a symbolic link that leads out of
    the knowledge base (a study "file" pointing at ``/etc/passwd``).

    :raises CouldNotRun: such an entry is in ``studies/``.
    """
    # By name (one folder): Path's own ordering is slow to compare at 10,000 files.
    found = sorted((kb_dir / "studies").glob("*.ttl"), key=lambda f: f.name)
    return [checked_entry(kb_dir, f) for f in found]


def checked_entry(kb_dir: Path, path: Path) -> Path:
    """``path`` when it is a regular file, or a link to one inside ``kb_dir``.

    :raises CouldNotRun: otherwise (see :func:`study_files`).
    """
    import stat

    from kb.errors import CouldNotRun

    try:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            target = path.resolve(strict=True)
            if not target.is_relative_to(Path(kb_dir).resolve()):
                raise CouldNotRun(
                    f"{path}: a link that leads out of the knowledge base; refused"
                    " (copy the file in instead)"
                )
            mode = target.stat().st_mode
    except OSError as exc:
        raise CouldNotRun(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(mode):
        raise CouldNotRun(f"{path}: not a regular file (a FIFO, device or folder); refused")
    return path


def review_files(kb_dir: Path) -> list[Path]:
    """The review files of a knowledge base folder (``reviews/*.ttl``), sorted by name."""
    return sorted((kb_dir / "reviews").glob("*.ttl"))


def kb_vocab_files(kb_dir: Path) -> list[Path]:
    """Vocabularies shipped with the package plus any in the KB's own ``vocab/``."""
    files = sorted(vocab_dir().glob("*.ttl"))
    own = kb_dir / "vocab"
    if own.is_dir() and own.resolve() != vocab_dir().resolve():
        files += sorted(own.glob("*.ttl"))
    return files


def expand_inputs(
    given: Iterable[Path], files_in_folder: Callable[[Path], list[Path]], empty_folder: str
) -> list[Path]:
    """Files named on a command line, each folder replaced by ``files_in_folder(folder)``,
    without duplicates (the first spelling of a file is kept).

    :param empty_folder: what to say after the folder's name when it holds none.
    :raises UsageError: a path does not exist, or a folder holds no file to take.
    """
    from kb.errors import UsageError

    files: list[Path] = []
    for path in map(Path, given):
        if path.is_dir():
            found = files_in_folder(path)
            if not found:
                raise UsageError(f"{path}: {empty_folder}")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    seen: set[Path] = set()
    unique = []
    for f in files:
        if f.resolve() not in seen:
            seen.add(f.resolve())
            unique.append(f)
    return unique
