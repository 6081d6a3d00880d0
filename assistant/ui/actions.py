"""Event handlers of the interface. They call the services and format; retrieval and generation stay in the pipeline.

Everything a conversation owns lives in the caller's ``gr.State`` (one per browser
session), never in this object, which only holds the shared services.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.backends.store import DocumentRegistry
from assistant.backends.unreachable import IndexUnavailable
from assistant.copies import copy_group
from assistant.corpus import FolderRefused, Progress, Source, SyncReport
from assistant.feedback import CitedSource, FeedbackStore
from assistant.indexing import Indexer
from assistant.jobs import IngestQueue, jobs_markdown
from assistant.pipeline import Assistant
from assistant.settings import Settings
from assistant.types import Answer, Citation, Turn
from assistant.ui.about import backend_label, settings_markdown
from assistant.ui.chat import render_stream, sources_panel
from assistant.ui.document_view import document_link
from assistant.ui.documents import (
    COLUMNS,
    corpus_stats,
    document_choices,
    document_rows,
    progress_text,
    sorted_records,
)
from assistant.ui.facets import FACETS, build_filters, describe_filters, facet_choices, year_choices
from assistant.ui.services import AppServices
from assistant.ui.updates import KEEP
from assistant.ui.uploads import describe_saved, save_uploads

log = logging.getLogger(__name__)

Message = dict[str, str]
# Gradio recognises a progress parameter by this default; the progress it reports is per event, not shared.
PROGRESS = gr.Progress()
INGEST_FAILED = (
    "l'indexation s'est interrompue (erreur interne) : réessayez ; si le problème persiste, prévenez l'administrateur"
)
ERROR_REPLY = "Une erreur est survenue pendant la réponse ; réessayez. Si elle persiste, prévenez l'administrateur."


@dataclass(frozen=True)
class ChatView:
    """What a chat event sets: the messages, the sources panel, the session's answers and rating, the boxes."""

    chatbot: Any = KEEP
    sources: Any = KEEP
    answers: Any = KEEP
    question: Any = KEEP
    feedback_entry: Any = KEEP
    comment: Any = KEEP


@dataclass(frozen=True)
class FeedbackView:
    """What rating or commenting an answer sets: the status line, the rated entry, the comment box."""

    status: str
    entry: Any = KEEP
    comment: Any = KEEP


@dataclass(frozen=True)
class DocumentsView:
    """The documents page and the chat's filters as the registry is now, and the result of an indexing event."""

    table: Any
    stats: str
    picker: Any
    settings: str
    facets: tuple[Any, ...]
    year_from: Any
    year_to: Any
    message: Any = KEEP


def queued_message(job_id: int) -> str:
    """What the Documents page says once a job is in the queue (French)."""
    return (
        f"Tâche d'indexation n° {job_id} en file d'attente : les documents seront cherchables dès qu'elle sera "
        "terminée (état : python -m assistant jobs)."
    )


def citation_link(citation: Citation) -> str | None:
    fmt = Path(citation.source).suffix.lower().lstrip(".")
    return document_link(
        citation.doc_id, {"source": citation.source, "url": citation.url, "format": fmt}, citation.page
    )


class Actions:
    def __init__(
        self,
        assistant: Assistant,
        indexer: Indexer,
        store: DocumentRegistry,
        feedback: FeedbackStore,
        settings: Settings,
        *,
        answerer_kind: str,
        ingest_queue: IngestQueue | None = None,
    ) -> None:
        self.assistant = assistant
        self.ingest_queue = ingest_queue  # set: indexing is left to `python -m assistant worker`
        self.indexer = indexer
        self.store = store  # read only: the registry shown on the Documents page
        self.feedback = feedback
        self.settings = settings
        self.answerer_kind = answerer_kind
        self.uploads_dir = indexer.uploads_dir

    @classmethod
    def from_services(cls, services: AppServices) -> Actions:
        """The page's actions over the assembled services (the Protocol, never the assembly itself)."""
        return cls(
            services.assistant,
            services.indexer,
            services.store,
            services.feedback,
            services.settings,
            answerer_kind=services.answerer_kind,
            ingest_queue=services.ingest_queue,
        )

    # chat
    def respond(
        self,
        question: str,
        messages: list[Message],
        answers: list[Answer],
        recent_first: bool,
        year_from: str | None,
        year_to: str | None,
        *facets,
    ) -> Iterator[ChatView]:
        """Stream the answer to ``question`` into the chat; the final answer joins the session's ``answers``."""
        question = (question or "").strip()
        if not question:
            yield ChatView(chatbot=messages, answers=answers, question="")
            return
        filters = build_filters(dict(zip(FACETS, facets, strict=True)), year_from, year_to, recent_first=recent_first)
        # the question's text stays in its user's history unless the settings ask for it in the log
        logged = question if self.settings.api.log_questions else f"({len(question)} caractères)"
        log.info("question with filters [%s] after %d turns: %s", filters.describe(), len(answers), logged)
        history = [Turn(a.question, a.text) for a in answers]
        messages = [*messages, {"role": "user", "content": question}, {"role": "assistant", "content": "…"}]
        try:
            stream = self.assistant.stream(question, history, filters)
            for step in render_stream(stream, turn=len(answers)):
                messages[-1] = {"role": "assistant", "content": step.markdown}
                if step.answer is None:
                    yield ChatView(chatbot=messages, answers=answers, question="")
                else:
                    answers = [*answers, step.answer]
                    sources = sources_panel(answers, citation_link)
                    yield ChatView(chatbot=messages, sources=sources, answers=answers, question="")
        except Exception as exc:
            if isinstance(exc, IndexUnavailable):  # no bug here: the vector server is down, say when to retry
                log.warning("answer stopped: %s", exc)
            else:
                log.exception("answer failed for %r", logged)
            # the failed exchange leaves the chat (one user and one assistant message per answer, for ratings);
            # the question goes back into the box to be asked again
            gr.Warning(exc.message if isinstance(exc, IndexUnavailable) else ERROR_REPLY)
            yield ChatView(chatbot=messages[:-2], answers=answers, question=question)

    def new_conversation(self) -> ChatView:
        return ChatView(
            chatbot=[],
            sources=sources_panel([], citation_link),
            answers=[],
            question="",
            feedback_entry=None,
            comment="",
        )

    def show_filters(self, recent_first: bool, year_from: str | None, year_to: str | None, *facets: list[str]) -> str:
        selected = dict(zip(FACETS, facets, strict=True))
        return describe_filters(build_filters(selected, year_from, year_to, recent_first=recent_first))

    # feedback
    def rate(self, answers: list[Answer], data: gr.LikeData) -> FeedbackView:
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn = index // 2  # each exchange is one user message then one assistant message
        if turn >= len(answers) or data.liked not in (True, False):
            return FeedbackView("Cette réponse ne peut pas être notée.", entry=None)
        answer = answers[turn]
        entry = self.feedback.record(
            rating=1 if data.liked else -1,
            question=answer.question,
            answer=answer.text,
            cited_chunk_ids=[c.chunk_id for c in answer.citations],
            cited_sources=[CitedSource(c.number, c.title, c.page, c.chunk_id) for c in answer.citations],
            answerer=answer.answerer,
            backend=backend_label(self.settings, self.answerer_kind),
        )
        thumb = "👍" if data.liked else "👎"
        return FeedbackView(
            f"Avis {thumb} enregistré pour « {answer.question} ». Vous pouvez ajouter un commentaire.", entry=entry
        )

    def comment(self, text: str, entry: int | None) -> FeedbackView:
        if entry is None:
            return FeedbackView("Notez d'abord une réponse avec 👍 ou 👎 (sous la réponse), puis commentez.")
        if not (text or "").strip():
            return FeedbackView("Le commentaire est vide.")
        self.feedback.set_comment(entry, text.strip())
        return FeedbackView("Commentaire enregistré, merci.", comment="")

    def export_feedback(self) -> dict[str, Any]:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.feedback.export_csv(self.settings.paths.exports / f"avis-{stamp}.csv")
        return gr.update(value=str(path), visible=True)

    # documents
    def refresh(self, query: str = "") -> DocumentsView:
        """Table, statistics, document picker, settings and filter choices, from the registry as it is now.

        Filters are reset, since their choices may have changed.
        """
        records = self.store.documents()
        shown = sorted_records(records, query)
        metadatas = [r.metadata for r in records.values()]
        choices = facet_choices(metadatas)
        years = year_choices(metadatas)
        settings = settings_markdown(self.settings, self.answerer_kind, records)
        stats = corpus_stats(records)
        if self.ingest_queue is not None:  # the jobs of every web worker, from the shared board
            stats += jobs_markdown(self.ingest_queue.board.recent(5))
        return DocumentsView(
            table={"headers": COLUMNS, "data": document_rows(shown)},
            stats=stats,
            picker=gr.update(choices=document_choices(sorted_records(records)), value=None),
            settings=settings,
            facets=tuple(gr.update(choices=choices[key], value=[]) for key in FACETS),
            year_from=gr.update(choices=years, value=None),
            year_to=gr.update(choices=years, value=None),
        )

    def _indexed(self, message: str) -> DocumentsView:
        """The page after an indexing event: its French result, and everything the registry shows."""
        return replace(self.refresh(), message=message)

    def search_documents(self, query: str) -> dict[str, Any]:
        return {"headers": COLUMNS, "data": document_rows(sorted_records(self.store.documents(), query))}

    def ingest_uploads(self, files: list[str] | None, progress: gr.Progress = PROGRESS) -> DocumentsView:
        if not files:
            return self._indexed("Choisissez d'abord des fichiers à envoyer.")
        saved = save_uploads(
            [(Path(f).name, Path(f)) for f in files], self.uploads_dir, max_mb=self.settings.ui.max_upload_mb
        )
        documents = saved.to_index()
        notes = describe_saved(saved)
        if not documents:
            return self._indexed(notes or "Aucun document à indexer.")
        if self.ingest_queue is not None:
            job_id = self.ingest_queue.enqueue_files(documents)
            return self._indexed("\n".join(x for x in (notes, queued_message(job_id)) if x))
        report = self._sync([Source(path=p, key=str(p)) for p in documents], progress)
        return self._indexed("\n".join(x for x in (notes, report.summary()) if x))

    def ingest_folder(self, folder: str, progress: gr.Progress = PROGRESS) -> DocumentsView:
        """Index a server folder, only under the allowed folders of the settings (the uploads folder always)."""
        allowed = [*self.settings.ingest.allowed_folders, self.uploads_dir]
        try:
            selection = self.indexer.select_folder(folder, allowed)
        except FolderRefused as exc:
            log.warning("folder indexing refused: %r", folder)
            return self._indexed(str(exc))
        if self.ingest_queue is not None:
            job_id = self.ingest_queue.enqueue_folder(folder)
            return self._indexed("\n".join(x for x in (selection.notes(), queued_message(job_id)) if x))
        report = self._sync(selection.sources, progress)
        return self._indexed("\n".join(x for x in (selection.notes(), report.summary()) if x))

    def _sync(self, sources: list[Source], progress: gr.Progress, *, force: bool = False) -> SyncReport:
        progress(0, desc="Lecture des fichiers…")
        started = time.perf_counter()

        def on_progress(p: Progress) -> None:
            if p.stage == "reading":
                progress((p.done, p.total), desc=f"Lecture de {p.current} : page {p.done}/{p.total}", unit="pages")
                return
            if p.stage == "ocr":
                desc = f"Reconnaissance de caractères (OCR) de {p.current} : page {p.done}/{p.total}"
                progress((p.done, p.total), desc=desc, unit="pages")
                return
            desc = progress_text(p.done, p.total, p.current, time.perf_counter() - started)
            progress((p.done, p.total), desc=desc, unit="passages")

        try:
            report = self.indexer.sync(sources, on_progress=on_progress, force=force)
        except Exception:  # the store or the embedder failed: say so in French, never a raw error object
            log.exception("ingest from the interface failed")
            report = SyncReport(failed=[(s.label, INGEST_FAILED) for s in sources])
        log.info("ingest from the interface: %s", report.summary().splitlines()[0])
        return report

    def delete(self, doc_id: str | None) -> DocumentsView:
        record = self.indexer.delete(doc_id or "")
        if record is None:
            return self._indexed("Choisissez un document dans la liste.")
        return self._indexed(f"Document « {record.metadata.get('title', record.doc_id)} » retiré de l'index.")

    def choose_reference(self, doc_id: str | None, progress: gr.Progress = PROGRESS) -> DocumentsView:
        """Make the picked document the reference copy of its text (read again at once, also in queue mode:
        it is one file, and the choice must show on this page)."""
        records = self.store.documents()
        record = records.get(doc_id or "")
        if record is None:
            return self._indexed("Choisissez un document dans la liste.")
        title = record.metadata.get("title", record.doc_id)
        if len(copy_group(records, record.doc_id)) < 2:
            return self._indexed(f"« {title} » n'a pas d'autre exemplaire indexé : il est sa propre référence.")
        progress(0, desc="Lecture de l'exemplaire choisi…")
        try:
            report = self.indexer.choose_reference(record.doc_id)
        except Exception:
            log.exception("choosing the reference copy failed")
            return self._indexed(f"✗ {record.source} : {INGEST_FAILED}")
        if not report.changed and not report.failed:
            return self._indexed(f"« {Path(record.source).name} » est l'exemplaire de référence (choix enregistré).")
        return self._indexed(report.summary())

    def reindex(self, doc_id: str | None, progress: gr.Progress = PROGRESS) -> DocumentsView:
        record = self.store.documents().get(doc_id or "")
        if record is None:
            return self._indexed("Choisissez un document dans la liste.")
        path = Path(record.source)
        if record.source.startswith(("http://", "https://")):
            return self._indexed("Document téléchargé : réindexez-le avec « python -m assistant ingest --manifest ».")
        if not path.is_file():
            return self._indexed(f"✗ Fichier introuvable sur le serveur : {path}")
        # read and embed again even if the bytes are unchanged (new loader or chunking settings)
        if self.ingest_queue is not None:
            return self._indexed(queued_message(self.ingest_queue.enqueue_reindex([path])))
        report = self._sync([Source(path=path, key=record.source)], progress, force=True)
        return self._indexed(report.summary())
