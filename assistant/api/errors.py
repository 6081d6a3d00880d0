"""API errors as JSON with a French message, in the shape OpenAI clients read (``{"error": {"message": …}}``)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.backends.unreachable import IndexUnavailable

log = logging.getLogger(__name__)

API_PREFIX = "/v1"


class ApiError(Exception):
    """A refused request: HTTP ``status``, a short machine ``code`` and a French ``message``."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"message": message, "type": code, "code": code, "param": None}}
    return JSONResponse(body, status, headers=headers)


def _field(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location if part != "body") or "corps"


def add_error_handlers(app: FastAPI) -> None:
    """JSON errors in French for the API's paths; the rest of the app keeps its own responses."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(IndexUnavailable)
    async def index_unavailable(request: Request, exc: IndexUnavailable) -> Any:
        # the one place a request meets a vector server that is down: 503 and when to retry, never a 500
        log.warning("%s %s answered 503: %s", request.method, request.url.path, exc)
        headers = {"Retry-After": str(exc.retry_after_s)}
        if request.url.path.startswith(API_PREFIX + "/"):
            return error_response(503, "index_unavailable", exc.message, headers)
        return PlainTextResponse(exc.message, 503, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors()[:5]:
            where = _field(tuple(error.get("loc", ())))
            if error.get("type") == "missing":
                problems.append(f"champ « {where} » manquant")
            elif error.get("type") == "json_invalid":
                problems.append("le corps n'est pas du JSON valide")
            else:
                problems.append(f"champ « {where} » invalide")
        return error_response(400, "invalid_request_error", "Requête invalide : " + " ; ".join(problems) + ".")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        if not request.url.path.startswith(API_PREFIX + "/"):
            from fastapi.exception_handlers import http_exception_handler

            return await http_exception_handler(request, exc)
        messages = {404: "Adresse inconnue de l'API.", 405: "Méthode non permise pour cette adresse."}
        message = messages.get(exc.status_code, str(exc.detail))
        return error_response(exc.status_code, "not_found" if exc.status_code == 404 else "http_error", message)
