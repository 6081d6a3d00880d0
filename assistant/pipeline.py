"""The assistant: question -> passages -> answer with checked citations, streamed.

retrieve (with the conversation's context and the user's filters) -> number the
passages -> refuse when the evidence is thin -> generate (LLM, or offline
extractive) -> attach and check citations -> Answer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from assistant.backends.llm import ChatModel, LLMUnavailable, Message, StreamStats
from assistant.backends.store import ChunkStore
from assistant.citations import Claim, Idf, check_generated, render, sentence_statuses
from assistant.claims import embedding_similarity
from assistant.generation.extractive import compose_extractive, score_sentences
from assistant.generation.followup import REWRITE_INSTRUCTION, contextualize, needs_context
from assistant.generation.prompts import build_messages
from assistant.generation.refusal import gather_evidence, should_refuse, unknown_share
from assistant.retrieval.filters import Filters
from assistant.retrieval.hybrid import HybridSearcher
from assistant.retrieval.passages import expand_passages
from assistant.settings import GenerationSettings
from assistant.types import Answer, Passage, Turn

log = logging.getLogger(__name__)

OFFLINE = "offline"
REFUSAL = "Je ne trouve pas cette information dans le corpus."
_MODEL_REFUSAL = re.compile(r"^\s*je ne trouve pas", re.IGNORECASE)


@dataclass(frozen=True)
class Delta:
    """A piece of answer text, as it streams."""

    text: str


@dataclass(frozen=True)
class Status:
    """What the assistant is doing, for a progress line (French)."""

    text: str


Event = Delta | Status | Answer


class Assistant:
    def __init__(
        self,
        searcher: HybridSearcher,
        store: ChunkStore,
        settings: GenerationSettings,
        *,
        chat_model: Callable[[], ChatModel | None] = lambda: None,
        count_tokens: Callable[[str], int],
        max_prompt_tokens: int,
    ) -> None:
        self.searcher = searcher
        self.store = store
        self.settings = settings
        self._chat_model = chat_model
        self.count_tokens = count_tokens
        self.max_prompt_tokens = max_prompt_tokens

    def ask(self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None) -> Answer:
        """The final answer (the stream, consumed)."""
        answer = None
        for event in self.stream(question, history, filters):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def stream(self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None) -> Iterator[Event]:
        """Status lines, text deltas, then the final Answer."""
        model = self._chat_model()
        query = self._standalone(question, history, model)
        yield Status("Recherche dans le corpus…")
        hits = self.searcher.search(query, k=self.settings.passages, filters=filters)
        passages = expand_passages(hits, self.store)
        # one snapshot per question: each current() reads the document registry to check freshness
        keyword = self.searcher.keyword.current()
        idf = keyword.idf
        scored = score_sentences(query, passages, idf)
        evidence = gather_evidence(
            query,
            [(s.span.text, s.score) for s in scored],
            unknown_share=unknown_share(query, keyword.idf, lambda term: keyword.document_frequency(term) > 0),
        )
        if not passages or should_refuse(evidence, min_coverage=self.settings.refusal_min_coverage):
            yield from self._refuse(question, passages, model)
            return
        if model is None:
            yield from self._offline(question, query, passages, idf, notice=None)
            return
        yield Status("Rédaction de la réponse…")
        messages = build_messages(
            question,
            passages,
            history=history,
            count_tokens=self.count_tokens,
            max_prompt_tokens=self.max_prompt_tokens,
        )
        pieces: list[str] = []
        stats = StreamStats()
        try:
            for delta in model.stream(
                messages, max_tokens=self.settings.max_answer_tokens, temperature=self.settings.temperature, stats=stats
            ):
                pieces.append(delta)
                yield Delta(delta)
        except LLMUnavailable as exc:
            log.warning("LLM endpoint failed, offline answer given: %s", exc)
            notice = f"Le service de génération a échoué ({exc}) : voici la réponse hors ligne, composée d'extraits du corpus."
            yield from self._offline(question, query, passages, idf, notice=notice, restart=bool(pieces))
            return
        generated = "".join(pieces).strip()
        if _MODEL_REFUSAL.match(generated):
            yield self._refusal_answer(question, passages, model.name)
            return
        claims, removed = check_generated(
            generated,
            passages,
            idf,
            glossary=self.searcher.glossary,
            similarity=embedding_similarity(self.searcher.embedder.embed_passages),
        )
        answer = self._answer(question, claims, passages, model.name, removed=removed)
        timings = {k: float(v) for k, v in vars(stats).items() if isinstance(v, (int, float))}
        yield replace(answer, timings=timings)

    def _standalone(self, question: str, history: Sequence[Turn], model: ChatModel | None) -> str:
        if not history or not needs_context(question):
            return question
        if model is not None:
            transcript = "\n".join(f"Utilisateur : {t.question}" for t in history[-3:]) + f"\nUtilisateur : {question}"
            try:
                rewritten = "".join(
                    model.stream(
                        [Message("system", REWRITE_INSTRUCTION), Message("user", transcript)],
                        max_tokens=60,
                        temperature=0.0,
                    )
                ).strip()
                if 5 <= len(rewritten) <= 300:
                    return f"{rewritten} {question}"
            except LLMUnavailable as exc:
                log.warning("question rewrite failed, deterministic context used: %s", exc)
        return contextualize(question, history)

    def _offline(
        self,
        question: str,
        query: str,
        passages: list[Passage],
        idf: Idf,
        *,
        notice: str | None,
        restart: bool = False,
    ) -> Iterator[Event]:
        claims = compose_extractive(query, passages, idf)
        if not claims:
            yield from self._refuse(question, passages, None)
            return
        answer = self._answer(question, claims, passages, OFFLINE, notice=notice)
        if restart:
            yield Status("Réponse hors ligne")
        for sentence in re.split(r"(?<=\])\s", answer.text):
            yield Delta(sentence + " ")
        yield answer

    def _answer(
        self,
        question: str,
        claims: list[Claim],
        passages: list[Passage],
        name: str,
        *,
        notice: str | None = None,
        removed: int = 0,
    ) -> Answer:
        hide = self.settings.hide_unsupported
        text, citations, unsupported = render(claims, passages, hide_unsupported=hide)
        return Answer(
            question=question,
            text=text,
            citations=citations,
            refused=False,
            answerer=name,
            notice=notice,
            unsupported_sentences=unsupported,
            removed_markers=removed,
            passages=tuple(passages),
            sentences=sentence_statuses(claims, hide_unsupported=hide),
        )

    def _refuse(self, question: str, passages: list[Passage], model: ChatModel | None) -> Iterator[Event]:
        answer = self._refusal_answer(question, passages, model.name if model else OFFLINE)
        yield Delta(answer.text)
        yield answer

    def _refusal_answer(self, question: str, passages: list[Passage], name: str) -> Answer:
        nearest = []
        for passage in passages:
            title = str(passage.chunk.metadata.get("title", ""))
            if title and title not in nearest:
                nearest.append(title)
        text = REFUSAL
        if nearest:
            text += " Documents les plus proches : " + " ; ".join(f"« {t} »" for t in nearest[:3]) + "."
        return Answer(question=question, text=text, citations=(), refused=True, answerer=name, passages=tuple(passages))
