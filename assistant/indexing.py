"""Keeping the index current: the one owner of sync, keyword-index refresh, deletion and first-start indexing.

The interface, the command line, the evaluations and the tests all go through :class:`Indexer`,
so "sync, then refresh the keyword index" is written here only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from assistant.backends.store import ChunkStore, registry_fingerprint
from assistant.copies import DUPLICATE_OF, copy_group
from assistant.corpus import SIDECAR_SUFFIX, DocumentRecord, ProgressCallback, Source, SyncReport
from assistant.retrieval.hybrid import KeywordIndexKeeper
from ingest.folders import FolderSelection, select_folder
from ingest.loaders import readable_text
from ingest.sync import Synchronizer, discover

log = logging.getLogger(__name__)


class Indexer:
    """Brings the index (passages in the store, keyword index) in line with files, and removes documents.

    ``uploads_dir`` is where the interface keeps its own copies of uploaded files: a document removed
    from the index loses its copy there (and its sidecar), never a file elsewhere.
    """

    def __init__(
        self, synchronizer: Synchronizer, keyword: KeywordIndexKeeper, store: ChunkStore, *, uploads_dir: Path
    ) -> None:
        self.synchronizer = synchronizer
        self.keyword = keyword
        self.store = store
        self.uploads_dir = uploads_dir

    def sync(
        self,
        sources: Iterable[Source],
        *,
        prune_roots: Iterable[Path] = (),
        on_progress: ProgressCallback | None = None,
        force: bool = False,
        refresh_keywords: bool = True,
    ) -> SyncReport:
        """Index new and changed ``sources`` (see :meth:`Synchronizer.sync`), then refresh the keyword index.

        When the sync fails midway, the keyword index is still refreshed (some documents may have been
        stored before the failure) and the error is raised again. ``refresh_keywords=False`` leaves the
        refresh to a later :meth:`refresh_keywords` (a benchmark growing an index batch after batch).
        """
        try:
            report = self.synchronizer.sync(sources, prune_roots=prune_roots, on_progress=on_progress, force=force)
        except Exception:
            self.refresh_keywords()
            raise
        # also when nothing changed now but the saved index is behind the store: a run killed after storing
        # its last document and before this refresh leaves it so, and other processes wait for this save
        stale = self.keyword.saved_fingerprint() != registry_fingerprint(self.store.documents())
        if refresh_keywords and (report.changed or stale or not self.keyword.directory.exists()):
            self.refresh_keywords()
        return report

    def refresh_keywords(self) -> None:
        """Rebuild the keyword index from the passages the store holds now."""
        self.keyword.rebuild()

    def index_paths(
        self, paths: Iterable[Path], *, prune: bool = False, on_progress: ProgressCallback | None = None
    ) -> SyncReport:
        """Index the files under ``paths``; with ``prune``, remove documents whose files under them are gone."""
        paths = list(paths)
        return self.sync(discover(paths), prune_roots=paths if prune else (), on_progress=on_progress)

    def select_folder(self, folder: str, allowed: Iterable[Path]) -> FolderSelection:
        """The documents under a server folder, only under the ``allowed`` roots (raises FolderRefused in French)."""
        return select_folder(folder, list(allowed))

    def readable_text(self, path: Path, fmt: str) -> str:
        """A text document as the index read it, for display (see :func:`ingest.loaders.readable_text`)."""
        return readable_text(path, fmt)

    def delete(self, doc_id: str) -> DocumentRecord | None:
        """Remove a document from the index (and our own uploaded copy of it); None when it is not indexed.

        A document other copies point to hands its place to one of them at once (the chosen one, else
        the first by path), so its text stays searchable.
        """
        registry = self.store.documents()
        record = registry.get(doc_id)
        if record is None:
            return None
        had_copies = len(copy_group(registry, doc_id)) > 1 and not record.metadata.get(DUPLICATE_OF)
        self.store.delete_document(record.doc_id)
        source = Path(record.source)
        if source.parent.resolve() == self.uploads_dir.resolve():  # our own copy: remove it with its sidecar
            source.unlink(missing_ok=True)
            source.with_name(source.name + SIDECAR_SUFFIX).unlink(missing_ok=True)
        if had_copies:
            self.sync([])  # its copies are read again: one becomes the reference (and refreshes the keywords)
        else:
            self.refresh_keywords()
        return record

    def choose_reference(self, doc_id: str, *, on_progress: ProgressCallback | None = None) -> SyncReport:
        """Make a copy the reference of its text: its passages are indexed and cited, the others point to it.

        The choice is kept in the registry and survives re-ingests (see :meth:`Synchronizer.choose_reference`).
        """
        try:
            report = self.synchronizer.choose_reference(doc_id, on_progress=on_progress)
        except Exception:
            self.refresh_keywords()
            raise
        if report.changed:
            self.refresh_keywords()
        return report

    def index_demo_if_empty(self, demo_dir: Path) -> SyncReport | None:
        """Index ``demo_dir`` when the index holds no document; an existing index is kept as it is."""
        count = len(self.store.documents())
        if count:
            log.info("index: %d documents already indexed (kept)", count)
            return None
        if not demo_dir.is_dir():
            log.warning("index empty and no demo corpus at %s: add documents from the Documents page", demo_dir)
            return None
        log.info("index empty: indexing the demo corpus %s (once; one to three minutes on 2 cores)", demo_dir)
        report = self.index_paths([demo_dir])
        log.info("demo corpus indexed: %s", report.summary().splitlines()[0])
        return report
