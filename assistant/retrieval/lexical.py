"""French keyword index (BM25 over stemmed, accent-folded terms), persisted with bm25s.

The index is derived data: it is rebuilt from the chunk store and stamped with
the store's fingerprint, so a stale or half-written index is detected and rebuilt.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from assistant.retrieval.french import ANALYZER_VERSION, analyze
from assistant.retrieval.keyword_terms import AnalysedTerms

log = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG, which would print through any root handler
logging.getLogger("bm25s").setLevel(logging.WARNING)

_META_FILE = "keyword-meta.json"


class KeywordIndex:
    """BM25 ranking of chunk ids for a query."""

    def __init__(
        self,
        chunk_ids: Sequence[str],
        retriever: bm25s.BM25 | None,
        fingerprint: str,
        metadatas: Sequence[Mapping[str, Any]] | None = None,
        mean_length: float = 0.0,
    ) -> None:
        self.chunk_ids = list(chunk_ids)
        self.mean_length = mean_length  # analysed terms per chunk: what a passage scored outside bm25s needs
        self.fingerprint = fingerprint
        # kept so filters apply inside BM25 (weight mask) instead of after a truncated ranking
        self.metadatas = list(metadatas) if metadatas is not None else [{} for _ in self.chunk_ids]
        self._retriever = retriever
        self._vocab: dict[str, int] = retriever.vocab_dict if retriever is not None else {}

    @classmethod
    def build(
        cls,
        chunk_ids: Sequence[str],
        texts: Sequence[str],
        fingerprint: str,
        metadatas: Sequence[Mapping[str, Any]] | None = None,
        *,
        k1: float = 1.2,
        b: float = 0.6,
    ) -> KeywordIndex:
        """Index ``texts`` (one per chunk id); ``metadatas`` enable filtered search."""
        return cls.from_terms(chunk_ids, [analyze(t) for t in texts], fingerprint, metadatas, k1=k1, b=b)

    @classmethod
    def from_terms(
        cls,
        chunk_ids: Sequence[str],
        terms: Sequence[Sequence[str]],
        fingerprint: str,
        metadatas: Sequence[Mapping[str, Any]] | None = None,
        *,
        k1: float = 1.2,
        b: float = 0.6,
    ) -> KeywordIndex:
        """Index passages already analysed (``terms``: one list per chunk id, from :func:`analyze`)."""
        if not chunk_ids:
            return cls([], None, fingerprint)
        retriever = bm25s.BM25(k1=k1, b=b)
        retriever.index(terms, show_progress=False)
        mean_length = sum(map(len, terms)) / len(terms)
        return cls(chunk_ids, retriever, fingerprint, metadatas, mean_length)

    def __len__(self) -> int:
        return len(self.chunk_ids)

    @property
    def params(self) -> tuple[float, float] | None:
        """(k1, b) the index was built with; None for an empty index."""
        if self._retriever is None:
            return None
        return (float(self._retriever.k1), float(self._retriever.b))

    def document_frequency(self, term: str) -> int:
        """How many chunks hold the analysed ``term`` (0 for a term the corpus never uses)."""
        column = self._vocab.get(term)
        indptr = self._retriever.scores["indptr"] if self._retriever is not None else None
        if column is None or indptr is None or column + 1 >= len(indptr):
            return 0
        return int(indptr[column + 1] - indptr[column])

    def idf(self, term: str) -> float:
        """Inverse document frequency of an analysed term over the chunks (unknown terms count as rare)."""
        n, df = len(self.chunk_ids), self.document_frequency(term)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(
        self,
        query: str,
        k: int = 50,
        accept: Callable[[Mapping[str, Any]], bool] | None = None,
        *,
        weights: np.ndarray | None = None,
    ) -> list[tuple[str, float]]:
        """Best ``k`` chunk ids with their BM25 scores, among chunks whose metadata ``accept``s.

        ``weights`` (one per chunk, 0 or 1) hide chunks: those a newer segment replaces."""
        if self._retriever is None:
            return []
        terms = [t for t in analyze(query) if t in self._vocab]
        if not terms:
            return []
        mask = None
        if accept is not None:
            mask = np.array([accept(m) for m in self.metadatas], dtype=np.float32)
        if weights is not None:
            mask = weights if mask is None else mask * weights
        if mask is not None and not mask.any():
            return []
        k = min(k, len(self.chunk_ids))
        # n_threads=0: the query is scored in this thread (with 1, bm25s starts a thread pool for every query)
        docs, scores = self._retriever.retrieve([terms], k=k, show_progress=False, n_threads=0, weight_mask=mask)
        return [(self.chunk_ids[int(i)], float(s)) for i, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def save(self, directory: Path, terms: AnalysedTerms | None = None) -> None:
        """Write atomically: a new folder is filled, then swapped in; ``terms`` (the passages' analysed terms,
        for a later compaction) go in the same folder.

        The folders set aside are named per writer, so two processes saving at once (web workers and an
        ingest worker sharing a data folder) never write into each other's; the last swap wins.
        """
        writer = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tmp = directory.with_name(f"{directory.name}.tmp-{writer}")
        tmp.mkdir(parents=True)
        if self._retriever is not None:
            self._retriever.save(str(tmp), show_progress=False)
        if terms is not None:
            terms.save(tmp)
        (tmp / _META_FILE).write_text(
            json.dumps(
                {
                    "fingerprint": self.fingerprint,
                    "analyzer": ANALYZER_VERSION,
                    "chunk_ids": self.chunk_ids,
                    "metadatas": self.metadatas,
                    "mean_length": self.mean_length,
                }
            ),
            encoding="utf-8",
        )
        set_aside: list[Path] = []
        for attempt in range(20):
            old = directory.with_name(f"{directory.name}.old-{writer}-{attempt}")
            try:
                directory.rename(old)
                set_aside.append(old)
            except FileNotFoundError:  # none yet, or another writer moved it aside first
                pass
            try:
                tmp.rename(directory)
                break
            except OSError:  # another writer swapped its folder in between: set that one aside too
                continue
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            raise OSError(f"keyword index {directory}: could not swap the new folder in")
        for old in set_aside:
            shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex | None:
        """The saved index, or None when missing or unreadable (the caller rebuilds it)."""
        try:
            meta = json.loads((directory / _META_FILE).read_text(encoding="utf-8"))
            if meta.get("analyzer", 1) != ANALYZER_VERSION:
                raise ValueError(f"analysed by version {meta.get('analyzer', 1)}, now {ANALYZER_VERSION}")
            retriever = None
            if meta["chunk_ids"]:
                retriever = bm25s.BM25.load(str(directory), show_progress=False, mmap=False)
                if retriever.scores["num_docs"] != len(meta["chunk_ids"]):
                    raise ValueError("document count differs from chunk ids")
            return cls(
                meta["chunk_ids"], retriever, meta["fingerprint"], meta.get("metadatas"), meta.get("mean_length", 0.0)
            )
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            log.warning("keyword index in %s unreadable (%s); it will be rebuilt", directory, exc)
            return None
