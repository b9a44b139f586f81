"""Reading values of a v2 record: markup, numbers, labels, time frames, p-values."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


_RESULTS = "resultsSection"

_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~=])")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_NCT = re.compile(r"^NCT\d{8}$")


def unescape_markup(text: str) -> str:
    """Undo the Markdown escaping of v2 ``markup`` fields.

    >>> unescape_markup(r"fasting glucose \\<126 mg/dl, \\[IGA=3\\]")
    'fasting glucose <126 mg/dl, [IGA=3]'
    """
    return _MD_ESCAPE.sub(r"\1", text)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = unescape_markup(str(value)).strip()
    return text or None


def parse_decimal(raw: Any) -> Decimal | None:
    """A registry value as a decimal, or ``None`` when it is not a plain number ("NA").

    >>> parse_decimal("19.63"), parse_decimal(".33"), parse_decimal("NA"), parse_decimal(5)
    (Decimal('19.63'), Decimal('0.33'), None, Decimal('5'))
    """
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        return Decimal(repr(raw))
    text = str(raw).strip()
    if not _NUMBER.match(text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if text.startswith(".") or text.startswith("-.") or text.startswith("+."):
        value = Decimal(text.replace(".", "0.", 1))
    return value


def parse_count(raw: Any) -> int | None:
    """A non-negative whole number, or ``None``.

    >>> parse_count("97"), parse_count(0), parse_count("2.5"), parse_count("NA")
    (97, 0, None, None)
    """
    value = parse_decimal(raw)
    if value is None or value < 0 or value != value.to_integral_value():
        return None
    return int(value)


def slugify(text: str, fallback: str = "x") -> str:
    """A readable IRI key: ASCII, lower case, words joined by ``-``.

    >>> slugify("Dupilumab 300 mg qw"), slugify("Sjögren's syndrome")
    ('dupilumab-300-mg-qw', 'sjogren-s-syndrome')
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > 60:
        slug = slug[:60].rstrip("-")
    return slug or fallback


def concept_key(label: str) -> str:
    """The local name of a concept declared for ``label``: its slug, made unique when cut short.

    >>> concept_key("Atopic Dermatitis"), concept_key("≥50% reduction")
    ('atopic-dermatitis', '50-reduction-7e18ec9e')
    >>> len(concept_key("Percentage of Participants With a Positive Response at Week 16 or 24"))
    60
    """
    import hashlib

    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    whole = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "concept"
    lossy = len(whole) > 60 or re.search(r"[<>=+]", label) or ascii_text != label
    if not lossy:
        return whole
    # A slug loses symbols ("≥", "<") and is cut at 60 characters: a hash of the whole
    # label keeps apart concepts whose slugs would otherwise be the same.
    folded = " ".join(unicodedata.normalize("NFKC", label).casefold().split())
    digest = hashlib.sha1(folded.encode("utf-8")).hexdigest()[:8]
    return f"{whole[:51].rstrip('-')}-{digest}"


def normalise_label(text: str) -> str:
    """Case, punctuation and spacing folded away, for matching labels.

    >>> normalise_label("  Lupus   Nephritis ") == normalise_label("lupus-nephritis")
    True
    """
    folded = unicodedata.normalize("NFKC", text).casefold().replace("&", " and ")
    return " ".join(re.sub(r"[^\w]+", " ", folded).split())


_ENUMERATION = re.compile(r"^(?:\d+|[a-z])(?:[.):]\s*|\s+)(?=\S)")


def _strip_enumeration(norm: str) -> str:
    # "1 placebo" and "2 repaglinide" (from "2. Repaglinide") lose their numbering.
    return _ENUMERATION.sub("", norm, count=1)


def _concept_label(text: str) -> str:
    # Vocabulary labels are lower case; keep words that are not simply capitalised
    # (acronyms such as "IgA", "HIV", "GET73") as they are.
    words = []
    for word in text.split():
        if len(word) > 1 and word[0].isupper() and word[1:] == word[1:].lower():
            words.append(word.lower())
        else:
            words.append(word)
    return " ".join(words)


def _norm_enum(value: Any) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", str(value or "").upper()).strip("_")


_WEEK_NUMBER = re.compile(r"\bweeks?\s*(\d+(?:\.\d+)?)\b|\b(\d+(?:\.\d+)?)[\s-]*weeks?\b")
_ANY_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def parse_weeks(time_frame: str | None) -> Decimal | None:
    """Weeks from a time frame that names exactly one week and no other number.

    >>> parse_weeks("Week 16"), parse_weeks("Baseline to Week 16"), parse_weeks("Weeks 4, 8 and 16")
    (Decimal('16'), Decimal('16'), None)
    >>> parse_weeks("2 year/end of study") is None
    True
    """
    if not time_frame:
        return None
    text = time_frame.casefold()
    weeks = {a or b for a, b in _WEEK_NUMBER.findall(text)}
    numbers = set(_ANY_NUMBER.findall(text))
    if len(weeks) == 1 and numbers == weeks:
        return Decimal(weeks.pop())
    return None


def _date_literal(text: str | None):  # type: ignore[no-untyped-def]
    from rdflib import Literal
    from rdflib.namespace import XSD

    if not text:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return Literal(text, datatype=XSD.date)
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return Literal(text, datatype=XSD.gYearMonth)
    if re.fullmatch(r"\d{4}", text):
        return Literal(text, datatype=XSD.gYear)
    return None


def study_id_for(nct_id: str) -> str:
    """The local study id of a registry record: the NCT id in lower case.

    >>> study_id_for("NCT02210780")
    'nct02210780'
    """
    return nct_id.strip().lower()


def _effect_measure(param_type: str) -> str:
    """The effect-measure concept (local name under ``term:``) for an analysis ``paramType``."""
    t = param_type.casefold()
    if "odds ratio" in t or re.search(r"\bor\b", t):
        return "odds-ratio"
    if "hazard ratio" in t or re.search(r"\bhr\b", t):
        return "hazard-ratio"
    if "risk ratio" in t or "relative risk" in t or re.search(r"\brr\b", t):
        return "risk-ratio"
    if "risk difference" in t or re.search(r"\brd\b", t):
        return "risk-difference"
    if "percentage difference" in t or "difference in percentage" in t or "percent difference" in t:
        return "percentage-point-difference"
    if "standardized mean difference" in t or "standardised mean difference" in t:
        return "standardised-mean-difference"
    if "mean difference" in t or "mean change difference" in t:
        return "mean-difference"
    if "correlation" in t:
        return "correlation-coefficient"
    return "other-measure"


_P_VALUE = re.compile(r"^\s*(<=|>=|≤|≥|<|>|=)?\s*(\d*\.?\d+(?:[eE][+-]?\d+)?)\s*$")


def parse_p_value(text: str | None) -> tuple[Decimal | None, str | None]:
    """A printed p-value as (value, comparator).

    >>> parse_p_value("<0.0001"), parse_p_value("0.032"), parse_p_value("NA")
    ((Decimal('0.0001'), '<'), (Decimal('0.032'), None), (None, None))
    """
    if not text:
        return None, None
    m = _P_VALUE.match(str(text))
    if not m:
        return None, None
    comparator = {"≤": "<=", "≥": ">=", "=": None}.get(m.group(1) or "", m.group(1) or None)
    value = parse_decimal(m.group(2))
    if value is None or not (0 <= value <= 1):
        return None, None
    return value, comparator


def normalise_label_keep_vs(text: str) -> str:
    """:func:`normalise_label`, keeping "vs." recognisable as a separator."""
    return normalise_label(re.sub(r"\bvs\.", " vs ", text, flags=re.IGNORECASE))
