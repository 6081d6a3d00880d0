"""The API's services taken from the app's services: the one place the API meets them."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from assistant.accounts import Access
from assistant.api.routes import ApiServices, IngestResult
from assistant.corpus import DocumentRecord, Source
from assistant.indexing import Indexer
from assistant.jobs import IngestQueue
from assistant.notes.note import Note, NoteReady
from assistant.settings import Settings
from assistant.ui.actions import queued_message
from assistant.ui.document_view import document_link
from assistant.ui.services import AppServices
from assistant.ui.uploads import describe_saved, save_uploads


class IndexDocuments:
    """Adding and removing documents for the API, through the indexer (or the ingest queue when
    ``ingest.mode = "queue"``), as the Documents page does."""

    def __init__(self, indexer: Indexer, settings: Settings, queue: IngestQueue | None = None) -> None:
        self.indexer = indexer
        self.queue = queue
        self.uploads_dir = settings.paths.uploads
        self.max_upload_mb = settings.ui.max_upload_mb
        self._lock = threading.Lock()  # one API indexing at a time (the interface has its own queue)

    def records(self) -> Mapping[str, DocumentRecord]:
        return self.indexer.store.documents()

    def add(self, files: list[tuple[str, Path]]) -> IngestResult:
        saved = save_uploads(files, self.uploads_dir, max_mb=self.max_upload_mb)
        documents = saved.to_index()
        notes = describe_saved(saved)
        if not documents:
            return IngestResult(notes or "Aucun document à indexer.", list(saved.refused))
        if self.queue is not None:  # indexed by `python -m assistant worker`
            queued = queued_message(self.queue.enqueue_files(documents))
            return IngestResult("\n".join(x for x in (notes, queued) if x), list(saved.refused))
        with self._lock:
            report = self.indexer.sync([Source(path=p, key=str(p)) for p in documents])
        summary = "\n".join(x for x in (notes, report.summary()) if x)
        return IngestResult(summary, [*saved.refused, *report.failed])

    def delete(self, doc_id: str) -> DocumentRecord | None:
        with self._lock:
            return self.indexer.delete(doc_id)


def api_services(services: AppServices, access: Access) -> ApiServices:
    """The API's dependencies, from the app's ``services``."""
    desk = services.desk

    def draft_note(territory: str, topic: str) -> Note:
        for event in desk.draft_note(territory=territory, topic=topic):
            if isinstance(event, NoteReady):
                return event.note
        raise ValueError("la note n'a pas pu être rédigée")

    return ApiServices(
        access=access,
        answer_stream=services.assistant.stream,
        search=lambda query, k, filters: services.assistant.searcher.search(query, k=k, filters=filters),
        documents=IndexDocuments(services.indexer, services.settings, services.ingest_queue),
        precedents=desk.precedents,
        draft_note=draft_note,
        document_link=document_link,
        settings=services.settings.api,
    )
