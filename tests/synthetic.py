"""Knowledge bases for tests: synthetic studies beside the shipped ones."""

from __future__ import annotations

import shutil
from pathlib import Path

from kb.bench.generate import generate_kb
from kb.paths import shipped_kb_dir


def synthetic_beside_shipped(folder: Path, n: int, seed: int) -> Path:
    """``folder`` filled with ``n`` synthetic studies (:mod:`kb.bench.generate`),
    the shipped studies and the shipped review: the shapes the benchmark measures
    and the shipped corpus's odd cases (single-arm studies, findings without an
    arm, studies linked to each other) in one knowledge base."""
    generate_kb(n, folder, seed=seed)
    for study in (shipped_kb_dir() / "studies").glob("*.ttl"):
        shutil.copy(study, folder / "studies" / study.name)
    shutil.copytree(shipped_kb_dir() / "reviews", folder / "reviews")
    return folder
