"""Hybrid search: French keyword index and dense index, fused by reciprocal rank."""

from __future__ import annotations

import logging
from pathlib import Path

from assistant.backends.embedder import Embedder
from assistant.backends.store import ChunkStore, registry_fingerprint
from assistant.retrieval.fusion import fuse_ranked_lists
from assistant.retrieval.lexical import KeywordIndex
from assistant.settings import RetrievalSettings
from assistant.types import Hit
from ingest.chunking import embedding_text

log = logging.getLogger(__name__)


class KeywordIndexKeeper:
    """Keeps the persisted keyword index equal to the store's visible chunks."""

    def __init__(self, store: ChunkStore, directory: Path) -> None:
        self.store = store
        self.directory = directory
        self._index: KeywordIndex | None = None

    def current(self) -> KeywordIndex:
        """The index matching the store now, loading or rebuilding it when the store has changed."""
        fingerprint = registry_fingerprint(self.store.documents())
        if self._index is not None and self._index.fingerprint == fingerprint:
            return self._index
        loaded = KeywordIndex.load(self.directory) if self.directory.exists() else None
        if loaded is None or loaded.fingerprint != fingerprint:
            loaded = self.rebuild(fingerprint)
        self._index = loaded
        return loaded

    def rebuild(self, fingerprint: str | None = None) -> KeywordIndex:
        fingerprint = fingerprint or registry_fingerprint(self.store.documents())
        chunks = list(self.store.iter_chunks())
        index = KeywordIndex.build([c.chunk_id for c in chunks], [embedding_text(c) for c in chunks], fingerprint)
        index.save(self.directory)
        log.info("keyword index rebuilt: %d chunks", len(index))
        self._index = index
        return index


class HybridSearcher:
    """Ranks chunks for a question by fusing keyword and dense rankings."""

    def __init__(
        self, store: ChunkStore, embedder: Embedder, keyword: KeywordIndexKeeper, settings: RetrievalSettings
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.keyword = keyword
        self.settings = settings

    def search(self, question: str, k: int = 10) -> list[Hit]:
        """Best ``k`` chunks; each hit's provenance gives its rank in each list it came from."""
        n = self.settings.candidates
        keyword_ids = [cid for cid, _ in self.keyword.current().search(question, n)]
        dense = self.store.query(self.embedder.embed_query(question), n)
        dense_ids = [c.chunk_id for c, _ in dense]
        fused = fuse_ranked_lists(
            {"keyword": keyword_ids, "dense": dense_ids},
            weights={"keyword": self.settings.keyword_weight, "dense": self.settings.dense_weight},
            k=self.settings.rrf_k,
        )[:k]
        known = {c.chunk_id: c for c, _ in dense}
        missing = [cid for cid, _, _ in fused if cid not in known]
        known.update((c.chunk_id, c) for c in self.store.get_chunks(missing))
        return [
            Hit(chunk=known[cid], score=score, provenance={name: float(r) for name, r in ranks.items()})
            for cid, score, ranks in fused
            if cid in known
        ]
