"""Retrieval metrics at document level (pure): a question is answered by any of its relevant documents."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


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
