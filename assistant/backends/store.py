"""Chunk store on Chroma (embedded PersistentClient or a ``chroma run`` server).

Crash safety comes from one rule: a document's chunks are searchable only when
the document registry (a second collection, one record per document, written
in a single upsert) names their content hash. New chunks are written first under
ids that contain the hash, then the registry record switches to them, then the
old chunks are deleted. A run killed anywhere leaves at worst orphan chunks,
which are invisible to search and removed by ``repair`` at the next run.

A third collection names the documents being written (one entry per write, removed once the old
chunks are gone), so a repair looks only at those: its cost is that of the interrupted writes, not of
the index (a full scan, :meth:`ChromaChunkStore.repair_everything`, remains for older indexes).

Every search reads the registry (to hide chunks no record names). The store keeps it in memory
and re-reads it only when ``registry.version``, a small file the writers replace after each
registry change, says it changed, in this process or another: beside the embedded database, or
in the data folder the processes sharing a Chroma server share.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import chromadb
import numpy as np

from assistant.backends.unreachable import guarded
from assistant.corpus import DocumentRecord
from assistant.types import Chunk, Document

log = logging.getLogger(__name__)

_PAGE = 2000  # records per Chroma get() call
_CHUNK_FIELDS = ("doc_id", "chunk_index", "start", "end", "page", "heading")


class DocumentRegistry(Protocol):
    """The indexed documents as readers see them (the Documents page, the document route, the card store)."""

    def documents(self) -> dict[str, DocumentRecord]: ...
    def fingerprint(self) -> str: ...
    def document_text(self, doc_id: str) -> str | None: ...


class PassageIndex(Protocol):
    """The searchable passages."""

    def query(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[tuple[Chunk, float]]: ...
    def get_chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]: ...
    def iter_chunks(self) -> Iterator[Chunk]: ...
    def document_chunks(self, doc_ids: Sequence[str]) -> list[Chunk]: ...
    def chunk_count(self) -> int: ...


class ChunkStore(DocumentRegistry, PassageIndex, Protocol):
    """Both, plus the writes only the synchroniser and the indexer make."""

    def put_document(
        self, document: Document, content_hash: str, chunks: Sequence[Chunk], vectors: np.ndarray
    ) -> None: ...
    def set_metadata(self, doc_id: str, metadata: dict[str, Any]) -> None: ...
    def delete_document(self, doc_id: str) -> None: ...
    def repair(self) -> int: ...


@dataclass(frozen=True)
class NewDocument:
    """A document to load in bulk: its registry entry, its passages and their vectors (one row per passage)."""

    document: Document
    content_hash: str
    chunks: Sequence[Chunk]
    vectors: np.ndarray


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


def _put_record(doc_id: str, written: dict[str, Any]) -> Callable[[dict[str, DocumentRecord]], None]:
    """The change a registry write makes to the records, as :meth:`ChromaChunkStore.documents` reads them
    back (a key written as None is deleted)."""
    meta = {k: v for k, v in written.items() if v is not None}
    record = DocumentRecord(doc_id, str(meta.pop("content_hash")), int(meta.pop("chunk_count")), meta)
    return lambda records: records.__setitem__(doc_id, record)


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
        self._version_file = version_file  # None: the registry is read at every call
        self._cached: tuple[str, dict[str, DocumentRecord]] | None = None
        self._fingerprint: tuple[str, str] | None = None  # (registry version, its fingerprint)
        # embedding_function=None: Chroma's default would download a model at run time
        self._chunks = client.get_or_create_collection(
            collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )
        self._registry = client.get_or_create_collection(f"{collection}-documents", embedding_function=None)
        self._pending = client.get_or_create_collection(f"{collection}-pending", embedding_function=None)

    @classmethod
    def persistent(cls, path: Path, collection: str = "chunks") -> ChromaChunkStore:
        path.mkdir(parents=True, exist_ok=True)
        settings = chromadb.config.Settings(anonymized_telemetry=False)
        client = chromadb.PersistentClient(path=str(path), settings=settings)
        return cls(client, collection, version_file=path / f"{collection}-registry.version")

    @classmethod
    def remote(
        cls, host: str, port: int, collection: str = "chunks", version_file: Path | None = None
    ) -> ChromaChunkStore:
        """A store on a ``chroma run`` server. ``version_file`` (in a folder every writer shares) lets readers
        keep the registry in memory until a writer stamps a change; without it, every read asks the server."""
        settings = chromadb.config.Settings(anonymized_telemetry=False)
        store = cls(chromadb.HttpClient(host=host, port=port, settings=settings), collection, version_file)
        # the server may go away later (restart, network): callers then see IndexUnavailable, one error type
        address = f"{host}:{port}"
        store._chunks, store._registry, store._pending = (
            guarded(c, address) for c in (store._chunks, store._registry, store._pending)
        )
        return store

    # registry
    def documents(self) -> dict[str, DocumentRecord]:
        if self._version_file is None:
            return self._read_documents()
        version = _read_version(self._version_file)
        cached = self._cached
        if cached is None or cached[0] != version:
            cached = self._cached = (version, self._read_documents())
        return dict(cached[1])

    def fingerprint(self) -> str:
        """:func:`registry_fingerprint` of the registry, computed once per registry version (each question
        compares it with the keyword index's: hashing 50,000 records costs tens of milliseconds)."""
        if self._version_file is None:
            return registry_fingerprint(self._read_documents())
        version = _read_version(self._version_file)
        known = self._fingerprint
        if known is None or known[0] != version:
            # records read after the version: if a writer stamps in between, the next call computes again
            known = self._fingerprint = (version, registry_fingerprint(self.documents()))
        return known[1]

    def _registry_changed(self, update: Callable[[dict[str, DocumentRecord]], None] | None = None) -> None:
        """Called after each registry write: readers in other processes read it again. This process applies
        ``update`` (its own write) to the registry it holds, when no other writer stamped a change since it
        read it: re-reading 53,000 records after each document stored cost the indexer 8 s per document."""
        cached, self._cached = self._cached, None
        if self._version_file is None:
            return
        seen = _read_version(self._version_file)
        version = uuid.uuid4().hex
        tmp = self._version_file.with_name(f"{self._version_file.name}.{os.getpid()}.tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)  # a server store's data folder may not exist yet
        tmp.write_text(version, encoding="utf-8")
        os.replace(tmp, self._version_file)
        if update is not None and cached is not None and cached[0] == seen:
            records = dict(cached[1])  # a new dict: a reader in another thread may be copying the old one
            update(records)
            self._cached = (version, records)

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
        self._mark_pending([document.doc_id])
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
        # one record read, not the registry: a write costs the same in a small index and a large one
        previous = self._registry.get(ids=[document.doc_id], include=["metadatas"])["metadatas"]
        if previous:  # Chroma's upsert merges metadata: a key the new version lacks is deleted
            meta.update({key: None for key in previous[0] if key not in meta})
        self._registry.upsert(ids=[document.doc_id], embeddings=[[1.0]], documents=[document.text], metadatas=[meta])
        self._registry_changed(_put_record(document.doc_id, meta))
        # a record without passages (a copy of another document) keeps none, even under the same content hash
        same_document = {"doc_id": document.doc_id}
        where = {"$and": [same_document, {"content_hash": {"$ne": content_hash}}]} if chunks else same_document
        stale = self._chunks.get(where=where, include=[])["ids"]
        if stale:
            self._chunks.delete(ids=stale)
        self._pending.delete(ids=[document.doc_id])

    def _mark_pending(self, doc_ids: Sequence[str]) -> None:
        """Name documents about to be written: a write killed before its end is repaired from this list."""
        for start in range(0, len(doc_ids), _PAGE):
            part = list(doc_ids[start : start + _PAGE])
            self._pending.upsert(ids=part, embeddings=[[1.0]] * len(part), metadatas=[{"pid": os.getpid()}] * len(part))

    def load_new_documents(self, documents: Sequence[NewDocument]) -> None:
        """Add documents the store does not hold yet, many per call (a migration, a benchmark's index).

        Unlike :meth:`put_document`, there is no previous version to replace, so the registry is read
        once per call instead of once per document: loading a large index stays linear in its size.
        Passages first, registry last, so an interrupted load leaves only invisible orphans.
        """
        self._mark_pending([d.document.doc_id for d in documents])
        chunks = [c for d in documents for c in d.chunks]
        metadatas = [_to_metadata(c, d.content_hash) for d in documents for c in d.chunks]
        vectors = np.concatenate([d.vectors for d in documents]) if chunks else None
        for start in range(0, len(chunks), _PAGE):
            part = chunks[start : start + _PAGE]
            self._chunks.add(
                ids=[c.chunk_id for c in part],
                embeddings=vectors[start : start + _PAGE],
                documents=[c.text for c in part],
                metadatas=metadatas[start : start + _PAGE],
            )
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for start in range(0, len(documents), _PAGE):
            part = documents[start : start + _PAGE]
            self._registry.add(
                ids=[d.document.doc_id for d in part],
                embeddings=[[1.0]] * len(part),
                documents=[d.document.text for d in part],
                metadatas=[
                    {
                        **{k: v for k, v in d.document.metadata.items() if v is not None},
                        "content_hash": d.content_hash,
                        "chunk_count": len(d.chunks),
                        "ingested_at": now,
                    }
                    for d in part
                ],
            )
        self._registry_changed()
        for start in range(0, len(documents), _PAGE):
            self._pending.delete(ids=[d.document.doc_id for d in documents[start : start + _PAGE]])

    def set_metadata(self, doc_id: str, metadata: dict[str, Any]) -> None:
        """Replace a record's metadata (its passages, text and content hash kept); no-op for an unknown id."""
        previous = self.documents().get(doc_id)
        if previous is None:
            return
        meta = {k: v for k, v in metadata.items() if v is not None and k not in ("content_hash", "chunk_count")}
        meta.update({key: None for key in previous.metadata if key not in meta})
        meta.update(content_hash=previous.content_hash, chunk_count=previous.chunk_count)
        self._registry.update(ids=[doc_id], metadatas=[meta])
        self._registry_changed(_put_record(doc_id, meta))

    def delete_document(self, doc_id: str) -> None:
        # registry first: the document disappears from search at once, chunks follow
        self._mark_pending([doc_id])
        self._registry.delete(ids=[doc_id])
        self._registry_changed(lambda records: records.pop(doc_id, None))
        self._chunks.delete(where={"doc_id": doc_id})
        self._pending.delete(ids=[doc_id])

    def repair(self) -> int:
        """Delete the chunks interrupted writes left behind (those of documents still marked pending).

        Run before a sync; with several writers, under the writer lock's exclusive side (no write under way)."""
        pending = self._pending.get(include=[])["ids"]
        if not pending:
            return 0
        current = self._current_hashes(pending)
        orphans: list[str] = []
        for start in range(0, len(pending), 100):
            found = self._chunks.get(where={"doc_id": {"$in": pending[start : start + 100]}}, include=["metadatas"])
            orphans += [
                i
                for i, m in zip(found["ids"], found["metadatas"], strict=True)
                if current.get(str(m["doc_id"])) != m.get("content_hash")
            ]
        for start in range(0, len(orphans), _PAGE):
            self._chunks.delete(ids=orphans[start : start + _PAGE])
        self._pending.delete(ids=pending)
        if orphans:
            log.info("removed %d orphan chunks left by an interrupted ingest", len(orphans))
        return len(orphans)

    def _current_hashes(self, doc_ids: Sequence[str]) -> dict[str, str]:
        found = self._registry.get(ids=list(doc_ids), include=["metadatas"])
        return {i: str(m["content_hash"]) for i, m in zip(found["ids"], found["metadatas"], strict=True)}

    def repair_everything(self) -> int:
        """Delete every chunk that no registry record points to: a scan of the whole index (an index written
        before pending writes were recorded; :meth:`repair` covers the others)."""
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
        """Every visible chunk (with ``visible_only=False``, orphans too), document by document.

        Visible chunks are read by batches of documents: Chroma's offset paging costs more the further
        the page (51 s against 29 s for 100,000 passages)."""
        if visible_only:
            registry = self.documents()
            doc_ids = list(registry)
            for start in range(0, len(doc_ids), 100):
                yield from self._chunks_of(doc_ids[start : start + 100], registry)
            return
        offset = 0
        while True:
            page = self._chunks.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
            chunks = [
                _to_chunk(i, t, m) for i, t, m in zip(page["ids"], page["documents"], page["metadatas"], strict=True)
            ]
            yield from chunks
            if len(page["ids"]) < _PAGE:
                return
            offset += _PAGE

    def document_chunks(self, doc_ids: Sequence[str]) -> list[Chunk]:
        """The visible passages of these documents: a keyword refresh reads what changed, not the index."""
        registry = self.documents()
        ids = [d for d in dict.fromkeys(doc_ids) if d in registry]
        return [c for start in range(0, len(ids), 100) for c in self._chunks_of(ids[start : start + 100], registry)]

    def _chunks_of(self, doc_ids: list[str], registry: dict[str, DocumentRecord]) -> list[Chunk]:
        found = self._chunks.get(where={"doc_id": {"$in": doc_ids}}, include=["documents", "metadatas"])
        page = [
            _to_chunk(i, t, m) for i, t, m in zip(found["ids"], found["documents"], found["metadatas"], strict=True)
        ]
        return self._visible(page, registry)

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
        # no count() first (~10 ms at 10,000 passages): Chroma returns what it holds when asked for more
        result = self._chunks.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=k,
            where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        chunks = [
            _to_chunk(i, t, m)
            for i, t, m in zip(result["ids"][0], result["documents"][0], result["metadatas"][0], strict=True)
        ]
        similarity = {i: 1.0 - d for i, d in zip(result["ids"][0], result["distances"][0], strict=True)}
        return [(c, similarity[c.chunk_id]) for c in self._visible(chunks)]
