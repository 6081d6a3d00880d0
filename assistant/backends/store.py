"""Chunk store on Chroma (embedded PersistentClient or a ``chroma run`` server).

Crash safety comes from one rule: a document's chunks are searchable only when
the document registry (a second collection, one record per document, written
in a single upsert) names their content hash. New chunks are written first under
ids that contain the hash, then the registry record switches to them, then the
old chunks are deleted. A run killed anywhere leaves at worst orphan chunks,
which are invisible to search and removed by ``repair`` at the next run.

Every search reads the registry (to hide chunks no record names). An embedded store
keeps it in memory and re-reads it only when ``registry.version``, a small file the
writers replace after each registry change, says it changed, in this process or another.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import chromadb
import numpy as np

from assistant.corpus import DocumentRecord
from assistant.types import Chunk, Document

log = logging.getLogger(__name__)

_PAGE = 2000  # records per Chroma get() call
_CHUNK_FIELDS = ("doc_id", "chunk_index", "start", "end", "page", "heading")


class DocumentRegistry(Protocol):
    """The indexed documents as readers see them (the Documents page, the document route, the card store)."""

    def documents(self) -> dict[str, DocumentRecord]: ...
    def document_text(self, doc_id: str) -> str | None: ...


class PassageIndex(Protocol):
    """The searchable passages."""

    def query(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[tuple[Chunk, float]]: ...
    def get_chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]: ...
    def iter_chunks(self) -> Iterator[Chunk]: ...
    def chunk_count(self) -> int: ...


class ChunkStore(DocumentRegistry, PassageIndex, Protocol):
    """Both, plus the writes only the synchroniser and the indexer make."""

    def put_document(
        self, document: Document, content_hash: str, chunks: Sequence[Chunk], vectors: np.ndarray
    ) -> None: ...
    def set_metadata(self, doc_id: str, metadata: dict[str, Any]) -> None: ...
    def delete_document(self, doc_id: str) -> None: ...
    def repair(self) -> int: ...


def registry_fingerprint(records: dict[str, DocumentRecord]) -> str:
    """Changes whenever a document is added, changed or removed."""
    lines = sorted(f"{r.doc_id}:{r.content_hash}" for r in records.values())
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _to_metadata(chunk: Chunk, content_hash: str) -> dict[str, Any]:
    meta = {k: v for k, v in chunk.metadata.items() if v is not None and k not in _CHUNK_FIELDS}
    meta.update(
        doc_id=chunk.doc_id,
        content_hash=content_hash,
        chunk_index=chunk.index,
        start=chunk.start,
        end=chunk.end,
        heading=chunk.heading,
    )
    if chunk.page is not None:
        meta["page"] = chunk.page
    return meta


def _to_chunk(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    heading = str(meta.get("heading", ""))
    return Chunk(
        chunk_id=chunk_id,
        doc_id=str(meta["doc_id"]),
        index=int(meta["chunk_index"]),
        text=text,
        start=int(meta["start"]),
        end=int(meta["end"]),
        page=int(meta["page"]) if "page" in meta else None,
        heading_path=tuple(heading.split(" > ")) if heading else (),
        metadata={k: v for k, v in meta.items() if k not in _CHUNK_FIELDS},
    )


def _read_version(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""  # no write yet


class ChromaChunkStore:
    """Chunks (with our own embeddings: Chroma never embeds) plus the document registry."""

    def __init__(
        self, client: chromadb.api.ClientAPI, collection: str = "chunks", version_file: Path | None = None
    ) -> None:
        self._client = client
        self._version_file = version_file  # None (a server store): the registry is read at every call
        self._cached: tuple[str, dict[str, DocumentRecord]] | None = None
        # embedding_function=None: Chroma's default would download a model at run time
        self._chunks = client.get_or_create_collection(
            collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )
        self._registry = client.get_or_create_collection(f"{collection}-documents", embedding_function=None)

    @classmethod
    def persistent(cls, path: Path, collection: str = "chunks") -> ChromaChunkStore:
        path.mkdir(parents=True, exist_ok=True)
        settings = chromadb.config.Settings(anonymized_telemetry=False)
        client = chromadb.PersistentClient(path=str(path), settings=settings)
        return cls(client, collection, version_file=path / f"{collection}-registry.version")

    @classmethod
    def remote(cls, host: str, port: int, collection: str = "chunks") -> ChromaChunkStore:
        settings = chromadb.config.Settings(anonymized_telemetry=False)
        return cls(chromadb.HttpClient(host=host, port=port, settings=settings), collection)

    # registry
    def documents(self) -> dict[str, DocumentRecord]:
        if self._version_file is None:
            return self._read_documents()
        version = _read_version(self._version_file)
        cached = self._cached
        if cached is None or cached[0] != version:
            cached = self._cached = (version, self._read_documents())
        return dict(cached[1])

    def _registry_changed(self) -> None:
        """Called after each registry write: readers here and in other processes read it again."""
        self._cached = None
        if self._version_file is not None:
            tmp = self._version_file.with_name(f"{self._version_file.name}.{os.getpid()}.tmp")
            tmp.write_text(uuid.uuid4().hex, encoding="utf-8")
            os.replace(tmp, self._version_file)

    def _read_documents(self) -> dict[str, DocumentRecord]:
        records: dict[str, DocumentRecord] = {}
        offset = 0
        while True:
            page = self._registry.get(include=["metadatas"], limit=_PAGE, offset=offset)
            for doc_id, meta in zip(page["ids"], page["metadatas"], strict=True):
                meta = dict(meta)
                records[doc_id] = DocumentRecord(
                    doc_id, str(meta.pop("content_hash")), int(meta.pop("chunk_count")), meta
                )
            if len(page["ids"]) < _PAGE:
                return records
            offset += _PAGE

    def document_text(self, doc_id: str) -> str | None:
        found = self._registry.get(ids=[doc_id], include=["documents"])
        return found["documents"][0] if found["ids"] else None

    def put_document(self, document: Document, content_hash: str, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Write chunks, then switch the registry to them, then drop the previous version's chunks."""
        if chunks:
            for start in range(0, len(chunks), _PAGE):
                part = chunks[start : start + _PAGE]
                self._chunks.upsert(
                    ids=[c.chunk_id for c in part],
                    embeddings=vectors[start : start + _PAGE],
                    documents=[c.text for c in part],
                    metadatas=[_to_metadata(c, content_hash) for c in part],
                )
        meta = {k: v for k, v in document.metadata.items() if v is not None}
        meta.update(
            content_hash=content_hash,
            chunk_count=len(chunks),
            ingested_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        previous = self.documents().get(document.doc_id)
        if previous is not None:  # Chroma's upsert merges metadata: a key the new version lacks is deleted
            meta.update({key: None for key in previous.metadata if key not in meta})
        self._registry.upsert(ids=[document.doc_id], embeddings=[[1.0]], documents=[document.text], metadatas=[meta])
        self._registry_changed()
        # a record without passages (a copy of another document) keeps none, even under the same content hash
        same_document = {"doc_id": document.doc_id}
        where = {"$and": [same_document, {"content_hash": {"$ne": content_hash}}]} if chunks else same_document
        stale = self._chunks.get(where=where, include=[])["ids"]
        if stale:
            self._chunks.delete(ids=stale)

    def set_metadata(self, doc_id: str, metadata: dict[str, Any]) -> None:
        """Replace a record's metadata (its passages, text and content hash kept); no-op for an unknown id."""
        previous = self.documents().get(doc_id)
        if previous is None:
            return
        meta = {k: v for k, v in metadata.items() if v is not None and k not in ("content_hash", "chunk_count")}
        meta.update({key: None for key in previous.metadata if key not in meta})
        meta.update(content_hash=previous.content_hash, chunk_count=previous.chunk_count)
        self._registry.update(ids=[doc_id], metadatas=[meta])
        self._registry_changed()

    def delete_document(self, doc_id: str) -> None:
        # registry first: the document disappears from search at once, chunks follow
        self._registry.delete(ids=[doc_id])
        self._registry_changed()
        self._chunks.delete(where={"doc_id": doc_id})

    def repair(self) -> int:
        """Delete chunks that no registry record points to (left by an interrupted run)."""
        current = {r.doc_id: r.content_hash for r in self.documents().values()}
        orphans = [
            c.chunk_id
            for c in self.iter_chunks(visible_only=False)
            if current.get(c.doc_id) != c.metadata.get("content_hash")
        ]
        for start in range(0, len(orphans), _PAGE):
            self._chunks.delete(ids=orphans[start : start + _PAGE])
        if orphans:
            log.info("removed %d orphan chunks left by an interrupted ingest", len(orphans))
        return len(orphans)

    # chunks
    def chunk_count(self) -> int:
        return self._chunks.count()

    def _visible(self, chunks: list[Chunk], registry: dict[str, DocumentRecord] | None = None) -> list[Chunk]:
        registry = self.documents() if registry is None else registry
        return [
            c
            for c in chunks
            if c.doc_id in registry and registry[c.doc_id].content_hash == c.metadata.get("content_hash")
        ]

    def iter_chunks(self, visible_only: bool = True) -> Iterator[Chunk]:
        registry = self.documents() if visible_only else None
        offset = 0
        while True:
            page = self._chunks.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
            chunks = [
                _to_chunk(i, t, m) for i, t, m in zip(page["ids"], page["documents"], page["metadatas"], strict=True)
            ]
            yield from (self._visible(chunks, registry) if visible_only else chunks)
            if len(page["ids"]) < _PAGE:
                return
            offset += _PAGE

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        if not chunk_ids:
            return []
        found = self._chunks.get(ids=list(dict.fromkeys(chunk_ids)), include=["documents", "metadatas"])
        by_id = {
            i: _to_chunk(i, t, m) for i, t, m in zip(found["ids"], found["documents"], found["metadatas"], strict=True)
        }
        return self._visible([by_id[i] for i in chunk_ids if i in by_id])

    def query(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[tuple[Chunk, float]]:
        """Nearest visible chunks with cosine similarity (1 - distance)."""
        total = self._chunks.count()
        if total == 0:
            return []
        result = self._chunks.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=min(k, total),
            where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        chunks = [
            _to_chunk(i, t, m)
            for i, t, m in zip(result["ids"][0], result["documents"][0], result["metadatas"][0], strict=True)
        ]
        similarity = {i: 1.0 - d for i, d in zip(result["ids"][0], result["distances"][0], strict=True)}
        return [(c, similarity[c.chunk_id]) for c in self._visible(chunks)]
