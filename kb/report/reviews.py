"""Review pages: placeholder until the review model lands (see gather_reviews)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.errors import UsageError
from kb.store import Store

if TYPE_CHECKING:
    from kb.report.model import SiteData


def gather_reviews(
    store: Store, kb_dir: Path | None, *, review: str | None, site: SiteData
) -> list[Any]:
    """The reviews the site shows. The knowledge base holds no review model yet, so none;
    asking for one by name is a usage error rather than a silently empty site."""
    if review is not None:
        raise UsageError(f"no review {review!r}: this knowledge base holds no reviews")
    return []
