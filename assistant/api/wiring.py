"""The API's services taken from the app's components: the one place the API meets the assembly."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from assistant.accounts import Access
from assistant.api.routes import ApiServices, IngestResult
from assistant.backends.store import DocumentRecord
from assistant.experiences.note import Note, NoteReady
from assistant.experiences.service import ExperienceDesk
from assistant.factory import Components
from assistant.ui.document_view import document_link
from assistant.ui.uploads import describe_saved, save_uploads
from ingest.sync import SIDECAR_SUFFIX, Source


class IndexDocuments:
    """Adding and removing documents for the API, as the interface's Documents page does."""

    def __init__(self, components: Components) -> None:
        self.components = components
        self.uploads_dir = components.settings.data_dir / "uploads"
        self._lock = threading.Lock()  # one API indexing at a time

    def records(self) -> Mapping[str, DocumentRecord]:
        return self.components.store.documents()

    def add(self, files: list[tuple[str, Path]]) -> IngestResult:
        saved = save_uploads(files, self.uploads_dir, max_mb=self.components.settings.ui.max_upload_mb)
        documents = list(saved.documents)
        for sidecar in saved.sidecars:  # a sidecar sent alone re-indexes the document it describes
            described = sidecar.with_name(sidecar.name[: -len(SIDECAR_SUFFIX)])
            if described.is_file() and described not in documents:
                documents.append(described)
        notes = describe_saved(saved)
        if not documents:
            return IngestResult(notes or "Aucun document à indexer.", list(saved.refused))
        with self._lock:
            report = self.components.synchronizer.sync([Source(path=p, key=str(p)) for p in documents])
            if report.changed:
                self.components.keyword.rebuild()
        summary = "\n".join(x for x in (notes, report.summary()) if x)
        return IngestResult(summary, [*saved.refused, *report.failed])

    def delete(self, doc_id: str) -> DocumentRecord | None:
        with self._lock:
            record = self.components.store.documents().get(doc_id)
            if record is None:
                return None
            self.components.store.delete_document(record.doc_id)
            self.components.keyword.rebuild()
        source = Path(record.source)
        if source.parent.resolve() == self.uploads_dir.resolve():  # our own copy: remove it with its sidecar
            source.unlink(missing_ok=True)
            source.with_name(source.name + SIDECAR_SUFFIX).unlink(missing_ok=True)
        return record


def api_services(components: Components, access: Access) -> ApiServices:
    """The API's dependencies, from ``components``."""
    desk = ExperienceDesk(components)

    def draft_note(territory: str, topic: str) -> Note:
        for event in desk.draft_note(territory=territory, topic=topic):
            if isinstance(event, NoteReady):
                return event.note
        raise ValueError("la note n'a pas pu être rédigée")

    return ApiServices(
        access=access,
        answer_stream=lambda question, history, filters: components.assistant.stream(question, history, filters),
        search=lambda query, k, filters: components.searcher.search(query, k=k, filters=filters),
        documents=IndexDocuments(components),
        precedents=desk.precedents,
        draft_note=draft_note,
        document_link=document_link,
        settings=components.settings.api,
    )
