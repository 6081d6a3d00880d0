"""Retrieval metrics at document level (pure): a question is answered by any of its relevant documents."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


def document_ranking(chunk_documents: Iterable[str]) -> list[str]:
    """Documents in the order of their best chunk."""
    seen: dict[str, None] = {}
    for doc in chunk_documents:
        seen.setdefault(doc, None)
    return list(seen)


def recall_at(ranking: Sequence[str], relevant: set[str], k: int) -> float:
    """1 if any relevant document is in the top ``k``."""
    return 1.0 if any(doc in relevant for doc in ranking[:k]) else 0.0


def reciprocal_rank(ranking: Sequence[str], relevant: set[str], k: int = 10) -> float:
    for rank, doc in enumerate(ranking[:k], 1):
        if doc in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at(ranking: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """Binary-relevance nDCG: DCG of the ranking over the DCG of a perfect one."""
    dcg = sum(1.0 / math.log2(rank + 1) for rank, doc in enumerate(ranking[:k], 1) if doc in relevant)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    return dcg / ideal if ideal else 0.0


def summarize(rankings: Sequence[Sequence[str]], relevants: Sequence[set[str]]) -> dict[str, float]:
    """Mean Recall@1, Recall@5, MRR@10 and nDCG@10 over questions."""
    n = len(rankings)
    if n == 0:
        return {"recall@1": 0.0, "recall@5": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0, "questions": 0}
    pairs = list(zip(rankings, relevants, strict=True))
    return {
        "recall@1": sum(recall_at(r, rel, 1) for r, rel in pairs) / n,
        "recall@5": sum(recall_at(r, rel, 5) for r, rel in pairs) / n,
        "mrr@10": sum(reciprocal_rank(r, rel) for r, rel in pairs) / n,
        "ndcg@10": sum(ndcg_at(r, rel) for r, rel in pairs) / n,
        "questions": n,
    }


def recall_curve(
    rankings: Sequence[Sequence[str]], relevants: Sequence[set[str]], ks: Iterable[int]
) -> dict[int, float]:
    """Mean Recall@k for each ``k``: the points of a recall@k curve."""
    n = len(rankings)
    pairs = list(zip(rankings, relevants, strict=True))
    return {k: (sum(recall_at(r, rel, k) for r, rel in pairs) / n if n else 0.0) for k in ks}


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between order statistics; 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(retrieval_s: Sequence[float], answer_s: Sequence[float]) -> dict[str, float]:
    """p50/p95 in milliseconds of retrieval and whole-answer times given in seconds."""
    return {
        "retrieval_ms_p50": percentile(retrieval_s, 50) * 1000,
        "retrieval_ms_p95": percentile(retrieval_s, 95) * 1000,
        "answer_ms_p50": percentile(answer_s, 50) * 1000,
        "answer_ms_p95": percentile(answer_s, 95) * 1000,
    }


@dataclass(frozen=True)
class AnswerOutcome:
    """What is scored of one answer. ``facts_found``/``facts_total`` count expected facts present in the text."""

    should_refuse: bool
    refused: bool
    citations: int
    citations_resolved: int  # chunk among the shown passages and quote a substring of that passage
    facts_found: int
    facts_total: int
    length_chars: int
    cut_quotes: int = 0  # cited quotes that stop inside a word


def cut_inside_word(quote: str, following: str) -> bool:
    """A quote stops inside a word when it ends on a letter and the document text goes on with a letter."""
    return bool(quote) and quote[-1].isalnum() and bool(following) and following[0].isalnum()


def citation_resolves(chunk_id: str, quote: str, shown: Mapping[str, str]) -> bool:
    """A citation resolves when its chunk is one of the shown passages (chunk id -> text) and its quote is in it."""
    return chunk_id in shown and bool(quote) and quote in shown[chunk_id]


def summarize_answers(outcomes: Sequence[AnswerOutcome]) -> dict[str, float]:
    """Citation validity, cited-answer share, key-fact recall, refusal accuracy and mean length.

    Shares are over answered (not refused) questions, key-fact recall over the questions that have facts
    (a refusal finds none), refusal accuracy over all questions (refused exactly when it should).
    """
    answered = [o for o in outcomes if not o.refused]
    with_facts = [o for o in outcomes if o.facts_total]
    citations = sum(o.citations for o in answered)
    unanswerable = [o for o in outcomes if o.should_refuse]
    answerable = [o for o in outcomes if not o.should_refuse]
    return {
        "questions": len(outcomes),
        "answered": len(answered),
        "citation_validity": sum(o.citations_resolved for o in answered) / citations if citations else 0.0,
        "cited_answers": sum(1 for o in answered if o.citations) / len(answered) if answered else 0.0,
        "key_fact_recall": (
            sum(o.facts_found for o in with_facts) / sum(o.facts_total for o in with_facts) if with_facts else None
        ),
        "refusal_accuracy": (
            sum(1 for o in outcomes if o.refused == o.should_refuse) / len(outcomes) if outcomes else 0.0
        ),
        "refused_when_unanswerable": (
            sum(1 for o in unanswerable if o.refused) / len(unanswerable) if unanswerable else None
        ),
        "answered_when_answerable": (
            sum(1 for o in answerable if not o.refused) / len(answerable) if answerable else None
        ),
        "length_chars": sum(o.length_chars for o in answered) / len(answered) if answered else 0.0,
        "cut_quotes": sum(o.cut_quotes for o in answered),
    }
