"""Checkable values of a French sentence (pure): amounts, percentages, numbers, dates, years and times.

A value is compared by meaning, not spelling: « 1,26 million d'euros » = « 1 260 000 euros »,
« 312 000 € » = « 312 000 euros » = « 312 k€ », « trois » = « 3 », « le 14/10/2021 » = « le 14 octobre 2021 »,
« 4h35 » = « 4 h 35 »; digits may be grouped with spaces, no-break or narrow no-break spaces.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_SPACE = "[ \u00a0\u202f]"
_MONTHS = {
    "janvier": 1,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "decembre": 12,
}
_UNITS = {
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "six": 6,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "onze": 11,
    "douze": 12,
    "treize": 13,
    "quatorze": 14,
    "quinze": 15,
    "seize": 16,
    "vingt": 20,
    "vingts": 20,
    "trente": 30,
    "quarante": 40,
    "cinquante": 50,
    "soixante": 60,
}
# "une trentaine" reads as the number it approximates, in the source and in a paraphrase alike
_ROUND = {
    "dizaine": 10,
    "douzaine": 12,
    "quinzaine": 15,
    "vingtaine": 20,
    "trentaine": 30,
    "quarantaine": 40,
    "cinquantaine": 50,
    "soixantaine": 60,
    "centaine": 100,
}
_SHARES = {"moitie": 50.0, "quart": 25.0, "quarts": 25.0}
_NUMBER_WORD = "|".join(sorted([*_UNITS, "cent", "cents", "mille", "et", "un", "une"], key=len, reverse=True))
_WORDS = re.compile(rf"\b(?:{_NUMBER_WORD})(?:[ -](?:{_NUMBER_WORD}))*\b", re.IGNORECASE)
_DIGITS = rf"\d{{1,3}}(?:{_SPACE}\d{{3}})+(?:,\d+)?|\d+(?:[,.]\d+)?"
_MULTIPLIER = r"(?P<mult>milliards?|millions?|mille|k€|M€|Md€|k|M)(?![\w])(?:\s*(?:d['’]\s*)?(?P<cur2>euros?|€))?"
_NUMBER = re.compile(
    rf"(?<![\w,.])(?P<num>{_DIGITS})(?:{_SPACE}?(?:{_MULTIPLIER}|(?P<cur>€|euros?\b|EUR\b)|(?P<pct>%|pour{_SPACE}?cent\b)))?",
)
_DATE_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b|\b(\d{1,2})/(\d{4})\b")
_DATE_WORDS = re.compile(
    rf"\b(?:(?P<day>\d{{1,2}}|1er){_SPACE}+)?(?P<month>{'|'.join(_MONTHS)}|février|août|décembre){_SPACE}+(?P<year>\d{{4}})\b",
    re.IGNORECASE,
)
_TIME = re.compile(rf"\b([01]?\d|2[0-3]){_SPACE}?h(?:{_SPACE}?([0-5]\d))?\b")  # "4 h 35", "4h35", "17 h"
_ORDINALS = {
    "premier": 1, "premiere": 1, "premiers": 1, "premieres": 1, "1er": 1, "1re": 1,
    "second": 2, "seconde": 2, "deuxieme": 2, "troisieme": 3, "quatrieme": 4, "cinquieme": 5, "sixieme": 6,
    "septieme": 7, "huitieme": 8, "neuvieme": 9, "dixieme": 10,
}  # fmt: skip
_ORDINAL = re.compile(r"\b(premiers?|premières?|1er|1re|second|seconde|deuxième|troisième|quatrième|cinquième|sixième|septième|huitième|"
                      r"neuvième|dixième)\b|\b(\d{1,2})(?:e|è|ème|eme)\b", re.IGNORECASE)  # fmt: skip
_MORE = re.compile(r"(plus d['’]|plus de|au moins|au minimum|supérieure? à|au-delà de|dépass\w*|excéd\w*)\s*$", re.I)
_LESS = re.compile(r"(moins d['’]|moins de|au plus|au maximum|inférieure? à|sous|jusqu['’]à)\s*$", re.IGNORECASE)
_SHARE = re.compile(r"\b(?:la |pour |une? )?(moitié|quarts?)\b", re.IGNORECASE)
_ROUNDED = re.compile(rf"\b({'|'.join(_ROUND)})s?\b", re.IGNORECASE)


@dataclass(frozen=True)
class Value:
    """A value stated in a text: ``kind`` is amount, percent, number, date or time.

    ``amount`` and ``number`` hold a float; ``date`` holds (year, month or 0, day or 0); ``time`` (hour, minute).
    ``bound``: ">" after « plus de », « au moins »…, "<" after « moins de », « jusqu'à », « sous »…, else "".
    """

    kind: str
    amount: float | tuple[int, int, int] | tuple[int, int]
    start: int
    end: int
    bound: str = ""


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def parse_number_words(words: str) -> int | None:
    """« cent quarante-trois » -> 143, « vingt et un » -> 21; None for « un », « une » alone or no number."""
    parts = [fold(p) for p in re.split(r"[ -]+", words.strip()) if p]
    if not parts or all(p in ("un", "une", "et") for p in parts):
        return None
    total, current = 0, 0
    for part in parts:
        if part == "et":
            continue
        if part in ("un", "une"):
            current += 1
        elif part in ("cent", "cents"):
            current = (current or 1) * 100
        elif part == "mille":
            total += (current or 1) * 1000
            current = 0
        elif part == "vingt" and current == 4:  # quatre-vingt(s)
            current = 80
        elif part in _UNITS:
            current += _UNITS[part]
    return total + current


def _number(text: str) -> float:
    return float(re.sub(_SPACE, "", text).replace(",", "."))


def extract_values(text: str) -> list[Value]:
    """Values stated in ``text``, in order, each once (a date's year is part of the date, not a number)."""
    found: list[Value] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    def add(value: Value) -> None:
        if free(value.start, value.end):
            found.append(value)
            taken.append((value.start, value.end))

    for m in _DATE_NUMERIC.finditer(text):
        if m.group(3):
            add(Value("date", (int(m.group(3)), int(m.group(2)), int(m.group(1))), m.start(), m.end()))
        else:
            add(Value("date", (int(m.group(5)), int(m.group(4)), 0), m.start(), m.end()))
    for m in _DATE_WORDS.finditer(text):
        day = m.group("day")
        month = _MONTHS[fold(m.group("month"))]
        add(Value("date", (int(m.group("year")), month, 1 if day == "1er" else int(day or 0)), m.start(), m.end()))
    for m in _TIME.finditer(text):
        add(Value("time", (int(m.group(1)), int(m.group(2) or 0)), m.start(), m.end()))
    for m in _NUMBER.finditer(text):
        add(_numeric(m))
    for m in _WORDS.finditer(text):
        number = parse_number_words(m.group(0))
        if number is not None:
            start = m.start() + len(m.group(0)) - len(m.group(0).lstrip())
            add(Value("number", float(number), start, m.end()))
    for m in _SHARE.finditer(text):
        add(Value("percent", _SHARES[fold(m.group(1))], m.start(1), m.end(1)))
    for m in _ROUNDED.finditer(text):
        add(Value("number", float(_ROUND[fold(m.group(1))]), m.start(), m.end()))
    for m in _ORDINAL.finditer(text):
        rank = _ORDINALS[fold(m.group(1))] if m.group(1) else int(m.group(2))
        add(Value("number", float(rank), m.start(), m.end()))
    return [_bounded(v, text) for v in sorted(found, key=lambda v: v.start)]


def _bounded(value: Value, text: str) -> Value:
    before = text[max(0, value.start - 20) : value.start]
    bound = ">" if _MORE.search(before) else "<" if _LESS.search(before) else ""
    return Value(value.kind, value.amount, value.start, value.end, bound) if bound else value


def _numeric(m: re.Match[str]) -> Value:
    number = _number(m.group("num"))
    mult = m.group("mult")
    if mult:
        factor = {"k": 1e3, "k€": 1e3, "mille": 1e3, "m": 1e6, "m€": 1e6, "md€": 1e9}.get(mult.lower())
        if factor is None:
            factor = 1e9 if mult.lower().startswith("milliard") else 1e6
        kind = "amount" if (m.group("cur2") or "€" in mult) else "number"
        return Value(kind, round(number * factor, 2), m.start(), m.end())
    if m.group("cur"):
        return Value("amount", number, m.start(), m.end())
    if m.group("pct"):
        return Value("percent", number, m.start(), m.end())
    digits = m.group("num")
    if re.fullmatch(r"(19|20)\d\d", digits):
        return Value("date", (int(digits), 0, 0), m.start(), m.end())
    return Value("number", number, m.start(), m.end())


def same_value(stated: Value, source: Value) -> bool:
    """Whether ``stated`` (in a generated sentence) says what ``source`` (in a passage) says.

    A date matches a more precise one when what it states agrees (« en 2020 » matches « le 1er janvier 2020 »);
    a number matches an amount of the same size (« 312 000 » in a budget line); a percentage only a percentage.
    A bound the sentence states must be the source's (« moins de 55 ans » is not « plus de 55 ans »).
    """
    if stated.bound and stated.bound != source.bound:
        return False
    if stated.kind == "date" or source.kind == "date":
        if stated.kind == "number" and source.kind == "date":
            return source.amount == (int(stated.amount), 0, 0) and stated.amount == int(stated.amount)
        if stated.kind != "date":
            return False
        if source.kind != "date":
            year = stated.amount
            return year[1:] == (0, 0) and source.kind == "number" and source.amount == year[0]
        return all(s in (0, o) for s, o in zip(stated.amount, source.amount, strict=True))
    if stated.kind == "time" or source.kind == "time":
        return stated.kind == source.kind and stated.amount == source.amount
    if stated.kind == "percent" or source.kind == "percent":
        return stated.kind == source.kind and abs(stated.amount - source.amount) < 1e-6
    return abs(stated.amount - source.amount) < 1e-6
