"""GRADE certainty of the body of evidence for one outcome of a review.

- :mod:`kb.grade.rules` — each domain's suggested rating by a published rule (pure functions);
- :mod:`kb.grade.evidence` — one outcome's ``ekb meta`` result and RoB judgements as input to
  the rules; absolute effects per 1,000 and GRADE's plain-language statement;
- :mod:`kb.grade.rating` — suggested + final (reviewer) ratings -> the certainty and its
  footnotes.
"""

from kb.grade.evidence import OutcomeEvidence, absolute_effect, from_meta, plain_statement, suggest
from kb.grade.rating import Certainty, FinalRating, rate

__all__ = [
    "Certainty",
    "FinalRating",
    "OutcomeEvidence",
    "absolute_effect",
    "from_meta",
    "plain_statement",
    "rate",
    "suggest",
]
