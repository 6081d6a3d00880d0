"""Answer evaluation: ask every question with the configured answerer and score citations, facts and refusals."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.pipeline import Assistant
from assistant.types import Answer, Citation, Passage, Turn
from evals.datasets import Question
from evals.metrics import AnswerOutcome, citation_resolves, cut_inside_word, percentile, summarize_answers
from evals.systems import progress_bar
from evals.text import contains_fact

_MARKER = re.compile(r"\s*\[\d+\]")


def expected_facts(question: Question) -> tuple[str, ...]:
    """The facts a correct answer states: ``key_facts``, else the annotated answer spans (piaf)."""
    return question.key_facts or question.answers


def score_answer(question: Question, answer: Answer) -> AnswerOutcome:
    """What is scored of one answer, from the answer alone (its passages are the ones it was shown)."""
    shown = {p.chunk.chunk_id: p.text for p in answer.passages}
    by_chunk = {p.chunk.chunk_id: p for p in answer.passages}
    text = _MARKER.sub("", answer.text)
    facts = expected_facts(question) if question.answerable else ()
    return AnswerOutcome(
        should_refuse=not question.answerable,
        refused=answer.refused,
        citations=len(answer.citations),
        citations_resolved=sum(citation_resolves(c.chunk_id, c.quote, shown) for c in answer.citations),
        facts_found=0 if answer.refused else sum(contains_fact(text, f) for f in facts),
        facts_total=len(facts),
        length_chars=len(text),
        cut_quotes=sum(_cut(c, by_chunk) for c in answer.citations),
    )


@dataclass(frozen=True)
class AnswerRun:
    summary: dict[str, float | None]
    answerer: str
    by_kind: dict[str, dict[str, float | None]]  # the same summary per question type ("howto", "fact (suivi)"…)


def evaluate_answers(assistant: Assistant, questions: Sequence[Question], *, set_name: str) -> AnswerRun:
    """Ask each question once; the summary adds full-answer latency p50/p95 in milliseconds."""
    outcomes: list[AnswerOutcome] = []
    kinds: list[str] = []
    latencies: list[float] = []
    answerers: set[str] = set()
    bar = progress_bar(len(questions), f"réponses {set_name}", "questions")
    for question in questions:
        started = time.perf_counter()
        answer = assistant.ask(question.question, [Turn(q) for q in question.history])
        latencies.append(time.perf_counter() - started)
        outcome = score_answer(question, answer)
        outcomes.append(outcome)
        kinds.append(question.type + (" (suivi)" if question.history else ""))
        answerers.add(answer.answerer)
        bar.update(1)
    bar.close()
    summary: dict[str, float | None] = dict(summarize_answers(outcomes))
    summary["latency_ms_p50"] = percentile(latencies, 50) * 1000
    summary["latency_ms_p95"] = percentile(latencies, 95) * 1000
    by_kind = {
        kind: summarize_answers([o for o, k in zip(outcomes, kinds, strict=True) if k == kind]) for kind in kinds
    }
    return AnswerRun(summary, ", ".join(sorted(answerers)), dict(sorted(by_kind.items())))


def _cut(citation: Citation, passages: dict[str, Passage]) -> bool:
    """The citation's quote stops inside a word of its passage (a sentence cut at a chunk border)."""
    passage = passages.get(citation.chunk_id)
    if passage is None:
        return False
    return cut_inside_word(citation.quote, passage.text[citation.end - passage.start :][:1])
