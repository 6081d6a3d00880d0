"""The HTTP API under ``/v1``: OpenAI-compatible chat with citations, search, documents, precedents, notes.

Every route needs a bearer API key (``python -m assistant keys create <compte>``) and the
permission its user's role gives; each key is limited to ``api.requests_per_minute``. The
router receives what it calls (:class:`ApiServices`), never the app's assembly.
"""

import json
import logging
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from assistant.accounts import Access, Caller, Permission, refusal
from assistant.api.errors import ApiError
from assistant.api.ratelimit import RateLimiter
from assistant.backends.store import DocumentRecord
from assistant.backends.unreachable import IndexUnavailable
from assistant.experiences.precedents import Precedent, PrecedentRequest, parse_period
from assistant.experiences.records import card_to_dict
from assistant.notes.export import note_to_docx, note_to_markdown
from assistant.notes.note import Note
from assistant.pipeline import Event
from assistant.retrieval.filters import Filters
from assistant.settings import ApiSettings
from assistant.types import Answer, Citation, Hit, Turn

log = logging.getLogger(__name__)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class IngestResult:
    """What adding files did: the French summary, and the files refused or failed with their reason."""

    summary: str
    failed: list[tuple[str, str]]


class DocumentDesk(Protocol):
    """The documents of the index as the API needs them."""

    def records(self) -> Mapping[str, DocumentRecord]: ...
    def add(self, files: list[tuple[str, Path]]) -> IngestResult: ...
    def delete(self, doc_id: str) -> DocumentRecord | None: ...


@dataclass(frozen=True)
class ApiServices:
    """What the API calls: the access checks, the pipeline's stream, search, documents, precedents, notes."""

    access: Access
    answer_stream: Callable[[str, Sequence[Turn], Filters | None], Iterator[Event]]
    search: Callable[[str, int, Filters | None], list[Hit]]
    documents: DocumentDesk
    precedents: Callable[[PrecedentRequest], list[Precedent]]
    draft_note: Callable[[str, str], Note]
    document_link: Callable[[str, Mapping[str, Any], int | None], str | None]
    settings: ApiSettings


# requests
class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens… are accepted and left to the settings
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    filters: dict[str, str | int | list[str | int]] | None = None
    recent_first: bool = Field(False, description="Sources récentes d'abord (chaque année d'ancienneté pèse)")


class SearchRequest(BaseModel):
    query: str = Field(min_length=1)
    k: int = Field(5, ge=1, le=50)
    filters: dict[str, str | int | list[str | int]] | None = None
    recent_first: bool = Field(False, description="Sources récentes d'abord (chaque année d'ancienneté pèse)")


class PrecedentsRequest(BaseModel):
    need: str = Field(min_length=1)
    territory: str | None = None
    themes: list[str] = []
    regions: list[str] = []
    territory_types: list[str] = []
    period: str | None = None
    limit: int = Field(5, ge=1, le=20)


class NoteRequest(BaseModel):
    territory: str = Field(min_length=1)
    topic: str = "pilier développement économique"
    format: Literal["markdown", "docx"] = "markdown"


def parse_filters(filters: Mapping[str, Any] | None, *, recent_first: bool = False) -> Filters | None:
    """``{"organisation": "ANCT", "year": "2019-2023", "type": ["a", "b"]}`` -> Filters (ApiError when invalid);
    ``recent_first``: the ranking option travels with them."""
    if not filters and not recent_first:
        return None
    pairs = []
    for key, value in (filters or {}).items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append(f"{key}={one}")
    try:
        parsed = Filters.parse(pairs)
    except ValueError as exc:
        raise ApiError(400, "invalid_request_error", f"Filtres invalides : {exc}") from exc
    return replace(parsed, recent_first=recent_first)


def citation_dict(citation: Citation, version: str, link: str | None) -> dict[str, Any]:
    """One citation of the ``citations`` field: number, title, page, links, the quote and the document version."""
    return {
        "number": citation.number,
        "title": citation.title,
        "page": citation.page,
        "url": citation.url,
        "link": link,
        "quote": citation.quote,
        "doc_id": citation.doc_id,
        "chunk_id": citation.chunk_id,
        "organisation": citation.organisation,
        "date": citation.date,
        "document_version": version,
    }


def build_api_router(services: ApiServices) -> APIRouter:
    """The ``/v1`` routes over ``services``."""
    limiter = RateLimiter(services.settings.requests_per_minute)
    access = services.access
    model_name = services.settings.model_name

    def caller_of(request: Request) -> Caller:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                "invalid_api_key",
                "Clé d'API manquante : ajoutez l'en-tête « Authorization: Bearer <clé> » "
                "(clé créée par « python -m assistant keys create <compte> »).",
            )
        caller = access.key_caller(token.strip())
        if caller is None:
            raise ApiError(401, "invalid_api_key", "Clé d'API invalide ou révoquée.")
        wait = limiter.acquire(caller.key_id or caller.user)
        if wait > 0:
            seconds = max(1, round(wait))
            raise ApiError(
                429,
                "rate_limit_exceeded",
                f"Trop de requêtes : {limiter.per_minute} par minute au plus pour cette clé ; "
                f"réessayez dans {seconds} s.",
                headers={"Retry-After": str(seconds)},
            )
        return caller

    def require(caller: Caller, permission: Permission) -> None:
        if not caller.may(permission):
            raise ApiError(403, "permission_denied", refusal(caller.role, permission))

    def absolute(request: Request, link: str | None) -> str | None:
        if link and link.startswith("/"):
            return str(request.base_url).rstrip("/") + link
        return link

    def citations_of(request: Request, answer: Answer) -> list[dict[str, Any]]:
        records = services.documents.records()
        out = []
        for c in answer.citations:
            record = records.get(c.doc_id)
            metadata = record.metadata if record else {"source": c.source, "url": c.url}
            link = absolute(request, services.document_link(c.doc_id, metadata, c.page))
            out.append(citation_dict(c, record.content_hash if record else "", link))
        return out

    router = APIRouter(prefix="/v1", tags=["API"])
    # annotations are evaluated here (no postponed annotations in this module): FastAPI reads this local alias
    CallerDep = Annotated[Caller, Depends(caller_of)]

    @router.get("/models", summary="Le modèle servi (l'assistant)")
    def models(caller: CallerDep) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [{"id": model_name, "object": "model", "created": 0, "owned_by": "assistant-politique-ville"}],
        }

    @router.post("/chat/completions", summary="Question (format OpenAI), réponse citée ; stream: true en SSE")
    def chat_completions(body: ChatRequest, request: Request, caller: CallerDep) -> Response:
        require(caller, Permission.ASK)
        question, history = _question_and_history(body.messages)
        filters = parse_filters(body.filters, recent_first=body.recent_first)
        if services.settings.log_questions:
            log.info("API question from %s: %s", caller.user, question)
        completion_id = "chatcmpl-" + secrets.token_hex(12)
        created = int(time.time())

        def answer_of(events: Iterator[Event]) -> Answer:
            answer = None
            for event in events:
                if isinstance(event, Answer):
                    answer = event
            if answer is None:  # the pipeline always ends with one; say so rather than hang
                raise RuntimeError("no answer at the end of the stream")
            access.store.count(caller.user, caller.key_id or "", questions=1, refusals=int(answer.refused))
            return answer

        if not body.stream:
            answer = answer_of(services.answer_stream(question, history, filters))
            return JSONResponse(
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model_name,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": answer.text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                    "citations": citations_of(request, answer),
                    "refused": answer.refused,
                    "notice": answer.notice,
                }
            )

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
            payload = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model_name,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                **extra,
            }
            return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

        def events() -> Iterator[str]:
            yield chunk({"role": "assistant", "content": ""})
            try:
                # The text sent is the checked answer, whose [n] match the citations field: a model's raw
                # draft may lose markers or sentences at the check, and a client cannot take back what it showed.
                answer = answer_of(services.answer_stream(question, history, filters))
            except IndexUnavailable as exc:  # the status line is sent: say it in the stream, as OpenAI does
                log.warning("API streamed answer stopped: %s", exc)
                error = {"message": exc.message, "type": "index_unavailable", "code": "index_unavailable"}
                yield f"data: {json.dumps({'error': error}, ensure_ascii=False)}\n\n"
                return
            except Exception:
                log.exception("API answer failed")
                error = {"message": "Une erreur est survenue pendant la réponse ; réessayez.", "type": "server_error"}
                yield f"data: {json.dumps({'error': error}, ensure_ascii=False)}\n\n"
                return
            for line in answer.text.splitlines(keepends=True):
                yield chunk({"content": line})
            yield chunk(
                {}, "stop", citations=citations_of(request, answer), refused=answer.refused, notice=answer.notice
            )
            yield "data: [DONE]\n\n"

        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(events(), media_type="text/event-stream", headers=headers)

    @router.post("/search", summary="Passages trouvés par la recherche hybride, avec leurs métadonnées")
    def search(body: SearchRequest, request: Request, caller: CallerDep) -> dict[str, Any]:
        require(caller, Permission.ASK)
        hits = services.search(body.query, body.k, parse_filters(body.filters, recent_first=body.recent_first))
        return {"object": "list", "data": [_hit_dict(request, hit, services, absolute) for hit in hits]}

    @router.get("/documents", summary="Les documents indexés")
    def list_documents(request: Request, caller: CallerDep) -> dict[str, Any]:
        require(caller, Permission.ASK)
        records = services.documents.records()
        data = [_document_dict(request, r, services, absolute) for r in records.values()]
        return {"object": "list", "data": sorted(data, key=lambda d: str(d["title"]).casefold())}

    @router.post("/documents", summary="Ajouter des documents (contributeur, administrateur)")
    def add_documents(
        request: Request, files: Annotated[list[UploadFile], File()], caller: CallerDep
    ) -> dict[str, Any]:
        require(caller, Permission.UPLOAD)
        with tempfile.TemporaryDirectory(prefix="assistant-api-") as folder:
            received = []
            for number, upload in enumerate(files):
                name = Path(upload.filename or f"fichier-{number}").name
                path = Path(folder) / f"{number}-{secrets.token_hex(4)}"
                with path.open("wb") as out:
                    while block := upload.file.read(1 << 20):
                        out.write(block)
                received.append((name, path))
            result = services.documents.add(received)
        log.info("API upload by %s: %s", caller.user, result.summary.splitlines()[0] if result.summary else "")
        return {
            "summary": result.summary,
            "failed": [{"file": f, "reason": r} for f, r in result.failed],
            "documents": len(services.documents.records()),
        }

    @router.delete("/documents/{doc_id}", summary="Retirer un document de l'index (administrateur)")
    def delete_document(doc_id: str, caller: CallerDep) -> dict[str, Any]:
        require(caller, Permission.DELETE)
        record = services.documents.delete(doc_id)
        if record is None:
            raise ApiError(404, "not_found", "Ce document n'est pas (ou plus) dans l'index.")
        log.info("API: %s removed document %s", caller.user, doc_id)
        return {"deleted": doc_id, "title": record.metadata.get("title", doc_id)}

    @router.post("/precedents", summary="Expériences comparables pour un besoin et un territoire")
    def precedents(body: PrecedentsRequest, request: Request, caller: CallerDep) -> dict[str, Any]:
        require(caller, Permission.PRECEDENTS)
        try:
            period = parse_period(body.period) if body.period else None
        except ValueError as exc:
            raise ApiError(400, "invalid_request_error", f"Période invalide : {exc}") from exc
        found = services.precedents(
            PrecedentRequest(
                body.need,
                territory=body.territory,
                themes=tuple(body.themes),
                regions=tuple(body.regions),
                territory_types=tuple(body.territory_types),
                period=period,
                limit=body.limit,
            )
        )
        return {"object": "list", "data": [_precedent_dict(request, p, services, absolute) for p in found]}

    @router.post("/notes", summary="Projet de note (Markdown ou DOCX) pour un territoire et un sujet")
    def notes(body: NoteRequest, caller: CallerDep) -> Response:
        require(caller, Permission.NOTES)
        try:
            note = services.draft_note(body.territory, body.topic)
        except ValueError as exc:
            raise ApiError(400, "invalid_request_error", str(exc)) from exc
        if body.format == "markdown":
            return Response(note_to_markdown(note), media_type="text/markdown; charset=utf-8")
        with tempfile.TemporaryDirectory(prefix="assistant-note-") as folder:
            path = Path(folder) / "note.docx"
            note_to_docx(note, path)
            data = path.read_bytes()
        headers = {"Content-Disposition": 'attachment; filename="note.docx"'}
        return Response(data, media_type=DOCX, headers=headers)

    # last: any other /v1 address answers in JSON here rather than falling through to the interface's 404 page
    @router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def unknown(path: str) -> None:
        raise ApiError(404, "not_found", "Adresse inconnue de l'API.")

    return router


def _question_and_history(messages: Sequence[ChatMessage]) -> tuple[str, list[Turn]]:
    """The last user message is the question; earlier user/assistant pairs are the conversation's context."""
    question = ""
    for message in reversed(messages):
        if message.role == "user":
            question = message.text().strip()
            break
    if not question:
        raise ApiError(400, "invalid_request_error", "Aucune question : le dernier message « user » est vide.")
    history: list[Turn] = []
    last_user = None
    for message in messages[: max(i for i, m in enumerate(messages) if m.role == "user")]:
        if message.role == "user":
            if last_user is not None:
                history.append(Turn(last_user))
            last_user = message.text().strip()
        elif message.role == "assistant" and last_user is not None:
            history.append(Turn(last_user, message.text().strip()))
            last_user = None
    if last_user is not None:
        history.append(Turn(last_user))
    return question, history


def _hit_dict(request: Request, hit: Hit, services: ApiServices, absolute: Callable) -> dict[str, Any]:
    chunk = hit.chunk
    return {
        "chunk_id": chunk.chunk_id,
        "doc_id": chunk.doc_id,
        "score": round(hit.score, 6),
        "ranks": hit.provenance,
        "text": chunk.text,
        "page": chunk.page,
        "heading": chunk.heading,
        "title": chunk.metadata.get("title"),
        "link": absolute(request, services.document_link(chunk.doc_id, chunk.metadata, chunk.page)),
        "metadata": {k: v for k, v in chunk.metadata.items() if k != "source"},
    }


def _document_dict(
    request: Request, record: DocumentRecord, services: ApiServices, absolute: Callable
) -> dict[str, Any]:
    meta = record.metadata
    return {
        "doc_id": record.doc_id,
        "title": meta.get("title", record.doc_id),
        "organisation": meta.get("organisation"),
        "date": meta.get("date"),
        "format": meta.get("format"),
        "passages": record.chunk_count,
        "version": record.content_hash,
        "file": Path(record.source).name if not record.source.startswith(("http://", "https://")) else record.source,
        "link": absolute(request, services.document_link(record.doc_id, meta, None)),
    }


def _precedent_dict(
    request: Request, precedent: Precedent, services: ApiServices, absolute: Callable
) -> dict[str, Any]:
    """A precedent: its score, the French reasons, the matching passage, and its card (without server paths)."""
    card = {k: v for k, v in card_to_dict(precedent.card).items() if k not in ("location", "source")}
    metadata = services.documents.records().get(precedent.card.doc_id)
    link = services.document_link(precedent.card.doc_id, metadata.metadata, precedent.page) if metadata else None
    return {
        "score": precedent.score,
        "reasons": list(precedent.reasons),
        "passage": asdict(precedent.passage) if precedent.passage else None,
        "page": precedent.page,
        "link": absolute(request, link),
        "card": card,
    }
