"""What an answer is composed from: the retrieved passages read as whole units, and the experience
cards of their documents.

Passages are widened in the document text so that no sentence or list item is cut at a chunk border,
and, for an experience fiche, so that the card's fields (territory, lead, partners, funding, results)
lie inside the passage their citations point to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from assistant.citations import Claim
from assistant.experiences.cards import RuleCardExtractor
from assistant.experiences.records import ExperienceCard, IndexedDocument
from assistant.generation.units import Unit, document_units, units_in, widen_passage
from assistant.glossary import Glossary
from assistant.types import Passage, Span


@dataclass(frozen=True)
class Material:
    passages: list[Passage]
    units: dict[int, list[Unit]]  # passage number -> its whole units
    cards: list[tuple[int, ExperienceCard]]  # (passage number, card) of the experiences, best passage first
    texts: dict[str, str | None] = field(default_factory=dict)  # document id -> registry text
    document_units: dict[str, tuple[Unit, ...]] = field(default_factory=dict)  # every unit of each document

    def covering(self, claims: Sequence[Claim]) -> list[Passage]:
        """The passages, each widened (in its document's text) to the claims that cite it."""
        spans: dict[int, list[Span]] = {}
        for claim in claims:
            if claim.passage is not None and claim.span is not None:
                spans.setdefault(claim.passage, []).append(claim.span)
        widened = []
        for passage in self.passages:
            text = self.texts.get(passage.chunk.doc_id)
            cited = spans.get(passage.number, [])
            start = min([passage.start, *(s.start for s in cited)])
            end = max([passage.end, *(s.end for s in cited)])
            if text is not None and (start, end) != (passage.start, passage.end):
                passage = replace(passage, text=text[start:end], start=start, end=end)
            widened.append(passage)
        return widened


@lru_cache(maxsize=512)
def _units(text: str, headings: tuple[str, ...] = ()) -> tuple[Unit, ...]:
    # headings are found in the text itself (one-line blocks), so that one document reads the same
    # whatever passages a question retrieved, and is read once
    return tuple(document_units(text, headings))


_CARDS: dict[tuple[str, int, tuple[str, ...]], ExperienceCard | None] = {}


def _card(doc_id: str, text: str, metadata: dict, headings: tuple[str, ...], glossary: Glossary | None):
    """The document's card (None: not an experience), remembered per document text."""
    key = (doc_id, hash(text), headings)
    if key not in _CARDS:
        if len(_CARDS) > 512:
            _CARDS.clear()
        _CARDS[key] = RuleCardExtractor(glossary).extract(IndexedDocument(doc_id, "", text, dict(metadata), headings))
    return _CARDS[key]


def read_material(
    passages: Sequence[Passage],
    document_text: Callable[[str], str | None],
    *,
    glossary: Glossary | None = None,
    with_cards: bool = False,
) -> Material:
    """Widen each passage to whole units and list its units; with ``with_cards``, extract the card of each
    experience document among the passages and widen its first passage to the card's fields."""
    texts: dict[str, str | None] = {}
    headings: dict[str, set[str]] = {}
    for passage in passages:
        doc = passage.chunk.doc_id
        if doc not in texts:
            texts[doc] = document_text(doc)
        headings.setdefault(doc, set()).update(passage.chunk.heading_path)
    widened: list[Passage] = []
    cards: list[tuple[int, ExperienceCard]] = []
    carded: set[str] = set()
    for passage in passages:
        doc = passage.chunk.doc_id
        text = texts[doc]
        if text is None:
            widened.append(passage)
            continue
        units = _units(text)
        passage = widen_passage(passage, text, units)
        if with_cards and doc not in carded:
            carded.add(doc)
            card = _card(doc, text, passage.chunk.metadata, tuple(sorted(headings[doc])), glossary)
            if card is not None:
                spans = [(e.start, e.end) for e in card.evidence()]
                if spans:
                    start = min(passage.start, *(s for s, _ in spans))
                    end = max(passage.end, *(e for _, e in spans))
                    passage = replace(passage, text=text[start:end], start=start, end=end)
                cards.append((passage.number, card))
        widened.append(passage)
    units_by_passage: dict[int, list[Unit]] = {}
    every: dict[str, tuple[Unit, ...]] = {}
    for passage in widened:
        text = texts[passage.chunk.doc_id]
        if text is None:
            continue
        every[passage.chunk.doc_id] = _units(text)
        units_by_passage[passage.number] = units_in(passage, every[passage.chunk.doc_id])
    return Material(widened, units_by_passage, cards, texts, every)
