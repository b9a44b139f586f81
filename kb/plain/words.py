"""Small helpers that turn numbers, counts and timepoints into everyday words."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

COUNT_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def count_word(n: int) -> str:
    """Small counts in words, larger ones in digits.

    >>> count_word(3), count_word(12)
    ('three', '12')
    """
    return COUNT_WORDS[n] if 0 <= n < len(COUNT_WORDS) else str(n)


def fmt_number(value: Decimal | float | int) -> str:
    """A number as printed for people: no needless trailing zeros.

    >>> fmt_number(Decimal("50.30")), fmt_number(Decimal("70.0")), fmt_number(12)
    ('50.3', '70', '12')
    """
    d = Decimal(str(value))
    text = format(d.normalize(), "f")
    return text


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an abbreviation ("C3", "SRI-4").

    >>> lower_first("On average, x"), lower_first("C3 went up")
    ('on average, x', 'C3 went up')
    """
    first = text.split(" ", 1)[0]
    if len(first) > 1 and (first[1].isupper() or first[1].isdigit()):
        return text
    return text[:1].lower() + text[1:]


def with_article(text: str) -> str:
    """``text`` with "a" or "an" in front.

    >>> with_article("randomised trial"), with_article("open study")
    ('a randomised trial', 'an open study')
    """
    return ("an " if text[:1].lower() in "aeiou" else "a ") + text


def days_as_words(days: Decimal | float | int) -> str:
    days = float(days)
    if days % 7 == 0:
        weeks = int(days // 7)
        return f"{count_word(weeks)} week{'s' if weeks != 1 else ''}"
    return f"{fmt_number(days)} days"


def schedule_words(interval: Any, on: Any, off: Any, cycles: Any) -> list[str]:
    """A dosing schedule in words, from the interval, days on and off, and cycles."""
    words: list[str] = []
    if interval == 2:
        words.append("an injection every other day" if on else "a dose every other day")
    elif interval == 1:
        words.append("a dose every day")
    if on and off:
        words.append(f"for {days_as_words(on)}, then a break of {days_as_words(off)}")
    if cycles:
        words.append(f"{count_word(int(cycles))} rounds in all" if cycles > 1 else "one round")
    return words


def timepoint_words(weeks: Decimal | None, printed: str | None = None) -> str:
    """ " by week 12", or the timepoint as printed when weeks are not whole ("42 months")."""
    if printed and printed.lower().startswith(("not stated", "not given", "not reported")):
        printed = None  # an extractor's note that the source gave no timepoint
    if weeks is None:
        return f" ({printed})" if printed else ""
    if printed and Decimal(weeks) != Decimal(weeks).to_integral_value():
        return f" after {printed}"
    return f" by week {fmt_number(weeks)}"


def whole_percent(value: Decimal | float | int) -> str:
    """A percentage as a whole number for plain text, rounded half up; the JSON
    keeps the exact value. Values that would round to 0 or 100 but are not say so.

    >>> whole_percent(Decimal("55.17")), whole_percent(Decimal("32.5")), whole_percent(7)
    ('55%', '33%', '7%')
    >>> whole_percent(Decimal("0.4")), whole_percent(Decimal("99.6"))
    ('less than 1%', 'more than 99%')
    """
    d = Decimal(str(value))
    rounded = d.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if rounded == 0 and d > 0:
        return "less than 1%"
    if rounded == 100 and d < 100:
        return "more than 99%"
    return f"{rounded}%"


def people(n: int) -> str:
    """ "1 person", "12 people"."""
    return f"{n} {'person' if n == 1 else 'people'}"
