"""Figures drawn by other modules' ``save``/``draw`` functions, taken as bytes for the site."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def svg_bytes(write: Callable[..., Any]) -> bytes:
    """Run ``write(path)`` into a temporary SVG file and return its bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "figure.svg"
        write(path)
        return path.read_bytes()
