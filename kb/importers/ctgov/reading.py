"""Reading JSON files into v2 study objects: the one place where the importer parses JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb import paths as kb_paths
from kb.errors import CouldNotRun
from kb.importers.ctgov.parsing import _NCT

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class RecordRef:
    """One study object read from a file: where it came from and its NCT id."""

    path: Path
    index: int | None  # position in a {"studies": [...]} response, None for a bare study
    nct_id: str
    record: dict[str, Any] = field(repr=False, compare=False)

    @property
    def origin(self) -> str:
        return str(self.path) if self.index is None else f"{self.path} (studies[{self.index}])"


def nct_id_of(record: Any) -> str | None:
    """The NCT id of a v2 study object, or ``None`` when it is not one."""
    if not isinstance(record, dict):
        return None
    ident = (record.get("protocolSection") or {}).get("identificationModule") or {}
    nct = ident.get("nctId") if isinstance(ident, dict) else None
    if isinstance(nct, str) and _NCT.match(nct.strip()):
        return nct.strip()
    return None


def read_records(path: Path) -> list[RecordRef]:
    """The study objects in one JSON file (a bare study, or ``{"studies": [...]}``).

    :raises CouldNotRun: the file cannot be read, is not JSON, or holds no study.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CouldNotRun(f"{path}: cannot read: {exc.strerror}") from exc
    from kb.safe_load import load_json

    try:
        data = load_json(raw.decode("utf-8-sig"))  # kb.safe_load: finite, bounded
    except UnicodeDecodeError as exc:
        raise CouldNotRun(f"{path}: not UTF-8 text: {exc.reason}") from exc
    except json.JSONDecodeError as exc:
        raise CouldNotRun(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    if isinstance(data, dict) and "studies" in data and "protocolSection" not in data:
        studies = data["studies"]
        if not isinstance(studies, list) or not studies:
            raise CouldNotRun(f"{path}: not a ClinicalTrials.gov study: 'studies' holds no study")
        refs = []
        for i, study in enumerate(studies):
            nct = nct_id_of(study)
            if nct is None:
                raise CouldNotRun(
                    f"{path}: not a ClinicalTrials.gov study: studies[{i}] has no "
                    "protocolSection.identificationModule.nctId"
                )
            refs.append(RecordRef(Path(path), i, nct, study))
        return refs
    nct = nct_id_of(data)
    if nct is None:
        raise CouldNotRun(
            f"{path}: not a ClinicalTrials.gov study: no protocolSection.identificationModule.nctId"
        )
    return [RecordRef(Path(path), None, nct, data)]


def input_files(paths: Iterable[Path]) -> list[Path]:
    """Files named on the command line, with folders expanded to their ``*.json`` (recursive).

    :raises UsageError: a path does not exist, or a folder holds no JSON file.
    """
    return kb_paths.expand_inputs(
        paths,
        lambda folder: sorted(f for f in folder.rglob("*.json") if f.is_file()),
        "folder holds no .json file",
    )
