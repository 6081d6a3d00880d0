"""The web application: our routes and checks in front, the Gradio interface mounted behind them.

The product owns its HTTP layer: the Host/Origin check and security headers
(``request_guard``), no cross-origin reads, the login (``login``) and the route that
serves indexed documents (``document_view``). Gradio keeps its page and API at the
same paths (``/``, ``/gradio_api/…``).
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.backends.store import DocumentRegistry
from assistant.settings import UISettings
from assistant.ui.assets import CLICK_JS, CSS
from assistant.ui.document_view import DOCUMENT_ROUTE, TextReader, serve_document
from assistant.ui.layout import FRENCH
from assistant.ui.login import LoginThrottle, Sessions, add_login_routes
from assistant.ui.request_guard import RequestGuard

AUTH_MESSAGE = "Assistant documentaire : identifiez-vous."
NOT_FOUND = "Ce document n'est pas (ou plus) dans l'index."


class LoginRedirect:
    """ASGI middleware: the page itself (``GET /``) sends a visitor without a session to the login form."""

    def __init__(self, app: ASGIApp, sessions: Sessions) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == "/":
            request = Request(scope)
            if self.sessions.user_of(request) is None:
                await RedirectResponse("/login", 303)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def build_web_app(blocks: gr.Blocks, ui: UISettings, store: DocumentRegistry, read_text: TextReader) -> FastAPI:
    """The FastAPI app serving ``blocks`` with the settings ``ui``; the document route checks ``store``'s registry
    and shows text documents as ``read_text`` reads them."""
    protected = bool(ui.auth_user and ui.auth_password)
    sessions = Sessions()
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    # An empty list: no Access-Control-Allow-Origin for anyone (and Gradio then adds none of its own).
    app.add_middleware(CORSMiddleware, allow_origins=[])
    if protected:
        app.add_middleware(LoginRedirect, sessions=sessions)
        throttle = LoginThrottle(
            free_attempts=ui.login_free_attempts, base_delay_s=ui.login_delay_s, max_delay_s=ui.login_max_delay_s
        )
        add_login_routes(app, ui, sessions, throttle)
    app.add_middleware(RequestGuard, ui=ui)  # added last: runs first

    @app.get(DOCUMENT_ROUTE + "{doc_id}", include_in_schema=False)
    def open_document(doc_id: str, request: Request) -> Response:
        """An indexed local file, checked against the index as it is now (a removed document is gone)."""
        if protected and sessions.user_of(request) is None:
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
        auth_dependency=sessions.user_of if protected else None,
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
