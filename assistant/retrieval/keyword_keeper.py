"""Keeping the keyword index equal to the store's visible passages, for one process or many.

The writer (whoever changed the store, through :class:`~assistant.indexing.Indexer`) calls
:meth:`KeywordIndexKeeper.refresh`: the documents added, changed or removed since the last save go
into the delta segment (see :mod:`assistant.retrieval.keyword_segments`), which costs those documents
only. When the delta has grown past its bound, the base is compacted in a thread of the writer (one
that added passages: a removal only masks), from the terms saved beside it (see :mod:`assistant.retrieval.keyword_compaction`): the refresh returns at
once, and the new base is published with the delta that arrived meanwhile rebased on it. Each save
stamps ``<folder>.version`` with the registry's fingerprint and the base's; readers poll that small
file, never the index itself. Writers in several processes (an ingest worker, a web worker removing a
document) publish one at a time, under a lock file beside the index.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.backends.store import ChunkStore, registry_fingerprint
from assistant.retrieval.french import analyze
from assistant.retrieval.keyword_compaction import fold_delta, rebase
from assistant.retrieval.keyword_segments import Delta, DeltaPassage, SegmentedIndex, plan_refresh
from assistant.retrieval.keyword_terms import AnalysedTerms
from assistant.retrieval.lexical import KeywordIndex
from assistant.retrieval.windows import keyword_texts
from assistant.types import Chunk

log = logging.getLogger(__name__)


def _row_metadata(chunk: Chunk) -> dict:
    # the document and version of each passage: what the delta masks and what a refresh compares
    return {**chunk.metadata, "doc_id": chunk.doc_id}


def _stamp(index: SegmentedIndex) -> str:
    """What ``<folder>.version`` holds: the registry's fingerprint, then the base's (a compaction changes only
    the base, and readers must see it to swap)."""
    return f"{index.fingerprint}\n{index.base.fingerprint}"


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
        self._file_locked = False  # this process holds the lock file (under self._lock)
        self._loading = threading.Lock()  # one load aside at a time
        self._compaction: threading.Thread | None = None

    @property
    def version_file(self) -> Path:
        return self.directory.with_name(self.directory.name + ".version")

    @property
    def delta_file(self) -> Path:
        return self.directory.with_name(self.directory.name + ".delta.json")

    @property
    def lock_file(self) -> Path:
        return self.directory.with_name(self.directory.name + ".lock")

    def _saved_stamp(self) -> str | None:
        try:
            return self.version_file.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def saved_fingerprint(self) -> str | None:
        """The registry fingerprint of the index last saved (by any process); None when none is stamped."""
        stamp = self._saved_stamp()
        return stamp.splitlines()[0] if stamp else None

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One writer at a time: among this process's threads, and among processes (``flock`` on the lock
        file, released by the system if the process dies). Re-entrant within a thread."""
        with self._lock:
            if self._file_locked:
                yield
                return
            self.lock_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._file_locked = True
                yield
            finally:
                self._file_locked = False
                os.close(fd)  # closing releases the lock

    def current(self) -> SegmentedIndex:
        """The index matching the store now, loading or refreshing it when the store has changed.

        In ``background`` mode, the index in memory while a newer one is loaded aside (or until the
        writer has saved it): never a wait, except the first load of the process.
        """
        fingerprint = self.store.fingerprint()
        index = self._index
        # up to date, unless a writer has compacted the delta this index still carries into a new base
        compactable = self.background and index is not None and index.changed_passages > 0
        if index is not None and index.fingerprint == fingerprint and not compactable:
            return index
        if index is not None and self.background:
            saved = self._saved_stamp()
            # a stamp of one line (an index saved before bases were stamped) names the registry only
            if saved is not None and not _stamp(index).startswith(saved):
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

    def _load(self, known: SegmentedIndex | None, *, whole: bool = False) -> SegmentedIndex | None:
        """The saved base and delta; the base in memory is kept when the delta still applies to it.

        With ``whole``, None when the delta on disk belongs to another base: a writer is between saving a new
        base and saving its delta, and a reader keeps what it has rather than lose the changes in that delta.
        """
        delta = Delta.load(self.delta_file)
        base = known.base if known is not None and delta and known.base.fingerprint == delta.base_fingerprint else None
        if base is None:
            base = KeywordIndex.load(self.directory) if self.directory.exists() else None
        if base is None or base.params not in (None, (self.k1, self.b)):
            return None
        if delta is None or delta.base_fingerprint != base.fingerprint:
            if whole and delta is not None:
                return None
            delta = Delta(base.fingerprint, base.fingerprint)  # a base saved without its delta yet
        return SegmentedIndex(base, delta, self.k1, self.b)

    def _load_aside(self) -> None:
        if not self._loading.acquire(blocking=False):
            return  # already loading

        def load() -> None:
            try:
                loaded = self._load(self._index, whole=True)
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
        rebuilt when there is none, compacted aside when the delta has outgrown it. Returns the index, also
        kept in memory."""
        with self._writing():
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
            # a removal only masks (a weight of 0): its writer, often a web worker answering a request, leaves the
            # compaction to the next writer that adds passages (the ingest worker), rather than carry a second base
            if index.needs_compaction() and plan.changed:
                self._compact_aside()
            return index

    def rebuild(self, fingerprint: str | None = None) -> SegmentedIndex:
        """Build the base whole from the store's passages, with an empty delta (a first index, or one analysed
        otherwise); the writer waits for it."""
        with self._writing():
            base, terms = self._base_from_store(fingerprint or self.store.fingerprint())
            base.save(self.directory, terms)
            index = SegmentedIndex(base, Delta(base.fingerprint, base.fingerprint), self.k1, self.b)
            self._publish(index)
            return index

    def _base_from_store(self, fingerprint: str) -> tuple[KeywordIndex, AnalysedTerms]:
        started = time.perf_counter()
        # in id order: the same index, whatever order the store returns its chunks in
        chunks = sorted(self.store.iter_chunks(), key=lambda c: c.chunk_id)
        read_s = time.perf_counter() - started
        terms = [analyze(t) for t in keyword_texts(chunks)]
        base = KeywordIndex.from_terms(
            [c.chunk_id for c in chunks], terms, fingerprint, [_row_metadata(c) for c in chunks], k1=self.k1, b=self.b
        )
        log.info(
            "keyword base built from the store: %d chunks (read in %.1f s, analysed and indexed in %.1f s)",
            len(base),
            read_s,
            time.perf_counter() - started - read_s,
        )
        return base, AnalysedTerms.of(fingerprint, terms)

    def compact(self) -> SegmentedIndex:
        """Fold the delta into a new base, then publish it with the delta saved meanwhile rebased on it.

        The fold runs without holding the writers' lock (refreshes go on); only the rebase and the save
        take it. From the base's saved terms when they match it, else from the store (a base saved before
        terms were kept). Returns the published index.
        """
        with self._writing():
            snapshot = self._load(self._index)
        if snapshot is None:
            return self.rebuild()
        started = time.perf_counter()
        terms = self._saved_terms(snapshot.base)
        if terms is not None:
            rows = fold_delta(
                snapshot.base.chunk_ids, snapshot.base.metadatas, terms, snapshot.delta, snapshot.fingerprint
            )
            terms = rows.terms
            base = KeywordIndex.from_terms(
                rows.chunk_ids, terms.all_passages(), snapshot.fingerprint, rows.metadatas, k1=self.k1, b=self.b
            )
        else:
            base, terms = self._base_from_store(snapshot.fingerprint)
        built_s = time.perf_counter() - started
        with self._writing():
            latest = self._load(self._index)
            if latest is None or latest.base.fingerprint != snapshot.base.fingerprint:
                log.info("keyword compaction dropped: another writer replaced the base meanwhile")
                return latest or self.rebuild()
            held = SegmentedIndex(base, Delta(base.fingerprint, base.fingerprint), self.k1, self.b).documents()
            delta = rebase(latest.delta, latest.documents(), held, base.fingerprint)
            base.save(self.directory, terms)
            index = SegmentedIndex(base, delta, self.k1, self.b)
            self._publish(index)
        log.info(
            "keyword index compacted: %d chunks in the base in %.1f s (%d passage(s) arrived meanwhile)",
            len(base),
            built_s,
            len(delta.passages),
        )
        return index

    def _saved_terms(self, base: KeywordIndex) -> AnalysedTerms | None:
        """The analysed terms saved beside ``base``, when they are its own."""
        if not len(base):
            return AnalysedTerms.of(base.fingerprint, [])
        terms = AnalysedTerms.load(self.directory)
        if terms is None or (terms.fingerprint, len(terms)) != (base.fingerprint, len(base)):
            return None
        return terms

    def _compact_aside(self) -> None:
        """Start :meth:`compact` in a thread unless one runs. Not a daemon: a command that indexed and exits
        finishes the compaction first (seconds), rather than leaving it to start again next time."""
        if self._compaction is not None and self._compaction.is_alive():
            return

        def run() -> None:
            try:
                self.compact()
            except Exception:  # the delta keeps answering; the next refresh tries again
                log.exception("keyword compaction failed")

        self._compaction = threading.Thread(target=run, name="keyword-compaction")
        self._compaction.start()

    def wait_for_compaction(self, timeout_s: float | None = None) -> None:
        """Return once no compaction started by this process runs (tests, benchmarks, a clean stop)."""
        thread = self._compaction
        if thread is not None:
            thread.join(timeout_s)

    def _publish(self, index: SegmentedIndex) -> None:
        """Save the delta, then stamp the version: readers see the old stamp or the new one, whole."""
        index.delta.save(self.delta_file)
        stamp = self.version_file.with_name(f"{self.version_file.name}.{os.getpid()}")
        stamp.write_text(_stamp(index), encoding="utf-8")
        os.replace(stamp, self.version_file)
        self._index = index
