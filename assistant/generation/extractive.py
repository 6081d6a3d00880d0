"""The offline answerer (pure): an answer composed of the passages' most relevant sentences.

Sentences are scored by how much of the question they cover (rarer words count
more), with a prior for the passage's retrieval rank; near-duplicates are
dropped; the chosen sentences are read in document order within each source,
sources in order of relevance, so the result reads as an answer, not a list.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from assistant.citations import Claim, Idf
from assistant.generation.units import is_instruction_like
from assistant.retrieval.french import analyze
from assistant.sentences import split_sentences
from assistant.types import Passage, Span


def reads_as_statement(text: str) -> bool:
    """Headings, questions and contact lines are not answers."""
    stripped = text.rstrip(" »\"')")
    if stripped.endswith("?"):
        return False
    if not stripped.endswith((".", "!", "…", ":", ";")) and len(stripped.split()) < 14:
        return False  # a title or a list label
    return "(fictif)." not in stripped[-12:] or len(stripped.split()) > 14


@dataclass(frozen=True)
class ScoredSentence:
    passage: int
    rank: int  # passage rank, 0 = best
    span: Span
    score: float
    terms: frozenset[str]


_ANAPHORIC_START = re.compile(
    r"^(il|elle|ils|elles|ce|cet|cette|ces|celui-ci|celle-ci|cela|son|sa|ses|leur|leurs|on y|y)\b", re.I
)


def score_sentences(question: str, passages: Sequence[Passage], idf: Idf) -> list[ScoredSentence]:
    """Every usable sentence of the passages with its relevance to the question, best first.

    A sentence opening on a pronoun ("Elle est financée par…") borrows the words of the
    sentence before it, whose subject it continues.
    """
    wanted = set(analyze(question))
    total = sum(idf(t) for t in wanted) or 1.0
    boilerplate = _repeated_across_documents(passages)
    scored = []
    for rank, passage in enumerate(passages):
        previous: frozenset[str] = frozenset()
        for span in split_sentences(passage.text, passage.start):
            terms = frozenset(analyze(span.text))
            context = terms | previous if _ANAPHORIC_START.match(span.text) else terms
            previous = terms
            words = len(span.text.split())
            if words < 5 or is_instruction_like(span.text) or not reads_as_statement(span.text):
                continue
            if " ".join(span.text.lower().split()) in boilerplate:
                continue
            coverage = sum(idf(t) for t in wanted & context) / total
            # a small prior for better-ranked passages; very long sentences read badly
            score = coverage + 0.15 / (rank + 1) - (0.1 if words > 60 else 0.0)
            scored.append(ScoredSentence(passage.number, rank, span, score, terms))
    return sorted(scored, key=lambda s: (-s.score, s.rank, s.span.start))


def _repeated_across_documents(passages: Sequence[Passage]) -> set[str]:
    """Sentences found word for word in passages of three or more documents: notices, disclaimers, footers.

    (Two documents may legitimately share a sentence, e.g. a relayed announcement.)"""
    seen: dict[str, set[str]] = {}
    for passage in passages:
        for span in split_sentences(passage.text):
            seen.setdefault(" ".join(span.text.lower().split()), set()).add(passage.chunk.doc_id)
    return {text for text, docs in seen.items() if len(docs) > 2}


def _redundant(candidate: ScoredSentence, chosen: list[ScoredSentence]) -> bool:
    for other in chosen:
        union = candidate.terms | other.terms
        if union and len(candidate.terms & other.terms) / len(union) > 0.6:
            return True
    return False


def compose_extractive(
    question: str,
    passages: Sequence[Passage],
    idf: Idf,
    *,
    max_sentences: int = 5,
    min_coverage: float = 0.2,
    exclude: Collection[tuple[str, int]] = (),
) -> list[Claim]:
    """Claims for the offline answer (each with its passage and exact span); empty when nothing is relevant.

    ``exclude``: sentences already used elsewhere, as (document id, start offset); others take their place.
    """
    document_of = {p.number: p.chunk.doc_id for p in passages}
    scored = [
        s for s in score_sentences(question, passages, idf) if (document_of[s.passage], s.span.start) not in exclude
    ]
    if not scored:
        return []
    floor = max(min_coverage, scored[0].score * 0.45)
    chosen: list[ScoredSentence] = []
    per_passage: dict[int, int] = {}
    for sentence in scored:
        if len(chosen) >= max_sentences or sentence.score < floor:
            break
        if per_passage.get(sentence.passage, 0) >= 3 or _redundant(sentence, chosen):
            continue
        chosen.append(sentence)
        per_passage[sentence.passage] = per_passage.get(sentence.passage, 0) + 1
    # sources in the order of their best sentence, sentences in reading order within a source
    source_order: dict[int, int] = {}
    for position, sentence in enumerate(chosen):
        source_order.setdefault(sentence.passage, position)
    chosen.sort(key=lambda s: (source_order[s.passage], s.span.start))
    return [Claim(s.span.text, s.passage, s.span) for s in chosen]
