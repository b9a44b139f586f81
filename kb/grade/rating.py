"""Suggested ratings plus a reviewer's final ratings: the certainty of one outcome.

The reviewer's decisions (final rating, reason, who, when) are data in the review; the
suggestions are recomputed on demand. A final rating that differs from the suggestion, or
that stands where no rating could be suggested, needs a reason. Without a final rating a
domain keeps its suggestion (the reason is then the rule's); a domain that could not be
suggested and has no final rating leaves the certainty unrated, never guessed; and an
outcome for which no reviewer has recorded any rating is not rated, whatever the
suggestions would give (they are proposals, not a judgement).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kb.errors import CheckFailed
from kb.grade import rules
from kb.grade.rules import Suggestion


@dataclass(frozen=True)
class FinalRating:
    """What a reviewer decided for one domain."""

    rating: str
    reason: str | None = None
    rater: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class DomainRating:
    domain: str
    suggested: str
    rule: str
    rule_source: str
    final: str | None
    reason: str
    changed_by_reviewer: bool
    rater: str | None = None
    date: str | None = None

    @property
    def levels(self) -> int:
        if self.final is None or self.final == rules.NOT_ASSESSABLE:
            return 0
        return rules.level_change(self.domain, self.final)


@dataclass(frozen=True)
class Certainty:
    start: str
    start_reason: str
    domains: tuple[DomainRating, ...]
    rating: str | None
    how: str

    def footnotes(self) -> list[str]:
        """One footnote per domain that changed the level (or could not be rated)."""
        notes = []
        for d in self.domains:
            if d.final == rules.NOT_ASSESSABLE and d.domain == "publication bias":
                continue  # not rated down ("undetected"); no footnote needed
            if d.final is None and d.domain in rules.DOWN_DOMAINS:
                notes.append(f"{d.domain.capitalize()} not rated: {d.reason}")
            elif d.levels:
                sign = "rated down" if d.levels < 0 else "rated up"
                n = abs(d.levels)
                head = (
                    f"{d.domain.capitalize()}: {sign} {n} level{'s' if n > 1 else ''} ({d.final})"
                )
                if d.changed_by_reviewer:
                    who = f" ({d.rater})" if d.rater else ""
                    notes.append(
                        f"{head}, the reviewer's rating{who}: {d.reason} [suggested {d.suggested} "
                        f"by rule {d.rule}: {d.rule_source}]"
                    )
                else:
                    notes.append(f"{head}: {d.reason} [rule {d.rule}: {d.rule_source}]")
        return notes


def check_finals(finals: Mapping[str, FinalRating], where: str = "grade") -> None:
    """A final rating must be on its domain's scale.

    :raises CheckFailed: naming ``where.<domain>.final``.
    """
    problems = []
    for domain, final in finals.items():
        if domain not in rules.DOMAINS:
            problems.append(f"{where}.{domain}: not a GRADE domain ({', '.join(rules.DOMAINS)})")
            continue
        allowed = rules.allowed_ratings(domain)
        if final.rating not in allowed:
            problems.append(
                f"{where}.{domain}.final: {final.rating!r} is not on the scale "
                f"({', '.join(allowed)})"
            )
    if problems:
        raise CheckFailed("; ".join(problems))


def rate(
    start: tuple[str, str],
    suggestions: Sequence[Suggestion],
    finals: Mapping[str, FinalRating] | None = None,
    where: str = "grade",
) -> Certainty:
    """Combine the suggestions with the reviewer's finals into the outcome's certainty.

    :raises CheckFailed: a final off its scale, or a change without a reason.
    """
    finals = dict(finals or {})
    check_finals(finals, where)
    out = []
    problems = []
    for s in suggestions:
        f = finals.get(s.domain)
        source = rules.RULE_SOURCES.get(s.rule, "")
        if f is None:
            final = s.rating if s.is_rating else None
            if s.domain == "publication bias" and s.rating == rules.NOT_ASSESSABLE:
                final = rules.NOT_ASSESSABLE
            if final is None and s.domain in rules.UP_DOMAINS:
                final = rules.NO_UPGRADE  # nothing judged: no rating up
            out.append(DomainRating(s.domain, s.rating, s.rule, source, final, s.reason, False))
            continue
        changed = f.rating != s.rating
        if changed and not f.reason:
            problems.append(
                f"{where}.{s.domain}.reason: the final rating {f.rating!r} differs from the "
                f"suggested {s.rating!r}; give the reason"
            )
            continue
        reason = f.reason or s.reason
        out.append(
            DomainRating(
                s.domain, s.rating, s.rule, source, f.rating, reason, changed, f.rater, f.date
            )
        )
    if problems:
        raise CheckFailed("; ".join(problems))
    level, how = rules.certainty(start[0], {d.domain: d.final or "" for d in out})
    if level is not None and not finals:
        # GRADE certainty is a judgement: rules suggest, a reviewer decides. Until someone
        # has recorded ratings for this outcome, the suggestions' level is shown, not given.
        how = (
            "not rated: no reviewer has recorded GRADE ratings for this outcome "
            f"(the suggestions alone would give {level}: {how})"
        )
        level = None
    return Certainty(start[0], start[1], tuple(out), level, how)
