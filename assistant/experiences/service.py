"""One entry point over an index for the CLI and the app: cards, precedents, comparisons, notes."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from functools import cached_property

from assistant.experiences.cards import CardExtractor, RuleCardExtractor
from assistant.experiences.compare import (
    MAX_COLUMNS,
    MIN_COLUMNS,
    ComparisonTable,
    build_table,
    names_place,
    places_named,
    select_cards,
)
from assistant.experiences.llm_extraction import card_extractor_for
from assistant.experiences.note import NoteDrafter, NoteEvent
from assistant.experiences.precedents import Precedent, PrecedentFinder, PrecedentRequest
from assistant.experiences.records import ExperienceCard
from assistant.experiences.store import CardStore, CardSyncReport
from assistant.experiences.writers import ExtractiveSectionWriter, LLMSectionWriter, SectionWriter
from assistant.factory import Components


class ExperienceDesk:
    """Experience cards of the index in ``components`` (synced with it on first use), and what is built on them."""

    def __init__(self, components: Components, *, extractor: CardExtractor | None = None) -> None:
        self.components = components
        if extractor is None:
            # the LLM only fills fields the rules left empty; opt-in because it costs ~13 s a document on a CPU
            use_llm = components.settings.generation.llm_cards
            extractor = card_extractor_for(components) if use_llm else RuleCardExtractor(components.glossary)
        self.extractor = extractor
        self.card_store = CardStore(components.settings.data_dir / "cards")
        self.last_sync: CardSyncReport | None = None

    def sync(self) -> CardSyncReport:
        """Extract new or changed documents, drop removed ones."""
        self.last_sync = self.card_store.sync(self.components.store, self.extractor)
        self.__dict__.pop("finder", None)
        return self.last_sync

    def cards(self) -> list[ExperienceCard]:
        if self.last_sync is None:
            self.sync()
        return self.card_store.cards()

    @cached_property
    def finder(self) -> PrecedentFinder:
        return PrecedentFinder(self.components.searcher, self.cards())

    def precedents(self, request: PrecedentRequest) -> list[Precedent]:
        return self.finder.find(request)

    def select(self, selectors: Sequence[str]) -> list[ExperienceCard]:
        """Cards named by doc id or title fragment (ValueError in French when one matches nothing)."""
        return select_cards(selectors, self.cards())

    def select_for_question(self, question: str) -> list[ExperienceCard]:
        """The experiences a question points to: the best precedent of each place it names, else the
        best precedents (2 to 6) within 60 % of the best score."""
        found = self.precedents(PrecedentRequest(question, limit=2 * MAX_COLUMNS))
        if len(found) < MIN_COLUMNS:
            raise ValueError("la question ne désigne pas au moins deux expériences du corpus")
        places = places_named(question, [p.card for p in found])
        if len(places) >= MIN_COLUMNS:
            # "… de Valbrune et de Vergnolles": the best precedent of each place named
            named = [next((p.card for p in found if names_place(p.card, w)), None) for w in places]
            chosen = list(dict.fromkeys(c for c in named if c is not None))[:MAX_COLUMNS]
            if len(chosen) >= MIN_COLUMNS:
                return chosen
        kept = [p.card for p in found[:MAX_COLUMNS] if p.score >= 0.6 * found[0].score]
        return kept if len(kept) >= MIN_COLUMNS else [p.card for p in found[:MIN_COLUMNS]]

    def compare(self, selectors: Sequence[str] = (), *, question: str | None = None) -> ComparisonTable:
        cards = self.select_for_question(question) if question else self.select(selectors)
        return build_table(cards)

    def section_writer(self, kind: str = "extraits") -> SectionWriter:
        """ "extraits" (offline) or "llm" (the configured model; its sentences kept only where a passage supports them)."""
        idf = self.components.searcher.keyword.current().idf
        if kind == "llm":
            model = self.components.chat_model()
            if model is None:
                raise ValueError(
                    "aucun modèle de langue configuré : renseignez OPENAI_BASE_URL ou installez le modèle local"
                )
            g = self.components.settings.generation
            return LLMSectionWriter(
                model, idf, count_tokens=self.components.prompt_tokens, max_prompt_tokens=g.max_prompt_tokens
            )
        return ExtractiveSectionWriter(idf)

    def draft_note(
        self, *, territory: str, topic: str, writer: SectionWriter | None = None, date: str | None = None
    ) -> Iterator[NoteEvent]:
        drafter = NoteDrafter(
            self.components.searcher, self.components.store, writer or self.section_writer(), finder=self.finder
        )
        yield from drafter.draft(territory=territory, topic=topic, date=date or datetime.date.today().isoformat())
