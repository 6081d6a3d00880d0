"""Hybrid search: French keyword index and dense index, ordered by a learned ranker or by score fusion,
filtered and diversified."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from assistant.backends.embedder import Embedder
from assistant.backends.store import ChunkStore
from assistant.copies import superseded_documents
from assistant.corpus import embedding_text
from assistant.currency import asks_about_the_present, rank_by_currency
from assistant.glossary import Glossary
from assistant.retrieval.features import Candidate, QueryProfile, analyse_passages, candidate_rows
from assistant.retrieval.filters import Filters, matches, to_where
from assistant.retrieval.fusion import diversify, fuse_ranked_lists, fuse_scored_lists
from assistant.retrieval.keyword_keeper import KeywordIndexKeeper
from assistant.retrieval.keyword_segments import SegmentedIndex
from assistant.retrieval.ranker import LearnedRanker, order_by_score
from assistant.settings import RetrievalSettings
from assistant.types import Chunk, Hit

log = logging.getLogger(__name__)

TIE_MARGIN = 10  # candidates asked beyond the list's length, so that ties at the cut-off are settled by id


@dataclass(frozen=True)
class CandidatePool:
    """The keyword and dense lists for one question (``(chunk id, score)``, best first) and their chunks."""

    profile: QueryProfile
    keyword: list[tuple[str, float]]
    dense: list[tuple[str, float]]
    chunks: dict[str, Chunk]

    def candidates(self) -> list[Candidate]:
        """Every chunk of either list, once, in a fixed order (dense list, then keyword-only chunks)."""
        keyword = {cid: (rank, score) for rank, (cid, score) in enumerate(self.keyword, 1)}
        dense = {cid: (rank, similarity) for rank, (cid, similarity) in enumerate(self.dense, 1)}
        found = []
        for cid in dict.fromkeys([*dense, *keyword]):
            chunk = self.chunks[cid]
            text, context = passage_texts(chunk)
            found.append(
                Candidate(
                    chunk_id=cid,
                    doc_id=chunk.doc_id,
                    text=text,
                    context=context,
                    keyword_score=keyword[cid][1] if cid in keyword else None,
                    keyword_rank=keyword[cid][0] if cid in keyword else None,
                    similarity=dense[cid][1] if cid in dense else None,
                    dense_rank=dense[cid][0] if cid in dense else None,
                )
            )
        return found


def passage_texts(chunk: Chunk) -> tuple[str, str]:
    """What the features compare a question with: the chunk as the keyword index reads it (title and headings,
    then the passage), and its title and headings alone."""
    return embedding_text(chunk), " ".join([str(chunk.metadata.get("title", "")), *chunk.heading_path])


# One small pool per process embeds questions beside the keyword search (threads are started on demand).
_QUERY_EMBEDDING = ThreadPoolExecutor(max_workers=4, thread_name_prefix="query-embedding")


class Retriever(Protocol):
    """What answering and the experiences need from retrieval (``HybridSearcher`` provides it)."""

    glossary: Glossary | None

    def rank(self, question: str, filters: Filters | None = None) -> list[Hit]: ...

    def search(self, question: str, k: int = 10, filters: Filters | None = None) -> list[Hit]: ...

    def keyword_index(self) -> SegmentedIndex:
        """The keyword index as the store is now: its ``idf`` and document frequencies weigh words."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Passage vectors (L2-normalised), to compare a sentence with its evidence."""
        ...


class HybridSearcher:
    """Ranks chunks for a question: the keyword and dense lists' candidates, ordered by the learned
    ranker when one is given, else by fusing the two lists' scores."""

    def __init__(
        self,
        store: ChunkStore,
        embedder: Embedder,
        keyword: KeywordIndexKeeper,
        settings: RetrievalSettings,
        glossary: Glossary | None = None,
        *,
        ranker: LearnedRanker | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.keyword = keyword
        self.settings = settings
        self.glossary = glossary
        self.ranker = ranker

    def keyword_index(self) -> SegmentedIndex:
        return self.keyword.current()

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.embed_passages(texts)

    def gather(self, question: str, filters: Filters | None = None) -> CandidatePool:
        """The candidates of both lists with what each list said of them, and the question's profile."""
        filters = filters or Filters()
        # The question is embedded in another thread (the embedder runs native code or waits on a service, the
        # GIL released) while this one reads the keyword side: on two cores the two overlap.
        vector = _QUERY_EMBEDDING.submit(self.embedder.embed_query, question)
        query = self.glossary.expand_query(question) if self.glossary is not None else question
        n = self.settings.candidates
        accept = (lambda meta: matches(filters, meta)) if filters else None
        index = self.keyword.current()
        # Identical passages (513 of spf's 5,039 chunks repeat another) score exactly alike, and Chroma returns
        # such ties in an order, and across the cut-off with members, that change from one index build to the
        # next: a few more are asked for, ties are ordered by id, then the lists are cut.
        keyword = sorted(index.search(query, n + TIE_MARGIN, accept=accept), key=lambda p: (-p[1], p[0]))[:n]
        known: dict[str, Chunk] = {c.chunk_id: c for c in self.store.get_chunks([cid for cid, _ in keyword])}
        profile = QueryProfile.build(question, query, index.idf)
        analyse_passages(passage_texts(c) for c in known.values())  # cached: the features read them again
        found = self.store.query(vector.result(), n + TIE_MARGIN, where=to_where(filters))
        dense = sorted(found, key=lambda p: (-p[1], p[0].chunk_id))[:n]
        known.update((c.chunk_id, c) for c, _ in dense)
        return CandidatePool(
            profile,
            keyword=[(cid, score) for cid, score in keyword if cid in known],
            dense=[(c.chunk_id, similarity) for c, similarity in dense],
            chunks=known,
        )

    def rank(self, question: str, filters: Filters | None = None) -> list[Hit]:
        """All candidates, best first, by the learned ranker or the score fusion (no currency, no diversity).

        Each hit's provenance gives its rank in the keyword and dense lists, its cosine similarity
        and its rank by score fusion (``fusion``), whichever orders the hits.
        """
        pool = self.gather(question, filters)
        weights = {"keyword": self.settings.keyword_weight, "dense": self.settings.dense_weight}
        if self.settings.fusion == "rrf":
            rankings = {"keyword": [cid for cid, _ in pool.keyword], "dense": [cid for cid, _ in pool.dense]}
            fused = fuse_ranked_lists(rankings, weights=weights, k=self.settings.rrf_k)
        else:
            fused = fuse_scored_lists({"keyword": pool.keyword, "dense": pool.dense}, weights=weights)
        similarity = dict(pool.dense)
        hits = []
        for position, (cid, score, ranks) in enumerate(fused, 1):
            provenance = {name: float(r) for name, r in ranks.items()}
            if cid in similarity:
                provenance["similarity"] = similarity[cid]
            provenance["fusion"] = float(position)
            hits.append(Hit(chunk=pool.chunks[cid], score=score, provenance=provenance))
        if self.ranker is None or not hits:
            return hits
        candidates = pool.candidates()
        by_id = {h.chunk.chunk_id: h for h in hits}
        ids = [c.chunk_id for c in candidates]
        scores = self.ranker.score(candidate_rows(pool.profile, candidates))
        # callers compare scores with the best one (precedents): 1 for the best candidate, 0 for the last
        low, high = min(scores), max(scores)
        return [
            replace(
                by_id[ids[i]],
                score=(scores[i] - low) / (high - low) if high > low else 1.0,
                provenance={**by_id[ids[i]].provenance, "ranker": scores[i]},
            )
            for i in order_by_score(ids, scores)
        ]

    def ordered(self, question: str, filters: Filters | None = None) -> list[Hit]:
        """All candidates in the order answering reads them: :meth:`rank`, then current sources first when the
        question asks about the present, the recent-first option is on (settings or ``filters``) or a document
        has a newer version (what evaluations score)."""
        hits = self.rank(question, filters)
        present = asks_about_the_present(question)
        recent_first = self.settings.recent_first or bool(filters is not None and filters.recent_first)
        older = superseded_documents(self.store.documents())  # an updated version is preferred to the one it replaces
        if not (present or recent_first or older):
            return hits
        # current sources first; a claim is never dropped, only ranked lower
        return rank_by_currency(
            hits, glossary=self.glossary, present=present, recent_first=recent_first, superseded=older
        )

    def search(self, question: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """Best ``k`` chunks of :meth:`ordered`, at most ``max_per_document`` per document while others are relevant."""
        hits = self.ordered(question, filters)
        by_id = {h.chunk.chunk_id: h for h in hits}
        chosen = diversify(
            [(h.chunk.chunk_id, h.chunk.doc_id) for h in hits], k, max_per_group=self.settings.max_per_document
        )
        return [by_id[cid] for cid in chosen]
