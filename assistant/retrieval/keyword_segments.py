"""The keyword index in two segments, so a change costs the changed documents, not the whole index.

bm25s scores eagerly: its index holds every (term, passage) score, computed with the corpus's
document frequencies and mean length, and it cannot add or remove a passage. Rebuilding it after
each upload costs minutes at 500k passages. So the index is:

- a **base**: a bm25s index of the passages as they were at its build (:class:`KeywordIndex`);
- a **delta**: the passages of documents added or changed since, analysed and kept as term lists
  (a small JSON file beside the base), scored at query time by :func:`bm25_scores`, plus the
  documents whose base passages are **masked** (removed or replaced: a weight of 0 in bm25s).

A query ranks both and merges them. Delta passages are scored with the document frequencies of
base and delta together, and base ones with the base's own (computed at its build): the two
drift apart as the delta grows, so when the delta passes :data:`COMPACT_FRACTION` of the base
(or :data:`COMPACT_MIN_PASSAGES`), the writer rebuilds the base whole, after the delta that makes
the change searchable is saved. Readers load either aside and swap (see ``keyword_keeper``).
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.retrieval.french import ANALYZER_VERSION, analyze
from assistant.retrieval.lexical import KeywordIndex

COMPACT_MIN_PASSAGES = 2000  # a delta this small is always kept (scored in a few milliseconds)
COMPACT_FRACTION = 0.02  # beyond this share of the base, the base is rebuilt


@dataclass(frozen=True)
class DeltaPassage:
    """A passage of a document added or changed since the base was built, analysed once by the writer."""

    chunk_id: str
    doc_id: str
    content_hash: str
    terms: tuple[str, ...]
    metadata: Mapping[str, Any]


@dataclass(frozen=True)
class Delta:
    """What changed since the base ``base_fingerprint``: new passages and the documents masked in the base."""

    base_fingerprint: str
    fingerprint: str  # of the registry this base + delta match
    passages: tuple[DeltaPassage, ...] = ()
    masked: frozenset[str] = frozenset()  # doc ids whose base passages are hidden

    def save(self, path: Path) -> None:
        """Write atomically (a new file renamed over the old one): readers see one whole delta."""
        payload = {
            "analyzer": ANALYZER_VERSION,
            "base": self.base_fingerprint,
            "fingerprint": self.fingerprint,
            "masked": sorted(self.masked),
            "passages": [
                {"id": p.chunk_id, "doc": p.doc_id, "hash": p.content_hash, "terms": p.terms, "meta": p.metadata}
                for p in self.passages
            ],
        }
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> Delta | None:
        """The saved delta, or None when missing or unreadable."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("analyzer") != ANALYZER_VERSION:
                return None
            passages = tuple(
                DeltaPassage(p["id"], p["doc"], p["hash"], tuple(p["terms"]), p["meta"]) for p in data["passages"]
            )
            return cls(data["base"], data["fingerprint"], passages, frozenset(data["masked"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None


class Postings:
    """The delta's terms inverted (term → passages holding it, with counts), built once per delta, so a
    query scores only the passages that hold one of its terms (2,000 passages: 45 ms scanned, a few ms so)."""

    def __init__(self, passages: Sequence[Sequence[str]]) -> None:
        self.lengths = [len(terms) for terms in passages]
        self.by_term: dict[str, list[tuple[int, int]]] = {}
        for row, terms in enumerate(passages):
            for term, count in Counter(terms).items():
                self.by_term.setdefault(term, []).append((row, count))

    def scores(
        self,
        query: Sequence[str],
        *,
        document_frequency: Callable[[str], int],
        total: int,
        mean_length: float,
        k1: float,
        b: float,
    ) -> dict[int, float]:
        """BM25 (Lucene idf, Robertson tf, as bm25s computes them) of each passage holding a query term.

        ``document_frequency`` and ``total`` describe the whole collection the passages belong to, so the
        scores compare with those of a bm25s index built over that collection.
        """
        scores: dict[int, float] = {}
        for term in set(query):
            postings = self.by_term.get(term)
            if not postings:
                continue
            df = document_frequency(term)
            idf = math.log(1 + (total - df + 0.5) / (df + 0.5))
            for row, tf in postings:
                norm = k1 * (1 - b + b * self.lengths[row] / mean_length) if mean_length else k1
                scores[row] = scores.get(row, 0.0) + idf * tf / (tf + norm)
        return scores


def bm25_scores(query: Sequence[str], passages: Sequence[Sequence[str]], **stats: Any) -> list[float]:
    """Each passage's BM25 score for ``query`` (see :meth:`Postings.scores` for ``stats``), 0 without a term."""
    scores = Postings(passages).scores(query, **stats)
    return [scores.get(row, 0.0) for row in range(len(passages))]


@dataclass(frozen=True)
class RefreshPlan:
    """What a refresh must analyse and mask: documents new or changed, and documents gone."""

    changed: tuple[str, ...]
    removed: tuple[str, ...]


def plan_refresh(indexed: Mapping[str, str], registry: Mapping[str, str]) -> RefreshPlan:
    """Compare the documents the index holds (doc id → content hash) with the registry's."""
    changed = tuple(sorted(d for d, h in registry.items() if indexed.get(d) != h))
    removed = tuple(sorted(d for d in indexed if d not in registry))
    return RefreshPlan(changed, removed)


@dataclass
class SegmentedIndex:
    """Base and delta answering as one keyword index (same methods as :class:`KeywordIndex`)."""

    base: KeywordIndex
    delta: Delta
    k1: float
    b: float
    _base_documents: dict[str, str] = field(init=False, repr=False)
    _weights: np.ndarray | None = field(init=False, repr=False)
    _delta_frequency: Counter = field(init=False, repr=False)
    _postings: Postings = field(init=False, repr=False)

    def __post_init__(self) -> None:
        rows = [(m.get("doc_id"), m.get("content_hash")) for m in self.base.metadatas]
        self._base_documents = {d: h for d, h in rows if d is not None}
        masked = self.delta.masked
        self._weights = None
        if masked:
            self._weights = np.array([0.0 if d in masked else 1.0 for d, _ in rows], dtype=np.float32)
        self._masked_rows = 0 if self._weights is None else int(len(rows) - self._weights.sum())
        self._delta_frequency = Counter(t for p in self.delta.passages for t in set(p.terms))
        self._postings = Postings([p.terms for p in self.delta.passages])

    @property
    def fingerprint(self) -> str:
        return self.delta.fingerprint

    @property
    def params(self) -> tuple[float, float] | None:
        return self.base.params

    def __len__(self) -> int:
        return len(self.base) - self._masked_rows + len(self.delta.passages)

    def documents(self) -> dict[str, str]:
        """The documents the index holds now: doc id → content hash."""
        held = {d: h for d, h in self._base_documents.items() if d not in self.delta.masked}
        held.update((p.doc_id, p.content_hash) for p in self.delta.passages)
        return held

    @property
    def changed_passages(self) -> int:
        """Passages the base does not reflect (masked or in the delta): what compaction would fold in."""
        return self._masked_rows + len(self.delta.passages)

    def needs_compaction(self) -> bool:
        return self.changed_passages > max(COMPACT_MIN_PASSAGES, COMPACT_FRACTION * len(self.base))

    def document_frequency(self, term: str) -> int:
        # masked base passages still count: exact again at the next compaction
        return self.base.document_frequency(term) + self._delta_frequency[term]

    def idf(self, term: str) -> float:
        n, df = len(self), self.document_frequency(term)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(
        self, query: str, k: int = 50, accept: Callable[[Mapping[str, Any]], bool] | None = None
    ) -> list[tuple[str, float]]:
        """Best ``k`` chunk ids of base and delta together, with BM25 scores, best first."""
        found = self.base.search(query, k, accept=accept, weights=self._weights)
        if self.delta.passages:
            scores = self._postings.scores(
                analyze(query),
                document_frequency=self.document_frequency,
                total=len(self),
                mean_length=self.base.mean_length or _mean_length(self.delta.passages),
                k1=self.k1,
                b=self.b,
            )
            passages = self.delta.passages
            found += [
                (passages[row].chunk_id, score)
                for row, score in scores.items()
                if score > 0 and (accept is None or accept(passages[row].metadata))
            ]
        return sorted(found, key=lambda pair: (-pair[1], pair[0]))[:k]


def _mean_length(passages: Iterable[DeltaPassage]) -> float:
    lengths = [len(p.terms) for p in passages]
    return sum(lengths) / len(lengths) if lengths else 0.0
