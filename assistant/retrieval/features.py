"""Features of a retrieval candidate for the learned ranker (pure).

A candidate is a chunk found by the keyword list, the dense list or both. Its features say how
each list placed it, how much of the question it holds (idf-weighted, in its text and in its title
and headings), whether the question's words come in the same order and close together, whether the
numbers and names of the question are there, and how its document fares among the candidates.
A missing value (a list that did not return the candidate, a question without numbers) is NaN, which
the ranker reads as "unknown" rather than as zero.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from assistant.retrieval.french import analyze, fold_accents

FEATURE_NAMES = (
    "keyword_score",  # BM25 score, min-max normalised over the keyword list
    "keyword_rank",  # 1 / rank in the keyword list
    "dense_similarity",  # cosine similarity to the question
    "dense_score",  # similarity, min-max normalised over the dense list
    "dense_rank",  # 1 / rank in the dense list
    "dense_gap",  # best similarity of the list minus this one
    "fusion_score",  # the score-fusion baseline: sum of the two normalised scores
    "coverage",  # idf-weighted share of the question's terms in the passage
    "coverage_terms",  # share of the question's distinct terms in the passage
    "title_coverage",  # idf-weighted share of the question's terms in the title and headings
    "bigrams",  # share of the question's adjacent term pairs found adjacent in the passage
    "phrase",  # longest run of consecutive question terms found in order, over the question's terms
    "proximity",  # matched terms over the width of the smallest window holding them all
    "glossary_coverage",  # idf-weighted share of the glossary's added terms in the passage
    "numbers",  # share of the question's numbers in the passage
    "names",  # share of the question's proper nouns in the passage
    "length",  # log(1 + terms of the passage)
    "document_candidates",  # candidates of the same document
    "document_best",  # best fusion score among the document's candidates
    "best_sentence",  # best similarity of one sentence of the passage (sentence matching on)
)

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
# a capitalised word: a name when it is not the question's first word
_CAPITALISED = re.compile(r"\b[A-ZÀ-ÖØ-Þ][\w'-]+", re.UNICODE)
_NAN = math.nan


@dataclass(frozen=True)
class Candidate:
    """One chunk to rank and what the two lists said of it (None: the list did not return it)."""

    chunk_id: str
    doc_id: str
    text: str  # what the keyword index reads: title and headings, then the passage
    context: str  # title and headings alone
    keyword_score: float | None = None
    keyword_rank: int | None = None
    similarity: float | None = None
    dense_rank: int | None = None
    sentence_similarity: float | None = None


@dataclass(frozen=True)
class QueryProfile:
    """What features compare a passage with: the question's analysed terms, their idf, numbers and names."""

    terms: tuple[str, ...]  # analysed terms of the question, in order
    weights: dict[str, float]  # idf of each distinct term
    added_terms: tuple[str, ...]  # terms the glossary added, not in the question
    numbers: frozenset[str]
    names: frozenset[str]  # accent-folded

    @classmethod
    def build(cls, question: str, expanded: str, idf: Callable[[str], float]) -> QueryProfile:
        """From the question, its glossary-expanded form and the keyword index's idf of an analysed term."""
        terms = tuple(analyze(question))
        added = tuple(dict.fromkeys(t for t in analyze(expanded) if t not in set(terms)))
        weights = {t: idf(t) for t in (*terms, *added)}
        words = question.split()
        names = {
            fold_accents(m.group())
            for m in _CAPITALISED.finditer(" ".join(words[1:]))
            if fold_accents(m.group()) not in _NOT_NAMES
        }
        return cls(terms, weights, added, frozenset(_NUMBER.findall(question)), frozenset(names))


# capitalised words that are not names: a question's second sentence may open with them
_NOT_NAMES = frozenset({"quel", "quelle", "quels", "quelles", "qui", "que", "quoi", "comment", "pourquoi", "est"})


@dataclass(frozen=True)
class TermPositions:
    """An analysed text as each term's positions, in order: what the passage features read, built once per
    text (the same passages come back question after question) so that a question's features only visit the
    positions of its own terms."""

    length: int  # analysed terms
    positions: dict[str, tuple[int, ...]]

    @classmethod
    def of(cls, terms: Sequence[str]) -> TermPositions:
        positions: dict[str, list[int]] = {}
        for position, term in enumerate(terms):
            positions.setdefault(sys.intern(term), []).append(position)  # interned: one copy of each term
        return cls(len(terms), {t: tuple(p) for t, p in positions.items()})


@lru_cache(maxsize=50_000)
def _analysed(text: str) -> TermPositions:
    return TermPositions.of(analyze(text))


@lru_cache(maxsize=50_000)
def _surface(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """Numbers and accent-folded words of a text."""
    return frozenset(_NUMBER.findall(text)), frozenset(re.findall(r"[\w'-]+", fold_accents(text)))


def analyse_passages(passages: Iterable[tuple[str, str]]) -> None:
    """Analyse passages (text, then title and headings) ahead of :func:`passage_features`, which finds them in its
    cache: the searcher does it for the keyword candidates while the question is being embedded."""
    for text, context in passages:
        _analysed(text)
        _surface(text)
        if context:
            _analysed(context)


def _weighted_share(terms: Sequence[str], present: Callable[[str], bool], weights: dict[str, float]) -> float:
    distinct = list(dict.fromkeys(terms))
    total = sum(weights.get(t, 0.0) for t in distinct)
    if not distinct or total <= 0:
        return _NAN
    return sum(weights.get(t, 0.0) for t in distinct if present(t)) / total


def longest_run(query: Sequence[str], passage: Sequence[str] | TermPositions) -> int:
    """Length of the longest run of consecutive query terms that also follow each other in the passage."""
    positions = passage.positions if isinstance(passage, TermPositions) else TermPositions.of(passage).positions
    best = 0
    previous: dict[int, int] = {}  # position in the passage of the previous query term -> run ending there
    for term in query:
        current = {}
        for j in positions.get(term, ()):
            current[j] = length = previous.get(j - 1, 0) + 1
            best = max(best, length)
        previous = current
    return best


def smallest_window(wanted: set[str], passage: Sequence[str] | TermPositions) -> int | None:
    """Width (in terms) of the smallest stretch of the passage holding every wanted term, None if one is absent."""
    positions = passage.positions if isinstance(passage, TermPositions) else TermPositions.of(passage).positions
    if not wanted or any(t not in positions for t in wanted):
        return None
    # a smallest stretch starts and ends on wanted terms: only their occurrences are walked
    found = sorted((p, t) for t in wanted for p in positions[t])
    counts: dict[str, int] = {}
    best: int | None = None
    start = 0
    for end, term in found:
        counts[term] = counts.get(term, 0) + 1
        while len(counts) == len(wanted):
            first, left = found[start]
            width = end - first + 1
            best = width if best is None else min(best, width)
            counts[left] -= 1
            if counts[left] == 0:
                del counts[left]
            start += 1
    return best


def _adjacent(first: str, second: str, positions: dict[str, tuple[int, ...]]) -> bool:
    following = positions.get(second)
    return following is not None and any(p + 1 in following for p in positions.get(first, ()))


def _normalised(values: dict[str, float]) -> dict[str, float]:
    if not values:
        return {}
    low, high = min(values.values()), max(values.values())
    return {k: (v - low) / (high - low) if high > low else 1.0 for k, v in values.items()}


def passage_features(profile: QueryProfile, candidate: Candidate) -> dict[str, float]:
    """The features that compare the question with one passage alone."""
    passage = _analysed(candidate.text)
    positions = passage.positions
    context = _analysed(candidate.context).positions if candidate.context else {}
    question = profile.terms
    pairs = set(zip(question, question[1:], strict=False))
    matched = {t for t in question if t in positions}
    window = smallest_window(matched, passage) if len(matched) > 1 else None
    numbers, words = _surface(candidate.text)
    return {
        "coverage": _weighted_share(question, positions.__contains__, profile.weights),
        "coverage_terms": len(matched) / len(set(question)) if question else _NAN,
        "title_coverage": _weighted_share(question, context.__contains__, profile.weights),
        "bigrams": sum(_adjacent(a, b, positions) for a, b in pairs) / len(pairs) if pairs else _NAN,
        "phrase": longest_run(question, passage) / len(question) if question else _NAN,
        "proximity": len(matched) / window if window else _NAN,
        "glossary_coverage": _weighted_share(profile.added_terms, positions.__contains__, profile.weights),
        "numbers": len(profile.numbers & numbers) / len(profile.numbers) if profile.numbers else _NAN,
        "names": len(profile.names & words) / len(profile.names) if profile.names else _NAN,
        "length": math.log1p(passage.length),
    }


def candidate_rows(profile: QueryProfile, candidates: Sequence[Candidate]) -> list[list[float]]:
    """One row of ``FEATURE_NAMES`` values per candidate, in the candidates' order."""
    keyword = _normalised({c.chunk_id: c.keyword_score for c in candidates if c.keyword_score is not None})
    dense = _normalised({c.chunk_id: c.similarity for c in candidates if c.similarity is not None})
    best_similarity = max((c.similarity for c in candidates if c.similarity is not None), default=_NAN)
    fusion = {c.chunk_id: keyword.get(c.chunk_id, 0.0) + dense.get(c.chunk_id, 0.0) for c in candidates}
    per_document: dict[str, list[float]] = {}
    for c in candidates:
        per_document.setdefault(c.doc_id, []).append(fusion[c.chunk_id])
    rows = []
    for c in candidates:
        values = {
            "keyword_score": keyword.get(c.chunk_id, _NAN),
            "keyword_rank": 1.0 / c.keyword_rank if c.keyword_rank else 0.0,
            "dense_similarity": _NAN if c.similarity is None else c.similarity,
            "dense_score": dense.get(c.chunk_id, _NAN),
            "dense_rank": 1.0 / c.dense_rank if c.dense_rank else 0.0,
            "dense_gap": _NAN if c.similarity is None else best_similarity - c.similarity,
            "fusion_score": fusion[c.chunk_id],
            "document_candidates": float(len(per_document[c.doc_id])),
            "document_best": max(per_document[c.doc_id]),
            "best_sentence": _NAN if c.sentence_similarity is None else c.sentence_similarity,
            **passage_features(profile, c),
        }
        rows.append([values[name] for name in FEATURE_NAMES])
    return rows
