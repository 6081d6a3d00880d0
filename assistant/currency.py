"""Currency of sources (pure): which policy period a document belongs to, and whether its frame ended.

Policy frames follow one another: contrats de ville 2015-2023 then « Engagements Quartiers 2030 »
(2024), CGET then ANCT (2020), ZUS then QPV (2015), PNRU then NPNRU. A practitioner reading a 2016
source must know that it describes a frame since replaced. Nothing here rewrites a claim:

- ``assistant.periods.document_periods`` names, at ingest, the programme periods a document speaks
  of (from its text and its date), stored as the ``periods`` metadata;
- :func:`currency_notice` writes the French notice shown beside a citation whose source describes
  a superseded frame (what replaced what, and when, comes from the glossary's ``replaced_by``);
- :func:`rank_by_currency` lowers superseded sources when the user asks about the present
  (« aujourd'hui », « actuellement », « en 2025 ») or chose the recent-first order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from assistant.periods import CURRENT_PERIOD, PRESENT_FROM
from assistant.types import Hit

if TYPE_CHECKING:
    from assistant.glossary import Glossary, GlossaryEntry

_PRESENT = re.compile(
    r"\b(aujourd['’]hui|actuellement|à\s+l['’]heure\s+actuelle|à\s+présent|désormais|en\s+ce\s+moment|"
    r"actuel(?:le)?s?|en\s+vigueur|cette\s+année|en\s+202[4-9]|depuis\s+202[4-9])\b",
    re.I,
)
_PRESENT_WORDS = re.compile(
    r"\b(aujourd['’]hui|actuellement|à\s+l['’]heure\s+actuelle|à\s+présent|désormais|en\s+ce\s+moment)\b\s*,?",
    re.I,
)


def asks_about_the_present(question: str) -> bool:
    """« aujourd'hui », « actuellement », « en 2025 », « en vigueur »…"""
    return bool(_PRESENT.search(question))


def without_present_markers(question: str) -> str:
    """The question without « aujourd'hui », « actuellement »…: they say when it is asked, and no
    document writes them, so answerability must not look for them (the ranking reads them instead)."""
    if not _PRESENT_WORDS.search(question):
        return question
    stripped = re.sub(r"\s{2,}", " ", _PRESENT_WORDS.sub(" ", question)).strip(" ,")
    return stripped[:1].upper() + stripped[1:] if stripped else question


def _year(metadata: Mapping[str, Any]) -> int | None:
    year = metadata.get("year")
    return int(year) if isinstance(year, int) or (isinstance(year, str) and year.isdigit()) else None


def _periods(metadata: Mapping[str, Any]) -> list[str]:
    periods = metadata.get("periods") or []
    return [periods] if isinstance(periods, str) else [str(p) for p in periods]


def _ended_since(entry: GlossaryEntry, year: int | None, today: date) -> bool:
    """The frame was replaced, or closed by ``today``, after a source of ``year`` (None: undated) was written."""
    if entry.replaced_by:
        return year is None or year < (entry.replaced_in or 0)
    if entry.ends_on:
        last_day = date.fromisoformat(entry.ends_on)
        return today > last_day and (year is None or year <= last_day.year)
    return False


def ended_frames(
    metadata: Mapping[str, Any], passage: str, glossary: Glossary | None, *, today: date | None = None
) -> list[GlossaryEntry]:
    """Glossary frames the source describes as in force although they have since been replaced or closed.

    The document's periods count, and the frames its passage names (CGET, ZUS, ZFU-TE…) when its date is
    before their replacement or end (a dispositif that closed counts once ``today`` is past its last day);
    a source without a date only counts for its periods.
    """
    if glossary is None:
        return []
    today = today or date.today()
    year = _year(metadata)
    found: list[GlossaryEntry] = []
    for label in _periods(metadata):
        entry = glossary.lookup(label)
        if entry is not None and _ended_since(entry, year, today):
            found.append(entry)
    if year is not None:
        for entry in [*glossary.find_terms(passage), *glossary.former_names(passage)]:
            if _ended_since(entry, year, today) and entry not in found:
                found.append(entry)
    return found


def _what_became_of(entry: GlossaryEntry) -> str:
    if entry.replaced_by:
        return f"« {entry.term} », remplacé par {entry.replaced_by} en {entry.replaced_in}"
    return f"« {entry.term} », {entry.end_note}"


def currency_notice(
    metadata: Mapping[str, Any],
    passage: str,
    glossary: Glossary | None,
    *,
    newer_version: str = "",
    today: date | None = None,
) -> str | None:
    """French notice for a card: « Source de 2016 : cadre « contrat de ville 2015-2023 », remplacé par … en 2024. »
    (a closed dispositif: « cadre « ZFU-TE », dispositif ouvert aux implantations jusqu'au … »)."""
    frames = ended_frames(metadata, passage, glossary, today=today)
    parts = [_what_became_of(f) for f in frames]
    if newer_version:
        parts.append(f"une version plus récente existe : {newer_version}")
    if not parts:
        return None
    year = _year(metadata)
    opening = f"Source de {year}" if year is not None else "Source non datée"
    return f"{opening} : cadre {' ; '.join(parts)}." if frames else f"{opening} : {parts[0]}."


def is_current(metadata: Mapping[str, Any], glossary: Glossary | None) -> bool:
    """A source of the current period: dated from 2024, or speaking of Quartiers 2030."""
    year = _year(metadata)
    return (year is not None and year >= PRESENT_FROM) or CURRENT_PERIOD in _periods(metadata)


def rank_by_currency(
    hits: Sequence[Hit],
    *,
    glossary: Glossary | None,
    present: bool,
    recent_first: bool,
    superseded: Iterable[str] = (),
) -> list[Hit]:
    """Hits (best first) re-ordered so that current sources come first when it matters; none is dropped.

    Fused scores are min-max scaled (the last candidate scores 0), so the weights apply to ranks:
    hits are ordered by ``weight / (rank + 2)``; a weight of 0.6 moves a source down about one place.
    Each position keeps its score, so what reads scores (answerability) sees the same scale.
    ``present``: the question asks about today: sources of an ended frame weigh 0.6, current ones 1.15.
    ``recent_first``: the user's ranking option: each year of age costs 5 % (at most 50 %; undated 50 %).
    A document with a newer version (``superseded`` doc ids) weighs 0.6, whether asked or not.
    """
    older = set(superseded)
    if not (present or recent_first or older):
        return list(hits)
    newest = max((_year(h.chunk.metadata) or 0 for h in hits), default=0)
    weighted = []
    for rank, hit in enumerate(hits):
        meta = hit.chunk.metadata
        weight = 0.6 if hit.chunk.doc_id in older else 1.0
        if present:
            if is_current(meta, glossary):
                weight *= 1.15
            elif ended_frames(meta, hit.chunk.text, glossary):
                weight *= 0.6
        if recent_first:
            year = _year(meta)
            weight *= 1.0 - min(0.5, 0.05 * (newest - year)) if year else 0.5
        weighted.append((weight / (rank + 2), rank, replace(hit, provenance={**hit.provenance, "currency": weight})))
    order = [hit for _, _, hit in sorted(weighted, key=lambda item: (-item[0], item[1]))]
    # the scores stay those of the ranks (answerability thresholds read them); only the order changes
    return [replace(hit, score=original.score) for hit, original in zip(order, hits, strict=True)]
