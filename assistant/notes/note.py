"""Drafting a pillar note (« note pilier ») from the corpus, section by section, every paragraph cited.

One retrieval per section (topic + territory + what the section is for); a
``SectionWriter`` turns the passages into claims: offline, the extractive composer's
sentences (exact extracts); with an LLM, prose kept only where the citation checker
finds a supporting passage. The citation renderer gives each claim its exact quote.
Precedents (experience cards) feed the "leviers", "partenaires" and "calendrier"
sections with template sentences whose values are document extracts. References are
numbered per document, in order of first citation. ``draft`` yields one event per
section, so the CLI prints progress and the app can stream it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from assistant.backends.store import ChunkStore
from assistant.citations import Claim, render
from assistant.experiences.bibliography import Bibliography, Reference
from assistant.experiences.precedents import Precedent, PrecedentFinder, PrecedentRequest
from assistant.experiences.records import ExperienceCard, FieldValue
from assistant.generation.material import read_material
from assistant.notes.writers import SectionPlan, SectionWriter
from assistant.retrieval.hybrid import Retriever
from assistant.retrieval.passages import expand_passages
from assistant.types import Passage

DRAFT_NOTICE = "Projet de note — à relire et compléter"
FICTIONAL_WARNING = (
    "Attention : des documents cités sont fictifs (corpus de démonstration) ; "
    "ce ne sont pas des précédents réels et ils ne doivent pas être cités comme tels."
)
_PRONOUN_START = re.compile(r"^(?:Il|Elle|Ils|Elles|Y|Cela|On y)\b")
PRECEDENTS_OPENING = "Expériences comparables décrites dans les fiches du corpus :"
NOTHING_FOUND = "Aucun extrait du corpus ne traite directement ce point : à compléter."

SECTIONS: tuple[SectionPlan, ...] = (
    SectionPlan(
        "Contexte et diagnostic",
        "diagnostic situation des quartiers prioritaires chômage emploi habitants",
        "Les documents du corpus décrivent des situations proches :",
    ),
    SectionPlan("Enjeux", "enjeux freins difficultés objectifs", "Ils font ressortir les enjeux suivants :"),
    SectionPlan(
        "Leviers et pistes d'action",
        "leviers actions dispositifs mise en œuvre",
        "Pistes d'action relevées dans le corpus :",
        uses_precedents="leviers",
    ),
    SectionPlan(
        "Partenaires à mobiliser",
        "partenaires à mobiliser Région intercommunalité France Travail chambres consulaires Banque des Territoires",
        "Partenaires cités par les documents :",
        uses_precedents="partenaires",
    ),
    SectionPlan(
        "Points de vigilance", "points de vigilance difficultés limites risques", "Points de vigilance signalés :"
    ),
    SectionPlan(
        "Calendrier indicatif",
        "calendrier étapes durée phases lancement",
        "Repères de calendrier tirés du corpus :",
        uses_precedents="calendrier",
    ),
)


@dataclass(frozen=True)
class Paragraph:
    """Text with ``[n]`` markers pointing to references (``refs``); ``kind``: "text" (a template sentence,
    no reference), "extract" (one cited sentence of a document) or "precedent" (card values, cited)."""

    text: str
    refs: tuple[int, ...] = ()
    quotes: tuple[tuple[int, str], ...] = ()  # (reference number, exact document extract) behind the text
    kind: str = "text"


@dataclass(frozen=True)
class NoteSection:
    heading: str
    paragraphs: tuple[Paragraph, ...]


@dataclass(frozen=True)
class Note:
    title: str
    territory: str
    topic: str
    date: str
    sections: tuple[NoteSection, ...]
    references: tuple[Reference, ...]
    notice: str = DRAFT_NOTICE
    warning: str | None = None  # the fictional-corpus warning, when a cited document is fictional
    writer: str = "extraits"


@dataclass(frozen=True)
class SectionStarted:
    index: int
    total: int
    heading: str


@dataclass(frozen=True)
class SectionWritten:
    index: int
    total: int
    section: NoteSection


@dataclass(frozen=True)
class NoteReady:
    note: Note


NoteEvent = SectionStarted | SectionWritten | NoteReady


def precedent_paragraph(kind: str, precedent: Precedent, number: int) -> Paragraph | None:
    """Template sentences whose values are extracts of the precedent's card, cited ``[number]``."""
    card = precedent.card
    quotes: list[tuple[int, str]] = []

    def cited(label: str, values: Sequence[FieldValue]) -> str:
        quotes.extend((number, v.evidence.quote) for v in values if v.evidence)
        return f"{label}{' ; '.join(v.value for v in values)} [{number}]."

    parts: list[str] = []
    if kind == "leviers":
        place = card.territory.intercommunality or card.territory.commune
        parts.append(f"Précédent : « {card.title} »" + (f" ({place.value})" if place else "") + ".")
        if card.lead:
            parts.append(cited("Porteur : ", [card.lead]))
        if card.actions:
            parts.append(cited("Actions : ", card.actions[:3]))
        if card.results:
            parts.append(cited("Résultats : ", card.results[:1]))
        if precedent.reasons:
            parts.append("Pourquoi ce précédent : " + " ; ".join(precedent.reasons) + ".")
    elif kind == "partenaires" and card.partners:
        parts.append(cited(f"Partenaires réunis pour « {card.title} » : ", card.partners[:5]))
    elif kind == "calendrier" and card.period:
        parts.append(cited(f"« {card.title} » : ", [card.period]))
    if not quotes:
        return None
    return Paragraph(" ".join(parts), (number,), tuple(quotes), "precedent")


class NoteDrafter:
    """Retrieves, writes and cites each section of a pillar note."""

    def __init__(
        self,
        searcher: Retriever,
        store: ChunkStore,
        writer: SectionWriter,
        *,
        finder: PrecedentFinder | None = None,
        sections: Sequence[SectionPlan] = SECTIONS,
        passages_per_section: int = 6,
        precedents: int = 3,
    ) -> None:
        self.searcher, self.store, self.writer, self.finder = searcher, store, writer, finder
        self.sections = tuple(sections)
        self.passages_per_section = passages_per_section
        self.precedent_count = precedents

    def draft(self, *, territory: str, topic: str, date: str) -> Iterator[NoteEvent]:
        """SectionStarted / SectionWritten per section, then NoteReady with the whole note."""
        bibliography = Bibliography()
        precedents: list[Precedent] = []
        if self.finder is not None and any(s.uses_precedents for s in self.sections):
            precedents = self.finder.find(PrecedentRequest(topic, territory=territory, limit=self.precedent_count))
        used: set[tuple[str, int]] = set()  # a sentence is cited once in the note
        written: list[NoteSection] = []
        total = len(self.sections)
        for index, plan in enumerate(self.sections, 1):
            yield SectionStarted(index, total, plan.heading)
            query = f"{topic} {territory} {plan.intent}"
            hits = self.searcher.search(query, k=self.passages_per_section)
            # whole sentences: a passage a chunk border cuts is completed from the document text
            passages = read_material(expand_passages(hits, self.store), self.store.document_text).passages
            extracts = []
            # sentences are chosen for the topic and the section: the territory's words would dilute them
            for claim in self.writer.write(plan, f"{topic} {plan.intent}", passages, used):
                paragraph = _extract(claim, passages, bibliography, used)
                if paragraph is not None:
                    extracts.append(paragraph)
            paragraphs = [Paragraph(plan.opening), *extracts] if extracts else []
            if plan.uses_precedents == "leviers" and precedents:
                paragraphs.append(Paragraph(PRECEDENTS_OPENING))
            if plan.uses_precedents:
                for precedent in precedents:
                    number = bibliography.cite(precedent.card.doc_id, _card_metadata(precedent.card))
                    if (paragraph := precedent_paragraph(plan.uses_precedents, precedent, number)) is not None:
                        paragraphs.append(paragraph)
            section = NoteSection(plan.heading, tuple(paragraphs or [Paragraph(NOTHING_FOUND)]))
            written.append(section)
            yield SectionWritten(index, total, section)
        references = bibliography.references()
        yield NoteReady(
            Note(
                title=f"Note de travail — {topic}",
                territory=territory,
                topic=topic,
                date=date,
                sections=tuple(written),
                references=references,
                warning=FICTIONAL_WARNING if any(r.fictional for r in references) else None,
                writer=self.writer.name,
            )
        )


def _extract(
    claim: Claim, passages: Sequence[Passage], bibliography: Bibliography, used: set[tuple[str, int]]
) -> Paragraph | None:
    """One claim, quoted by the citation renderer, numbered as a reference; None if already cited."""
    if claim.passage is None or claim.span is None or claim.text.rstrip().endswith(":"):
        return None  # a sentence that announces a list says nothing once cut from it
    if _PRONOUN_START.match(claim.text):
        return None  # "Il est coanimé par…": its subject is in the sentence before, not quoted
    _, citations, _ = render([claim], passages)
    citation = citations[0]
    if (citation.doc_id, citation.start) in used:
        return None
    used.add((citation.doc_id, citation.start))
    metadata = next(p.chunk.metadata for p in passages if p.number == claim.passage)
    number = bibliography.cite(citation.doc_id, metadata, citation.page)
    text = _tidy(claim.text)
    return Paragraph(f"{text} [{number}]", (number,), ((number, citation.quote),), "extract")


def _tidy(sentence: str) -> str:
    """A list item's bullet is not part of the sentence shown."""
    return " ".join(sentence.removeprefix("- ").removeprefix("• ").split())


def _card_metadata(card: ExperienceCard) -> dict:
    return {
        "title": card.title,
        "organisation": card.organisation,
        "date": card.date,
        "url": card.url,
        "source": card.source,
        "fictional": card.fictional,
    }
