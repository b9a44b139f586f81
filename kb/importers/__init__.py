"""Importers: turn records from other systems into study files of the knowledge base.

One module per source; :mod:`kb.importers.ctgov` reads ClinicalTrials.gov API v2 JSON.
"""

from __future__ import annotations
