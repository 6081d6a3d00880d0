"""The web application: our routes and checks in front, the Gradio interface mounted behind them.

The product owns its HTTP layer: the Host/Origin check and security headers
(``request_guard``), no cross-origin reads, the login (``login``) and the route that
serves indexed documents (``document_view``). Gradio keeps its page and API at the
same paths (``/``, ``/gradio_api/…``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.accounts import LOCAL_USER, Access, Permission, allows, refusal
from assistant.api import ApiServices, mount_api
from assistant.backends.store import DocumentRegistry
from assistant.settings import UISettings
from assistant.ui.assets import CLICK_JS, CSS
from assistant.ui.document_view import DOCUMENT_ROUTE, TextReader, serve_document
from assistant.ui.layout import FRENCH
from assistant.ui.login import LoginThrottle, Sessions, add_login_routes
from assistant.ui.request_guard import RequestGuard

AUTH_MESSAGE = "Assistant documentaire : identifiez-vous."
NOT_FOUND = "Ce document n'est pas (ou plus) dans l'index."


UPLOAD_ROUTE = "/gradio_api/upload"
UserOf = Callable[[Request], str | None]


class LoginRedirect:
    """ASGI middleware: the page itself (``GET /``) sends a visitor without a session to the login form."""

    def __init__(self, app: ASGIApp, user_of: UserOf) -> None:
        self.app = app
        self.user_of = user_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == "/":
            request = Request(scope)
            if self.user_of(request) is None:
                await RedirectResponse("/login", 303)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class UploadGuard:
    """ASGI middleware: Gradio's file upload route refuses (403) a user whose role may not add documents.

    The upload form is hidden from such a user; this is the server's side of it (the
    indexing events themselves check the role too).
    """

    def __init__(self, app: ASGIApp, user_of: UserOf, access: Access) -> None:
        self.app = app
        self.user_of = user_of
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].rstrip("/") == UPLOAD_ROUTE:
            role = self.access.role_of(self.user_of(Request(scope)))
            if not allows(role, Permission.UPLOAD):
                await PlainTextResponse(refusal(role, Permission.UPLOAD), 403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def session_user(access: Access, sessions: Sessions) -> UserOf:
    """Who is behind a request of the interface: the session's user while their account exists;
    ``LOCAL_USER`` when nobody has to log in (no account, no password setting)."""

    def user_of(request: Request) -> str | None:
        if not access.login_required():
            return LOCAL_USER
        user = sessions.user_of(request)
        return user if access.role_of(user) is not None else None

    return user_of


def build_web_app(
    blocks: gr.Blocks,
    ui: UISettings,
    store: DocumentRegistry,
    read_text: TextReader,
    *,
    access: Access,
    api: ApiServices,
) -> FastAPI:
    """The FastAPI app serving ``blocks`` and the ``/v1`` API (``api``) with the settings ``ui``; logins and roles
    come from ``access``; the document route checks ``store``'s registry and shows text documents as ``read_text``
    reads them."""
    sessions = Sessions()
    user_of = session_user(access, sessions)
    app = FastAPI(
        title="Assistant documentaire — politique de la ville",
        docs_url=None,  # the API serves its own page, without a CDN
        redoc_url=None,
        openapi_url="/v1/openapi.json",
    )
    # An empty list: no Access-Control-Allow-Origin for anyone (and Gradio then adds none of its own).
    app.add_middleware(CORSMiddleware, allow_origins=[])
    app.add_middleware(LoginRedirect, user_of=user_of)
    app.add_middleware(UploadGuard, user_of=user_of, access=access)
    throttle = LoginThrottle(
        free_attempts=ui.login_free_attempts, base_delay_s=ui.login_delay_s, max_delay_s=ui.login_max_delay_s
    )
    add_login_routes(app, ui, sessions, throttle, authenticate=access.authenticate)
    app.add_middleware(RequestGuard, ui=ui)  # added last: runs first
    mount_api(app, api)

    def api_key_valid(request: Request) -> bool:
        """An API client may open the ``link`` of a citation with its key."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and access.key_caller(token.strip()) is not None

    @app.get(DOCUMENT_ROUTE + "{doc_id}", include_in_schema=False)
    def open_document(doc_id: str, request: Request) -> Response:
        """An indexed local file, checked against the index as it is now (a removed document is gone)."""
        if user_of(request) is None and not api_key_valid(request):
            return PlainTextResponse("Identifiez-vous d'abord.", 401)
        record = store.documents().get(doc_id)
        if record is None or record.source.startswith(("http://", "https://")):
            return PlainTextResponse(NOT_FOUND, 404)
        path = Path(record.source)
        try:
            served = serve_document(path, record.metadata, read_text)
        except OSError:
            return PlainTextResponse(NOT_FOUND, 404)
        return Response(served.body, media_type=served.media_type, headers=served.headers)

    blocks.queue(default_concurrency_limit=2)
    return gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        auth_dependency=user_of,
        auth_message=AUTH_MESSAGE,
        server_name=ui.host,
        server_port=ui.port,
        # Gradio's own hard limit (its message is in English), well above ours so that most oversized files
        # reach the form's French refusal, while a huge upload is still cut off before filling the disk
        max_file_size=f"{int(ui.max_upload_mb * 4) + 1}mb",
        footer_links=[],
        run_history=False,
        css=CSS,
        js=CLICK_JS,
        i18n=FRENCH,  # Gradio's own texts (copy buttons) in French
    )
