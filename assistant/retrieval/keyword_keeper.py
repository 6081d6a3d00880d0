"""Keeping the keyword index equal to the store's visible passages, for one process or many.

The writer (whoever changed the store, through :class:`~assistant.indexing.Indexer`) calls
:meth:`KeywordIndexKeeper.refresh`: the documents added, changed or removed since the last save go
into the delta segment (see :mod:`assistant.retrieval.keyword_segments`), which costs those documents
only; the base is rebuilt whole only when the delta has grown past its bound, after the delta is
saved. Each save stamps ``<folder>.version`` with the registry's fingerprint; readers poll that
small file, never the index itself.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from assistant.backends.store import ChunkStore, registry_fingerprint
from assistant.retrieval.french import analyze
from assistant.retrieval.keyword_segments import Delta, DeltaPassage, SegmentedIndex, plan_refresh
from assistant.retrieval.lexical import KeywordIndex
from assistant.retrieval.windows import keyword_texts
from assistant.types import Chunk

log = logging.getLogger(__name__)


def _row_metadata(chunk: Chunk) -> dict:
    # the document and version of each passage: what the delta masks and what a refresh compares
    return {**chunk.metadata, "doc_id": chunk.doc_id}


class KeywordIndexKeeper:
    """Keeps the persisted keyword index (base + delta) equal to the store's visible chunks.

    With ``background`` (several processes sharing one index: web workers beside an ingest worker), a
    query is never held by a refresh: while the store has changed, the index in memory keeps answering
    and the one the writer saved is loaded aside, then swapped in.
    """

    def __init__(
        self, store: ChunkStore, directory: Path, *, k1: float = 1.5, b: float = 0.75, background: bool = False
    ) -> None:
        self.store = store
        self.directory = directory
        self.k1, self.b = k1, b
        self.background = background
        self._index: SegmentedIndex | None = None
        # the app answers questions while an upload is being indexed: one writer at a time
        self._lock = threading.RLock()
        self._loading = threading.Lock()  # one load aside at a time

    @property
    def version_file(self) -> Path:
        return self.directory.with_name(self.directory.name + ".version")

    @property
    def delta_file(self) -> Path:
        return self.directory.with_name(self.directory.name + ".delta.json")

    def saved_fingerprint(self) -> str | None:
        """The fingerprint of the index last saved (by any process); None when none is stamped."""
        try:
            return self.version_file.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def current(self) -> SegmentedIndex:
        """The index matching the store now, loading or refreshing it when the store has changed.

        In ``background`` mode, the index in memory while a newer one is loaded aside (or until the
        writer has saved it): never a wait, except the first load of the process.
        """
        fingerprint = self.store.fingerprint()
        index = self._index
        if index is not None and index.fingerprint == fingerprint:
            return index
        if index is not None and self.background:
            saved = self.saved_fingerprint()
            if saved is not None and saved != index.fingerprint:
                self._load_aside()
            return index
        with self._lock:
            if self._index is not None and self._index.fingerprint == fingerprint:
                return self._index
            loaded = self._load(self._index)
            # a reader beside a writer takes what the writer saved, even mid-job: its refresh comes
            if loaded is None or (loaded.fingerprint != fingerprint and not self.background):
                loaded = self.refresh(loaded)
            self._index = loaded
            return loaded

    def _load(self, known: SegmentedIndex | None) -> SegmentedIndex | None:
        """The saved base and delta; the base in memory is kept when the delta still applies to it."""
        delta = Delta.load(self.delta_file)
        base = known.base if known is not None and delta and known.base.fingerprint == delta.base_fingerprint else None
        if base is None:
            base = KeywordIndex.load(self.directory) if self.directory.exists() else None
        if base is None or base.params not in (None, (self.k1, self.b)):
            return None
        if delta is None or delta.base_fingerprint != base.fingerprint:
            delta = Delta(base.fingerprint, base.fingerprint)  # a base saved without its delta yet
        return SegmentedIndex(base, delta, self.k1, self.b)

    def _load_aside(self) -> None:
        if not self._loading.acquire(blocking=False):
            return  # already loading

        def load() -> None:
            try:
                loaded = self._load(self._index)
                if loaded is not None:
                    self._index = loaded  # the swap: one reference assignment
                    log.info(
                        "keyword index reloaded: %d chunks (%d in the delta)", len(loaded), len(loaded.delta.passages)
                    )
            finally:
                self._loading.release()

        threading.Thread(target=load, name="keyword-index-load", daemon=True).start()

    def refresh(self, known: SegmentedIndex | None = None) -> SegmentedIndex:
        """Bring the saved index in line with the store: the changed documents into the delta, the base
        rebuilt when there is none or the delta has outgrown it. Returns the index, also kept in memory."""
        with self._lock:
            # from what was saved last, by this process or another (a web worker's removal, a compaction)
            known = self._load(known or self._index)
            if known is None:
                return self.rebuild()
            records = self.store.documents()
            fingerprint = registry_fingerprint(records)
            plan = plan_refresh(known.documents(), {d: r.content_hash for d, r in records.items()})
            touched = set(plan.changed) | set(plan.removed)
            chunks = sorted(self.store.document_chunks(plan.changed), key=lambda c: c.chunk_id)
            kept = [p for p in known.delta.passages if p.doc_id not in touched]
            added = [
                DeltaPassage(
                    c.chunk_id, c.doc_id, c.metadata.get("content_hash", ""), tuple(analyze(t)), _row_metadata(c)
                )
                for c, t in zip(chunks, keyword_texts(chunks), strict=True)
            ]
            in_base = {m.get("doc_id") for m in known.base.metadatas}
            masked = known.delta.masked | (touched & in_base)
            delta = Delta(known.base.fingerprint, fingerprint, tuple(kept + added), frozenset(masked))
            index = SegmentedIndex(known.base, delta, self.k1, self.b)
            self._publish(index)
            log.info(
                "keyword index refreshed: %d document(s) changed, %d removed", len(plan.changed), len(plan.removed)
            )
            if index.needs_compaction():
                index = self.rebuild(fingerprint)
            return index

    def rebuild(self, fingerprint: str | None = None) -> SegmentedIndex:
        """Build the base whole from the store's passages (compaction), with an empty delta."""
        with self._lock:
            fingerprint = fingerprint or self.store.fingerprint()
            started = time.perf_counter()
            # in id order: the same index, whatever order the store returns its chunks in
            chunks = sorted(self.store.iter_chunks(), key=lambda c: c.chunk_id)
            read_s = time.perf_counter() - started
            base = KeywordIndex.build(
                [c.chunk_id for c in chunks],
                keyword_texts(chunks),
                fingerprint,
                [_row_metadata(c) for c in chunks],
                k1=self.k1,
                b=self.b,
            )
            base.save(self.directory)
            index = SegmentedIndex(base, Delta(fingerprint, fingerprint), self.k1, self.b)
            self._publish(index)
            log.info(
                "keyword index rebuilt: %d chunks (read from the store in %.1f s, built and saved in %.1f s)",
                len(index),
                read_s,
                time.perf_counter() - started - read_s,
            )
            return index

    def _publish(self, index: SegmentedIndex) -> None:
        """Save the delta, then stamp the version: readers see the old stamp or the new one, whole."""
        index.delta.save(self.delta_file)
        stamp = self.version_file.with_name(f"{self.version_file.name}.{os.getpid()}")
        stamp.write_text(index.fingerprint, encoding="utf-8")
        os.replace(stamp, self.version_file)
        self._index = index
