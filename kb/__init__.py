"""evidence-kb: clinical study claims as validated, queryable RDF.

The package is a library first; :mod:`kb.cli` is a thin command line over it.
"""

from __future__ import annotations

__version__ = "0.1.0"
