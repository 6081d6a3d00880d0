"""Writes to the index from several processes: a repair never deletes the passages another writer is storing.

``ChunkStore.repair`` deletes chunks no registry record names. A document being stored has exactly such
chunks between their write and the registry's switch to them, so a repair run by another process (an
ingest worker starting a job, the interface re-indexing a document) could delete them. Writes therefore
take a shared lock on a file of the data folder and a repair an exclusive one: writers go side by side,
a repair waits for the writes under way and holds the next ones back. ``fcntl.flock`` locks are released
by the system when their process dies, so a worker killed mid-write never leaves the index locked.
The processes must share a local data folder (as huey's SQLite queue requires anyway).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from assistant.backends.store import ChunkStore
from assistant.types import Chunk, Document


class WriterLockedStore:
    """``inner`` with its writes under the data folder's writer lock; reads go straight through."""

    def __init__(self, inner: ChunkStore, lock_path: Path) -> None:
        self.inner = inner
        self.lock_path = lock_path

    def __getattr__(self, name: str) -> Any:  # documents, query, iter_chunks… unchanged
        return getattr(self.inner, name)

    @contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, mode)
            yield
        finally:
            os.close(fd)  # releases the lock

    def put_document(self, document: Document, content_hash: str, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        with self._locked(fcntl.LOCK_SH):
            self.inner.put_document(document, content_hash, chunks, vectors)

    def set_metadata(self, doc_id: str, metadata: dict[str, Any]) -> None:
        with self._locked(fcntl.LOCK_SH):
            self.inner.set_metadata(doc_id, metadata)

    def delete_document(self, doc_id: str) -> None:
        with self._locked(fcntl.LOCK_SH):
            self.inner.delete_document(doc_id)

    def repair(self) -> int:
        with self._locked(fcntl.LOCK_EX):
            return self.inner.repair()
