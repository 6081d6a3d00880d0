"""One entry point over an index for the CLI and the app: cards, precedents, comparisons, notes."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from pathlib import Path

from assistant.backends.llm import ChatModel
from assistant.backends.store import ChunkStore
from assistant.experiences.cards import CardExtractor
from assistant.experiences.compare import (
    MAX_COLUMNS,
    MIN_COLUMNS,
    ComparisonTable,
    build_table,
    names_place,
    places_named,
    select_cards,
)
from assistant.experiences.precedents import Precedent, PrecedentFinder, PrecedentRequest
from assistant.experiences.records import ExperienceCard
from assistant.experiences.store import CardStore, CardSyncReport
from assistant.notes.note import NoteDrafter, NoteEvent
from assistant.notes.writers import ExtractiveSectionWriter, LLMSectionWriter, SectionWriter
from assistant.retrieval.hybrid import Retriever


class ExperienceDesk:
    """Experience cards of the index in ``store`` (synced with it on first use), and what is built on them.

    ``extractor`` is called once, on the first sync (an LLM extractor starts the chat model);
    ``chat_model`` is asked for only when a note is written by the model.
    """

    def __init__(
        self,
        searcher: Retriever,
        store: ChunkStore,
        *,
        cards_dir: Path,
        extractor: Callable[[], CardExtractor],
        chat_model: Callable[[], ChatModel | None],
        prompt_tokens: Callable[[str], int],
        max_prompt_tokens: int,
    ) -> None:
        self.searcher = searcher
        self.store = store
        self._make_extractor = extractor
        self._chat_model = chat_model
        self._prompt_tokens = prompt_tokens
        self._max_prompt_tokens = max_prompt_tokens
        self.card_store = CardStore(cards_dir)
        self.last_sync: CardSyncReport | None = None
        self._sync_lock = threading.Lock()

    @cached_property
    def extractor(self) -> CardExtractor:
        return self._make_extractor()

    def sync(self) -> CardSyncReport:
        """Extract new or changed documents, drop removed ones."""
        self.last_sync = self.card_store.sync(self.store, self.extractor)
        self.__dict__.pop("finder", None)
        return self.last_sync

    def refresh(self) -> list[ExperienceCard]:
        """The cards, brought in line with the index first (only new or changed documents are read).

        The app's sessions share the desk and its card file: one sync at a time.
        """
        with self._sync_lock:
            self.sync()
            return self.cards()

    def cards(self) -> list[ExperienceCard]:
        if self.last_sync is None:
            self.sync()
        return self.card_store.cards()

    @cached_property
    def finder(self) -> PrecedentFinder:
        return PrecedentFinder(self.searcher, self.cards())

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
        idf = self.searcher.keyword_index().idf
        if kind == "llm":
            model = self._chat_model()
            if model is None:
                raise ValueError(
                    "aucun modèle de langue configuré : renseignez OPENAI_BASE_URL ou installez le modèle local"
                )
            return LLMSectionWriter(
                model, idf, count_tokens=self._prompt_tokens, max_prompt_tokens=self._max_prompt_tokens
            )
        return ExtractiveSectionWriter(idf)

    def draft_note(
        self, *, territory: str, topic: str, writer: SectionWriter | None = None, date: str | None = None
    ) -> Iterator[NoteEvent]:
        drafter = NoteDrafter(self.searcher, self.store, writer or self.section_writer(), finder=self.finder)
        yield from drafter.draft(territory=territory, topic=topic, date=date or datetime.date.today().isoformat())
