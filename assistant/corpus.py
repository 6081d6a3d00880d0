"""What ingestion and the answering side share about the corpus (a neutral module: it imports only records).

The formats ingestion reads, its French errors, the registry's record of an indexed document,
the text a passage is indexed under, and the reports and progress events of an indexing run.
``ingest`` writes them, the index keeps them, retrieval and the interface read them; none of those
needs to import ``ingest`` for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from assistant.types import Chunk

SUPPORTED_SUFFIXES = (".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt")
SIDECAR_SUFFIX = ".meta.yaml"


class LoadError(Exception):
    """A file that cannot be ingested; the message is French and says what to do."""


def unsupported_format(suffix: str) -> LoadError:
    """The error for a file whose format ingestion does not read."""
    return LoadError(
        f"format non pris en charge ({suffix or 'sans extension'}) : formats acceptés {', '.join(SUPPORTED_SUFFIXES)}"
    )


class FolderRefused(Exception):
    """A folder the interface may not index; the message is French, for the user."""


@dataclass(frozen=True)
class DocumentRecord:
    """What the registry knows of an indexed document."""

    doc_id: str
    content_hash: str
    chunk_count: int
    metadata: dict[str, Any]

    @property
    def source(self) -> str:
        return str(self.metadata.get("source", ""))


CONTEXT_LINES = 8  # a chunk's opening lines, where its own title and headings stand


def embedding_text(chunk: Chunk) -> str:
    """What the embedder and keyword index see: title and headings give context to short passages.

    Context already in the passage's opening lines (a chunk opening with its heading, a first
    chunk opening with the title) is not repeated: repeated, it weighs three times in BM25 and
    pulls the embedding towards the title (−0.017 dense Recall@1 on piaf).
    """
    opening = {_fold(line) for line in chunk.text.splitlines()[:CONTEXT_LINES] if line.strip()}
    context: list[str] = []
    for part in (str(chunk.metadata.get("title", "")), *chunk.heading_path):
        folded = _fold(part)
        if folded and folded not in opening and folded not in map(_fold, context):
            context.append(part)
    return f"{' > '.join(context)}\n{chunk.text}" if context else chunk.text


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class Source:
    """One document to ingest: a file, with the metadata known before reading it (e.g. from a manifest)."""

    path: Path
    key: str  # identity: absolute path or URL
    extra_metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def is_remote(self) -> bool:
        return self.key.startswith(("http://", "https://"))

    @property
    def label(self) -> str:
        """How reports name the source: its URL, else its path."""
        return self.key if self.is_remote else str(self.path)

    @property
    def filename(self) -> str:
        if self.is_remote:
            return self.key.rstrip("/").rsplit("/", 1)[-1] or self.key
        return self.path.name


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, French reason)
    notices: list[tuple[str, str]] = field(default_factory=list)  # (path, French remark): indexed in part
    copies: list[tuple[str, str]] = field(default_factory=list)  # (copy, reference document): indexed once
    versions: list[tuple[str, str]] = field(default_factory=list)  # (newer, older) versions of one document
    references: list[tuple[str, str]] = field(default_factory=list)  # (chosen copy, former reference)
    chunks_embedded: int = 0
    tokens_embedded: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        rate = self.tokens_embedded / self.seconds if self.seconds else 0.0
        lines = [
            f"Ajoutés : {len(self.added)} · mis à jour : {len(self.updated)} · inchangés : {len(self.unchanged)}"
            f" · supprimés : {len(self.removed)} · en échec : {len(self.failed)}",
            f"Passages calculés : {self.chunks_embedded} · {self.seconds:.1f} s · {rate:.0f} jetons/s",
        ]
        lines += [f"  ✗ {path} : {reason}" for path, reason in self.failed]
        lines += [f"  ⚠ {path} : {remark}" for path, remark in self.notices]
        lines += [f"  ≡ {copy} : même texte que {reference}, indexé une fois" for copy, reference in self.copies]
        lines += [f"  ↻ {newer} : nouvelle version de {older}" for newer, older in self.versions]
        lines += [f"  ★ {chosen} : copie de référence à la place de {former}" for chosen, former in self.references]
        return "\n".join(lines)


@dataclass(frozen=True)
class Progress:
    """Embedding progress (``done`` of ``total`` passages), or, while ``stage`` is "reading",
    the page ``done`` of ``total`` reached in the file ``current`` ("ocr": the ``done``-th of
    the ``total`` pages of ``current`` read by OCR)."""

    done: int
    total: int
    current: str
    stage: Literal["reading", "ocr", "embedding"] = "embedding"


ProgressCallback = Callable[[Progress], None]
