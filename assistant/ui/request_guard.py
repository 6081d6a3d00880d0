"""Which Host and Origin the interface answers to, and the headers every response carries.

A browser page on another site can reach an app listening on this machine (DNS
rebinding: a foreign name resolved to 127.0.0.1). Such requests carry that foreign
name in ``Host`` or ``Origin``: they are refused before any route runs.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.settings import UISettings

log = logging.getLogger(__name__)

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
WILDCARD_ADDRESSES = ("0.0.0.0", "::", "")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def allowed_names(ui: UISettings) -> frozenset[str]:
    """Host names the interface answers to: the loopback names, its listening address and ``ui.allowed_hosts``."""
    names = {*LOOPBACK_NAMES, *(h.strip().lower().rstrip(".") for h in ui.allowed_hosts)}
    if ui.host not in WILDCARD_ADDRESSES:
        names.add(ui.host.lower())
    return frozenset(names)


def host_name(host_header: str) -> str:
    """``example.org:7860`` -> ``example.org``; ``[::1]:7860`` -> ``::1``; lower case."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def is_allowed_host(host: str, names: frozenset[str], *, any_address: bool) -> bool:
    """True for a listed name; also for any IP address when the app listens on all interfaces.

    An IP address typed in the address bar is not a rebinding (the page's origin is that
    address); a name is only trusted when it is listed.
    """
    if not host:
        return False
    if host in names or "*" in names:
        return True
    if not any_address:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_allowed_origin(origin: str, names: frozenset[str], *, any_address: bool) -> bool:
    """True when the ``Origin`` header names an http(s) page of an allowed host (``null`` never is)."""
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    return is_allowed_host(parts.hostname.rstrip("."), names, any_address=any_address)


class RequestGuard:
    """ASGI middleware: a foreign Host gets 400, a foreign Origin 403; every response gets ``SECURITY_HEADERS``."""

    def __init__(self, app: ASGIApp, ui: UISettings) -> None:
        self.app = app
        self.names = allowed_names(ui)
        self.any_address = ui.host in WILDCARD_ADDRESSES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = host_name(headers.get("host", ""))
        origin = headers.get("origin")
        refusal = None
        if not is_allowed_host(host, self.names, any_address=self.any_address):
            refusal = PlainTextResponse(
                "Adresse non autorisée : ajoutez ce nom à ui.allowed_hosts (ASSISTANT_UI__ALLOWED_HOSTS).", 400
            )
            log.warning("request refused: foreign Host %r for %s", host, scope.get("path"))
        elif origin is not None and not is_allowed_origin(origin, self.names, any_address=self.any_address):
            refusal = PlainTextResponse("Origine non autorisée.", 403)
            log.warning("request refused: foreign Origin %r for %s", origin, scope.get("path"))
        if refusal is not None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await refusal(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in response_headers:
                        response_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
