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
from typing import Any

from assistant.backends.llm import ChatModel, LLMUnavailable, Message, StreamStats
from assistant.backends.store import ChunkStore
from assistant.citations import Claim, Idf, check_generated, render, sentence_statuses
from assistant.claims import embedding_similarity
from assistant.copies import copy_locations, superseded_documents
from assistant.currency import currency_notice, without_present_markers
from assistant.generation.composer import compose, document_candidates
from assistant.generation.followup import REWRITE_INSTRUCTION, contextualize, needs_context
from assistant.generation.material import Material, read_material
from assistant.generation.parts import Candidate, Label, candidates, clean_label, render_parts, unnamed_areas
from assistant.generation.prompts import build_messages, kind_guidance
from assistant.generation.question import QuestionAnalysis, QuestionPart, analyse_question
from assistant.generation.refusal import Answerability, assess, unknown_share
from assistant.retrieval.filters import Filters
from assistant.retrieval.french import analyze
from assistant.retrieval.hybrid import Retriever
from assistant.retrieval.passages import expand_passages
from assistant.settings import GenerationSettings
from assistant.types import Answer, Passage, Turn

log = logging.getLogger(__name__)

OFFLINE = "offline"
_SCOPED = ("precedent", "howto")  # kinds whose answer may come from elsewhere than the area the question names
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
        searcher: Retriever,
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
        self.glossary = getattr(searcher, "glossary", None)

    def ask(self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None) -> Answer:
        """The final answer (the stream, consumed)."""
        answer = None
        for event in self.stream(question, history, filters):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def stream(self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None) -> Iterator[Event]:
        """Status lines, text deltas, then the final Answer (its citations with currency notices and copies)."""
        for event in self._stream(question, history, filters):
            yield self._annotate_citations(event) if isinstance(event, Answer) else event

    def _annotate_citations(self, answer: Answer) -> Answer:
        """Each citation with the notice of an ended frame or a newer version, and its document's other copies."""
        if not answer.citations:
            return answer
        records = self.store.documents()
        newer = superseded_documents(records)
        by_chunk = {p.chunk.chunk_id: p for p in answer.passages}
        citations = []
        for citation in answer.citations:
            passage = by_chunk.get(citation.chunk_id)
            meta = passage.chunk.metadata if passage is not None else {}
            newer_record = records.get(newer.get(citation.doc_id, ""))
            newer_title = str(newer_record.metadata.get("title", "")) if newer_record is not None else ""
            notice = currency_notice(meta, citation.quote, self.glossary, newer_version=newer_title)
            copies = tuple(copy_locations(records, citation.doc_id)[1:])
            citations.append(replace(citation, notice=notice, copies=copies))
        return replace(answer, citations=tuple(citations))

    def _stream(self, question: str, history: Sequence[Turn], filters: Filters | None) -> Iterator[Event]:
        """Status lines, text deltas, then the final Answer."""
        model = self._chat_model()
        query = self._standalone(question, history, model)
        analysis = self.understand(question, query)
        yield Status("Recherche dans le corpus…")
        hits = self.searcher.search(query, k=self.settings.passages, filters=filters)
        material = read_material(
            expand_passages(hits, self.store),
            self.store.document_text,
            glossary=self.glossary,
            with_cards=analysis.kind in ("precedent", "funding", "partners"),
        )
        passages = material.passages
        # one snapshot per question: each current() reads the document registry to check freshness
        keyword = self.searcher.keyword_index()
        idf = keyword.idf
        pool = candidates(passages, material.units)
        if analysis.kind in ("fact", "list", "precedent"):
            # the asked figure may sit a few sentences past the retrieved passage, in the same document; the
            # experience asked for, in another paragraph of a report presenting several
            seen = {(c.doc_id, c.unit.span.start) for c in pool}
            for found in document_candidates(passages[:3], material.document_units).values():
                found = [c for c in found if (c.doc_id, c.unit.span.start) not in seen]
                if analysis.kind == "precedent":
                    # ranked after the retrieved passages, so that another experience of the report wins on
                    # its own words only, never over the one retrieval found by the rank it borrows
                    found = [replace(c, rank=len(passages)) for c in found]
                pool += found
        verdict = self._answerability(analysis, pool, keyword, query=query)
        for part in analysis.parts:
            # an amount asked beside another detail must be there too (« le budget annuel… et qui finance ? »)
            if verdict.answerable and part.detail == "amount":
                verdict = self._answerability(
                    replace(analysis, detail="amount", head=part.head), pool, keyword, query=query
                )
        log.debug("question %r: %s, %s", question, analysis.kind, verdict)
        if not passages or not verdict.answerable:
            yield from self._refuse(question, passages, model)
            return
        if model is None:
            yield from self._offline(question, analysis, pool, material, idf, notice=None)
            return
        yield Status("Rédaction de la réponse…")
        messages = build_messages(
            question,
            passages,
            history=history,
            count_tokens=self.count_tokens,
            max_prompt_tokens=self.max_prompt_tokens,
            guidance=kind_guidance(analysis),
            cards=[card for _, card in material.cards],
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
            yield from self._offline(question, analysis, pool, material, idf, notice=notice, restart=bool(pieces))
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
            similarity=embedding_similarity(self.searcher.embed_passages),
        )
        answer = self._answer(question, claims, passages, model.name, removed=removed)
        timings = {k: float(v) for k, v in vars(stats).items() if isinstance(v, (int, float))}
        yield replace(answer, timings=timings)

    def understand(self, question: str, query: str) -> QuestionAnalysis:
        """The question's kind and detail, with the focus of the whole query (a follow-up borrows its topic)."""
        question, query = without_present_markers(question), without_present_markers(query)
        analysis = analyse_question(question, self.glossary)
        if query != question:
            context = analyse_question(query, self.glossary)
            focus = {t.word: t for t in (*context.focus, *analysis.focus)}
            # « et en 2021 ? »: the new year replaces the thread's, the places stay, the asked detail too
            years = [a for a in analysis.anchors if a.isdigit()] or [a for a in context.anchors if a.isdigit()]
            names = [a for a in (*context.anchors, *analysis.anchors) if not a.isdigit()]
            own = analysis
            analysis = replace(
                analysis,
                focus=tuple(focus.values()),
                detail=analysis.detail or context.detail,
                head=analysis.head or context.head,
                complement=analysis.complement or context.complement,
                anchors=tuple(dict.fromkeys([*names, *years])),
            )
            if own.kind == "fact" and own.detail not in (None, "name") and own.focus:
                # « et combien vient du conseil départemental ? »: the answer leads with the unit giving what
                # the follow-up itself asks, before the thread's figure
                part = QuestionPart(question, own.detail, own.focus, own.head)
                analysis = replace(analysis, parts=(part, *analysis.parts))
        return analysis

    def _answerability(
        self, analysis: QuestionAnalysis, pool: list[Candidate], keyword: Any, *, query: str
    ) -> Answerability:
        idf = keyword.idf
        # a follow-up is read with its thread: « et combien vient du conseil départemental ? » is not made of
        # words the corpus never uses because « vient » is rare
        unknown = unknown_share(without_present_markers(query), idf, lambda t: keyword.document_frequency(t) > 0)
        if analysis.kind in _SCOPED and analysis.areas:
            # « un exemple dans le Nord ? »: a document names the town (« Tourcoing »), seldom its région or
            # département, so the area does not decide; the answer says when no document names it
            question = analysis.text
            for area in analysis.areas:
                question = question.replace(area, " ")
            areas = {w for area in analysis.areas for w in analyze(area)}
            analysis = replace(analysis, text=question, anchors=tuple(a for a in analysis.anchors if a not in areas))
        documents: dict[str, frozenset[str]] = {}
        for c in pool:
            documents[c.doc_id] = documents.get(c.doc_id, frozenset()) | c.words | c.context
        index = {doc: i for i, doc in enumerate(documents)}
        known = lambda term: keyword.document_frequency(term) > 0  # noqa: E731
        return assess(
            [(t, idf(t.word)) for t in analysis.focus],
            [
                (
                    c.unit.span.text,
                    c.words,
                    c.context,
                    index[c.doc_id],
                    c.unit.section == "funding" or c.unit.kind in ("item", "row"),
                )
                for c in pool
            ],
            list(documents.values()),
            detail=analysis.detail,
            known=known,
            words_of_focus=[t.word for t in analysis.focus],
            min_coverage=self.settings.refusal_min_coverage,
            unknown=unknown,
            anchors=analysis.anchors,
            head_forms=analysis.head,
            complement_forms=analysis.complement,
            question=analysis.text,
        )

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
        analysis: QuestionAnalysis,
        pool: list[Candidate],
        material: Material,
        idf: Idf,
        *,
        notice: str | None,
        restart: bool = False,
    ) -> Iterator[Event]:
        passages = material.passages
        definition = None
        if analysis.kind == "definition" and self.glossary is not None and analysis.glossary_terms:
            entry = self.glossary.lookup(analysis.glossary_terms[0])
            definition = entry.definition if entry else None
        documents = document_candidates(passages, material.document_units) if analysis.kind == "howto" else {}
        parts = compose(
            analysis, pool, idf, passages=passages, cards=material.cards, definition=definition, documents=documents
        )
        unnamed = unnamed_areas(analysis, pool) if analysis.kind in _SCOPED else []
        if parts and unnamed:
            where = " ni ".join(f"« {area} »" for area in unnamed)
            parts.insert(0, Label(f"Aucun document ne mentionne {where} ; voici les plus proches :"))
        text, claims = render_parts(parts, passages)
        passages = material.covering(claims)
        if not claims:
            yield from self._refuse(question, passages, None)
            return
        answer = self._answer(question, claims, passages, OFFLINE, notice=notice)
        answer = replace(answer, text=text)
        if restart:
            yield Status("Réponse hors ligne")
        for line in text.splitlines(keepends=True):
            yield Delta(line)
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
            title = clean_label(str(passage.chunk.metadata.get("title", "")))
            if title and title not in nearest:
                nearest.append(title)
        text = REFUSAL
        if nearest:
            text += " Documents les plus proches : " + " ; ".join(f"« {t} »" for t in nearest[:3]) + "."
        return Answer(question=question, text=text, citations=(), refused=True, answerer=name, passages=tuple(passages))
