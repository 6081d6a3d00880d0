"""Comparison of 2 to 6 experiences (pure): one column per experience, one row per field.

Every filled cell cites where it comes from with footnote numbers: a passage of the
document (its exact quote) or, for values declared in metadata, the metadata itself.
A field the document does not state says so explicitly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.experiences.records import ExperienceCard, FieldValue
from assistant.experiences.sections import fold
from assistant.experiences.territory import french_number

MISSING = "non renseigné dans les sources"
MIN_COLUMNS, MAX_COLUMNS = 2, 6


@dataclass(frozen=True)
class Footnote:
    """Where a cell's values come from: exact extracts of the document, or its metadata (no extract)."""

    number: int
    doc_id: str
    title: str
    location: str  # URL or file path
    quotes: tuple[str, ...]  # each == document text[start:end] of the matching span; () for metadata
    spans: tuple[tuple[int, int], ...] = ()

    @property
    def from_metadata(self) -> bool:
        return not self.quotes


@dataclass(frozen=True)
class Cell:
    """``text`` holds every value (the exports write it); ``brief``, when set, the first ones and « (+ n
    autres) » for the on-screen table."""

    text: str
    notes: tuple[int, ...] = ()
    brief: str = ""

    @property
    def missing(self) -> bool:
        return self.text == MISSING

    @property
    def shown(self) -> str:
        """The on-screen text."""
        return self.brief or self.text


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class ComparisonTable:
    columns: tuple[ExperienceCard, ...]
    rows: tuple[Row, ...]
    footnotes: tuple[Footnote, ...]

    @property
    def headers(self) -> list[str]:
        return [c.title for c in self.columns]


# (row label, the values of a card for that row, at most this many shown on screen; the exports keep all)
RowSpec = tuple[str, Callable[[ExperienceCard], Sequence[FieldValue]], int]


def _one(value: FieldValue | None) -> list[FieldValue]:
    return [value] if value is not None else []


ROWS: tuple[RowSpec, ...] = (
    ("Territoire", lambda c: _one(c.territory.intercommunality) + _one(c.territory.commune), 2),
    ("Région", lambda c: _one(c.territory.region), 1),
    ("Population", lambda c: _one(c.territory.population), 1),
    ("Quartiers prioritaires", lambda c: list(c.territory.qpv), 6),
    ("Période", lambda c: _one(c.period), 1),
    ("Porteur du projet", lambda c: _one(c.lead), 1),
    ("Partenaires", lambda c: list(c.partners), 6),
    ("Public cible", lambda c: _one(c.public), 1),
    ("Actions menées", lambda c: list(c.actions), 4),
    ("Budget", lambda c: _one(c.budget), 1),
    ("Financements", lambda c: list(c.funders), 8),
    ("Résultats", lambda c: list(c.results), 3),
    ("Thèmes", lambda c: [FieldValue(t) for t in c.themes], 8),
)


def build_table(cards: Sequence[ExperienceCard], rows: Sequence[RowSpec] = ROWS) -> ComparisonTable:
    """The table for ``cards`` (2 to 6); one footnote per filled cell, numbered in reading order."""
    if not MIN_COLUMNS <= len(cards) <= MAX_COLUMNS:
        raise ValueError(f"comparer de {MIN_COLUMNS} à {MAX_COLUMNS} expériences ({len(cards)} demandées)")
    footnotes: list[Footnote] = []
    numbers: dict[tuple, int] = {}

    def note(card: ExperienceCard, values: Sequence[FieldValue]) -> int:
        """One footnote per cell (the same sources share one number)."""
        evidence = [v.evidence for v in values if v.evidence is not None]
        spans = tuple(dict.fromkeys((e.start, e.end) for e in evidence))
        key = (card.doc_id, spans)
        if key not in numbers:
            numbers[key] = len(footnotes) + 1
            quotes = tuple(dict.fromkeys(e.quote for e in evidence))
            footnotes.append(Footnote(numbers[key], card.doc_id, card.title, card.location, quotes, spans))
        return numbers[key]

    built = []
    for label, values_of, limit in rows:
        cells = []
        for card in cards:
            values = list(values_of(card))
            if not values:
                cells.append(Cell(MISSING))
                continue
            text = " ; ".join(v.value for v in values)
            brief = ""
            if len(values) > limit:
                more = len(values) - limit
                brief = " ; ".join(v.value for v in values[:limit]) + f" (+ {more} autre{'s' if more > 1 else ''})"
            cells.append(Cell(text, (note(card, values),), brief))
        built.append(Row(label, tuple(cells)))
    if any(c.budget_eur for c in cards):
        built.insert(
            [r.label for r in built].index("Budget") + 1,
            Row("Budget (euros)", tuple(_euros(c, note) for c in cards)),
        )
    return ComparisonTable(tuple(cards), tuple(built), tuple(footnotes))


def _euros(card: ExperienceCard, note: Callable[[ExperienceCard, Sequence[FieldValue]], int]) -> Cell:
    if not card.budget_eur or card.budget is None:
        return Cell(MISSING)
    return Cell(french_number(card.budget_eur), (note(card, [card.budget]),))


def _tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", fold(text)) if len(t) > 2}


def match_score(selector: str, card: ExperienceCard) -> float:
    """Share of the selector's words found in the card's title, file name, territory and lead."""
    wanted = _tokens(selector)
    if not wanted:
        return 0.0
    t = card.territory
    names = [card.title, card.source.rsplit("/", 1)[-1], card.lead.value if card.lead else ""]
    names += [v.value for v in (t.commune, t.intercommunality) if v is not None] + [q.value for q in t.qpv]
    have = _tokens(" ".join(names))
    have |= {w.rstrip("s") for w in have}
    return sum(1 for w in wanted if w in have or w.rstrip("s") in have) / len(wanted)


def select_cards(selectors: Sequence[str], cards: Sequence[ExperienceCard]) -> list[ExperienceCard]:
    """One card per selector: a doc id (or its first characters), else the best title match.

    Raises ValueError (French) when a selector matches nothing well enough or the same card twice.
    """
    chosen: list[ExperienceCard] = []
    for selector in selectors:
        by_id = [c for c in cards if c.doc_id == selector or (len(selector) >= 6 and c.doc_id.startswith(selector))]
        if by_id:
            card = by_id[0]
        else:
            scored = sorted(cards, key=lambda c: (-match_score(selector, c), c.title))
            if not scored or match_score(selector, scored[0]) < 0.6:
                raise ValueError(f"aucune expérience ne correspond à « {selector} »")
            card = scored[0]
        if card in chosen:
            raise ValueError(f"« {selector} » désigne une expérience déjà choisie : « {card.title} »")
        chosen.append(card)
    return chosen


_GENERIC_PLACE_WORDS = {"communaute", "agglomeration", "metropole", "ville", "commune", "communes", "quartier", "grand"}


def places_named(question: str, cards: Sequence[ExperienceCard]) -> list[str]:
    """Words of ``question`` that name a place of some card ("Valbrune", "Vergnolles"), in question order."""
    known: set[str] = set()
    for card in cards:
        t = card.territory
        values = [v.value for v in (t.commune, t.intercommunality) if v is not None] + [q.value for q in t.qpv]
        known |= _tokens(" ".join(values)) - _GENERIC_PLACE_WORDS - {"fictif"}
    return [w for w in dict.fromkeys(re.split(r"[^a-z0-9]+", fold(question))) if len(w) > 3 and w in known]


def names_place(card: ExperienceCard, word: str) -> bool:
    t = card.territory
    values = [v.value for v in (t.commune, t.intercommunality) if v is not None] + [q.value for q in t.qpv]
    return word in _tokens(" ".join(values))
