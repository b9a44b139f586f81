"""Keep a review file's RoB and GRADE parts when the review form is added again.

``ekb review add --force`` rebuilds the file from the review form, which does not hold the
assessments (``ekb rob add``) or the final GRADE ratings (``ekb grade add``); this carries
them over. A module of its own so that :mod:`kb.sysreview.files` can use it without importing
:mod:`kb.rob.store` (which imports :mod:`kb.sysreview`): no import cycle.
"""

from __future__ import annotations

from typing import Any

from kb.namespaces import EKB


def _e(local: str) -> Any:
    from rdflib import URIRef

    return URIRef(f"{EKB}{local}")


#: The links from a review to the parts ``ekb rob add`` and ``ekb grade add`` write.
ASSESSMENT_LINKS = ("hasRiskOfBiasAssessment", "hasCertaintyAssessment")


def carry_over(old_text: str, new_text: str, source: str = "<review>") -> str:
    """``new_text`` (a review file rewritten from its form) with ``old_text``'s RoB and GRADE
    parts kept: the review form does not hold them, so re-adding the form must not drop them.
    """
    from kb.turtle_format import canonical_turtle, header_comment, parse_turtle

    old = parse_turtle(old_text, source)
    new = parse_turtle(new_text, source)
    kept = 0
    for local in ASSESSMENT_LINKS:
        for s, p, o in old.triples((None, _e(local), None)):
            new.add((s, p, o))
            prefix = str(o)
            for t in old:
                if str(t[0]) == prefix or str(t[0]).startswith(prefix + "/"):
                    new.add(t)
                    kept += 1
    if not kept:
        return new_text
    return canonical_turtle(new, header=header_comment(new_text))
