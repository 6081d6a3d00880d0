"""Section writers for the note: claims (sentences with the passage span that supports them) per section."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant.backends.llm import ChatModel, LLMUnavailable
from assistant.citations import Claim, Idf, check_generated
from assistant.generation.composer import compose_claims
from assistant.generation.prompts import build_messages
from assistant.types import Passage


@dataclass(frozen=True)
class SectionPlan:
    heading: str
    intent: str  # words added to the retrieval query
    opening: str  # template sentence that introduces the extracts
    uses_precedents: str | None = None  # "leviers" | "partenaires" | "calendrier"


class SectionWriter(Protocol):
    """Turns a section's passages into claims; a claim without a passage span is never kept."""

    name: str

    def write(
        self, plan: SectionPlan, query: str, passages: Sequence[Passage], used: Collection[tuple[str, int]] = ()
    ) -> list[Claim]:
        """``used``: sentences the note already cites, as (document id, start offset)."""
        ...


# the kind of answer each section asks for, as the chat's composer understands it
_SECTION_KINDS = {"leviers": "howto", "partenaires": "partners"}


class ExtractiveSectionWriter:
    """Offline: the chat's composer over the section's passages (whole sentences and list items, exact
    extracts), with the section's kind (levers read as a how-to, partners from the partners' lists)."""

    name = "extraits"

    def __init__(self, idf: Idf, *, max_sentences: int = 4) -> None:
        self.idf = idf
        self.max_sentences = max_sentences

    def write(
        self, plan: SectionPlan, query: str, passages: Sequence[Passage], used: Collection[tuple[str, int]] = ()
    ) -> list[Claim]:
        kind = _SECTION_KINDS.get(plan.uses_precedents or "", "list")
        return compose_claims(query, passages, self.idf, kind=kind, exclude=used, limit=self.max_sentences)


class LLMSectionWriter:
    """Prose by a chat model, kept sentence by sentence only where the citation checker finds a supporting
    passage; the offline extracts when the model fails."""

    def __init__(
        self, model: ChatModel, idf: Idf, *, count_tokens: Callable[[str], int], max_prompt_tokens: int
    ) -> None:
        self.model, self.idf = model, idf
        self.count_tokens, self.max_prompt_tokens = count_tokens, max_prompt_tokens
        self.name = f"llm:{model.name}"
        self.fallback = ExtractiveSectionWriter(idf)

    def write(
        self, plan: SectionPlan, query: str, passages: Sequence[Passage], used: Collection[tuple[str, int]] = ()
    ) -> list[Claim]:
        instruction = (
            f"Rédige la partie « {plan.heading} » d'une note de travail ({query}), en 3 à 5 phrases, "
            "uniquement à partir des extraits, en indiquant la source de chaque phrase entre crochets."
        )
        messages = build_messages(
            instruction, passages, count_tokens=self.count_tokens, max_prompt_tokens=self.max_prompt_tokens
        )
        try:
            text = "".join(self.model.stream(messages, max_tokens=400, temperature=0.1))
        except LLMUnavailable:
            return self.fallback.write(plan, query, passages, used)
        claims, _ = check_generated(text, passages, self.idf)
        return [c for c in claims if c.passage is not None]
