"""Shell completion of the values ekb knows: canned query names and study ids.

Click completes commands, options and choices (export formats, ``--design``) itself; these
callbacks add the values it cannot know. They read file names only (``queries/*.rq``, the
knowledge base's ``studies/*.ttl``), never the store, so a TAB answers at once. A study file is
named after its study id (``ekb validate`` warns when one is not), so the names are the ids.
"""

from __future__ import annotations

from pathlib import Path

import click
from click.shell_completion import CompletionItem


def _starting(names: list[str], incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(n) for n in sorted(set(names)) if n.startswith(incomplete)]


def complete_query_names(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The canned query names (``queries/*.rq``) that start with what was typed."""
    from kb.paths import queries_dir

    return _starting([p.stem for p in queries_dir().glob("*.rq")], incomplete)


def complete_study_ids(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The study ids of the knowledge base in ``--kb`` (or ``$EKB_KB``, or the shipped one)."""
    from kb.paths import default_kb_dir, study_files

    kb_dir = ctx.params.get("kb_dir")
    folder = Path(kb_dir) if kb_dir else default_kb_dir()
    return _starting([p.stem for p in study_files(folder)], incomplete)
