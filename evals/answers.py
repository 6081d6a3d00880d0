"""Answer evaluation: ask every question with the configured answerer and score citations, facts and refusals."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.pipeline import Assistant
from assistant.types import Answer
from evals.datasets import Question
from evals.metrics import AnswerOutcome, citation_resolves, percentile, summarize_answers
from evals.systems import progress_bar
from evals.text import contains_fact

_MARKER = re.compile(r"\s*\[\d+\]")


def expected_facts(question: Question) -> tuple[str, ...]:
    """The facts a correct answer states: ``key_facts``, else the annotated answer spans (piaf)."""
    return question.key_facts or question.answers


def score_answer(question: Question, answer: Answer) -> AnswerOutcome:
    """What is scored of one answer, from the answer alone (its passages are the ones it was shown)."""
    shown = {p.chunk.chunk_id: p.text for p in answer.passages}
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
    )


@dataclass(frozen=True)
class AnswerRun:
    summary: dict[str, float | None]
    answerer: str


def evaluate_answers(assistant: Assistant, questions: Sequence[Question], *, set_name: str) -> AnswerRun:
    """Ask each question once; the summary adds full-answer latency p50/p95 in milliseconds."""
    outcomes: list[AnswerOutcome] = []
    latencies: list[float] = []
    answerers: set[str] = set()
    bar = progress_bar(len(questions), f"réponses {set_name}", "questions")
    for question in questions:
        started = time.perf_counter()
        answer = assistant.ask(question.question)
        latencies.append(time.perf_counter() - started)
        outcome = score_answer(question, answer)
        outcomes.append(outcome)
        answerers.add(answer.answerer)
        bar.update(1)
    bar.close()
    summary: dict[str, float | None] = dict(summarize_answers(outcomes))
    summary["latency_ms_p50"] = percentile(latencies, 50) * 1000
    summary["latency_ms_p95"] = percentile(latencies, 95) * 1000
    return AnswerRun(summary, ", ".join(sorted(answerers)))
