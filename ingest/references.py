"""The reference documents an indexer compares new files with, kept across its syncs.

Building the finder reads every record's stored MinHash (25 s at 53,000 documents): it is built once per
process, then brought in line with the registry at each sync, which other processes may have changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from assistant.backends.store import ChunkStore
from assistant.copies import chosen_at
from assistant.corpus import DocumentRecord
from ingest.duplicates import DUPLICATE_OF, FINGERPRINT, CopyFinder, Known, MinHash, read_fingerprint, signature

log = logging.getLogger(__name__)

Relink = Callable[[DocumentRecord, str], None]


def latest_first(stamp: str) -> tuple[int, ...]:
    """Sorts ISO stamps latest first."""
    return tuple(-ord(c) for c in stamp)


class ReferenceIndex:
    """The process's :class:`CopyFinder` of the indexed reference documents (copies left out)."""

    def __init__(self, store: ChunkStore, *, deduplicate: bool = True) -> None:
        self.store = store
        self.deduplicate = deduplicate
        self._finder: CopyFinder | None = None
        # (doc_id, content hash) -> MinHash, for records indexed before fingerprints were stored
        self._signatures: dict[tuple[str, str], MinHash] = {}

    def forget(self) -> None:
        """Drop the finder (after an interrupted sync): the next call builds it again and repairs."""
        self._finder = None

    def current(self, registry: dict[str, DocumentRecord], *, relink: Relink) -> CopyFinder:
        """The finder brought in line with ``registry``, or, the first time, built from it (see :meth:`build`)."""
        if self._finder is None:
            self._finder = self.build(registry, relink=relink)
            return self._finder
        finder = self._finder
        held = finder.known()
        references = {doc_id: r for doc_id, r in registry.items() if not r.metadata.get(DUPLICATE_OF)}
        for doc_id in held.keys() - references.keys():
            finder.remove(doc_id)
        for doc_id, record in references.items():
            known = held.get(doc_id)
            if known is None or (known.title, known.date, known.source, known.stamp) != self._describe(record):
                finder.add(self._known(record))
        return finder

    def build(self, registry: dict[str, DocumentRecord], *, relink: Relink) -> CopyFinder:
        """A finder of every reference document of the registry.

        Also completes what a killed run left half-way: a reference that copies another (a choice of
        reference interrupted after the chosen copy was stored) becomes a copy of it, the chosen one
        kept; a copy of a copy is relinked to the reference.
        """
        finder = CopyFinder()
        references = [r for r in registry.values() if not r.metadata.get(DUPLICATE_OF)]
        references.sort(key=lambda r: (not chosen_at(r), latest_first(chosen_at(r)), r.source))
        relinked: dict[str, str] = {}
        for record in references:
            known = self._known(record)
            match = finder.match(known.minhash, title=known.title, date=known.date) if self.deduplicate else None
            if match is not None and match.kind == "copy":
                log.info("%s copies the reference %s: relinked as its copy", record.source, match.source)
                relink(record, match.doc_id)
                relinked[record.doc_id] = match.doc_id
                continue
            finder.add(known)
        for record in registry.values():
            reference = str(record.metadata.get(DUPLICATE_OF, ""))
            final = relinked.get(reference) or str(registry.get(reference, record).metadata.get(DUPLICATE_OF, ""))
            if reference and final and final != reference and final != record.doc_id:
                relink(record, final)
        return finder

    def _known(self, record: DocumentRecord) -> Known:
        """The record as the finder knows it, with its MinHash."""
        title, date, source, stamp = self._describe(record)
        return Known(record.doc_id, self._fingerprint(record), title, date, source, stamp)

    @staticmethod
    def _describe(record: DocumentRecord) -> tuple[str, str, str, str]:
        """(title, date, source, stamp) of a record."""
        meta = record.metadata
        return str(meta.get("title", "")), str(meta.get("date", "")), record.source, str(meta.get(FINGERPRINT, ""))

    def _fingerprint(self, record: DocumentRecord) -> MinHash:
        """The record's stored MinHash; for a record indexed before they were stored, computed from its text."""
        stored = read_fingerprint(record.metadata.get(FINGERPRINT))
        if stored is not None:
            return stored
        key = (record.doc_id, record.content_hash)
        if key not in self._signatures:
            self._signatures[key] = signature(self.store.document_text(record.doc_id) or "")
        return self._signatures[key]
