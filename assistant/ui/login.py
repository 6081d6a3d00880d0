"""Login: one user and password from the settings, sessions by cookie, and a delay that grows with failures.

Each failed attempt is logged. After ``free_attempts`` failures for a user name, or from a
client address, further attempts are refused until a delay has passed: ``base_delay_s``,
then doubling up to ``max_delay_s``. A success clears both counts.
"""

from __future__ import annotations

import html
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from assistant.settings import UISettings

log = logging.getLogger(__name__)

COOKIE = "assistant-session"
SESSION_S = 12 * 3600
MAX_TRACKED = 10_000  # user names and addresses remembered; the oldest are forgotten beyond that
LOGIN_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0


class LoginThrottle:
    """Failed attempts per key (a user name, a client address) and the wait they impose."""

    def __init__(
        self,
        *,
        free_attempts: int = 3,
        base_delay_s: float = 2.0,
        max_delay_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free_attempts = free_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.clock = clock
        self._failures: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def delay_s(self, failures: int) -> float:
        """The wait after ``failures`` consecutive failures: none for the first free ones, then doubling."""
        if failures < self.free_attempts:
            return 0.0
        return min(self.max_delay_s, self.base_delay_s * 2 ** (failures - self.free_attempts))

    def wait_s(self, *keys: str) -> float:
        """Seconds before any of ``keys`` may try again (0 when they may now)."""
        now = self.clock()
        with self._lock:
            return max((self._failures[k].locked_until - now for k in keys if k in self._failures), default=0.0)

    def fail(self, *keys: str) -> int:
        """Count a failure for each key; returns the largest failure count."""
        now = self.clock()
        worst = 0
        with self._lock:
            for key in keys:
                entry = self._failures.pop(key, None) or _Failures()  # re-inserted: the dict stays oldest first
                entry.count += 1
                entry.locked_until = now + self.delay_s(entry.count)
                self._failures[key] = entry
                worst = max(worst, entry.count)
            while len(self._failures) > MAX_TRACKED:
                del self._failures[next(iter(self._failures))]
        return worst

    def succeed(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


class Sessions:
    """Session tokens (random, in memory) -> user name, valid ``SESSION_S`` seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._tokens: dict[str, tuple[str, float]] = {}

    def open(self, user: str) -> str:
        token = secrets.token_urlsafe(32)
        self._tokens[token] = (user, self.clock() + SESSION_S)
        return token

    def user(self, token: str | None) -> str | None:
        found = self._tokens.get(token or "")
        if found is None:
            return None
        if found[1] < self.clock():
            self._tokens.pop(token or "", None)
            return None
        return found[0]

    def close(self, token: str | None) -> None:
        self._tokens.pop(token or "", None)

    def user_of(self, request: Request) -> str | None:
        """The logged-in user of ``request`` (Gradio's ``auth_dependency``), or None."""
        return self.user(request.cookies.get(COOKIE))


def login_page(message: str = "", auth_message: str = "") -> str:
    """The French login form; ``message`` says why the last attempt failed."""
    error = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Connexion</title><style>'
        "body{font-family:system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}"
        "label,input,button{display:block;width:100%;margin:.3rem 0}input{padding:.4rem}"
        "button{padding:.5rem;margin-top:1rem}.error{color:#b91c1c}</style></head><body>"
        f"<h1>Connexion</h1><p>{html.escape(auth_message)}</p>{error}"
        '<form method="post" action="/login">'
        '<label for="username">Identifiant</label><input id="username" name="username" autocomplete="username">'
        '<label for="password">Mot de passe</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password">'
        '<button type="submit">Se connecter</button></form></body></html>'
    )


def add_login_routes(
    app: FastAPI,
    ui: UISettings,
    sessions: Sessions,
    throttle: LoginThrottle,
    *,
    authenticate: Callable[[str, str], str | None] | None = None,
) -> None:
    """``GET/POST /login`` and ``GET /logout``: ``authenticate(user, password)`` gives the user name or None
    (by default, the one user and password of ``ui``)."""

    def settings_user(user: str, password: str) -> str | None:
        right_user = secrets.compare_digest(user.encode(), (ui.auth_user or "").encode())
        right_password = secrets.compare_digest(password.encode(), (ui.auth_password or "").encode())
        return user if right_user and right_password and ui.auth_user and ui.auth_password else None

    check = authenticate or settings_user
    auth_message = "Assistant documentaire : identifiez-vous."

    def answer(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        if "text/html" in request.headers.get("accept", ""):
            page = login_page(message, auth_message)
            return HTMLResponse(page, status, headers={**(headers or {}), "Content-Security-Policy": LOGIN_POLICY})
        return JSONResponse({"detail": message}, status, headers=headers)

    @app.get("/login", include_in_schema=False)
    def show_login() -> HTMLResponse:
        return HTMLResponse(login_page(auth_message=auth_message), headers={"Content-Security-Policy": LOGIN_POLICY})

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await request.form()
        user = str(form.get("username", "")).strip()
        password = str(form.get("password", ""))
        address = request.client.host if request.client else "?"
        keys = (f"user:{user.casefold()}", f"address:{address}")
        wait = throttle.wait_s(*keys)
        if wait > 0:
            log.warning("login refused for user %r from %s: retry in %.0f s", user, address, wait)
            seconds = max(1, round(wait))
            message = f"Trop d'essais infructueux : réessayez dans {seconds} s."
            return answer(request, 429, message, {"Retry-After": str(seconds)})
        name = check(user, password)
        if name is None:
            failures = throttle.fail(*keys)
            log.warning("login failed for user %r from %s (%d failed attempts in a row)", user, address, failures)
            return answer(request, 400, "Identifiant ou mot de passe incorrect.")
        throttle.succeed(*keys)
        log.info("login of %r from %s", name, address)
        token = sessions.open(name)
        if "text/html" in request.headers.get("accept", ""):
            response: Response = RedirectResponse("/", 303)
        else:
            response = JSONResponse({"success": True})
        response.set_cookie(COOKIE, token, max_age=SESSION_S, httponly=True, samesite="lax")
        return response

    @app.get("/logout", include_in_schema=False)
    def logout(request: Request) -> RedirectResponse:
        sessions.close(request.cookies.get(COOKIE))
        response = RedirectResponse("/login", 303)
        response.delete_cookie(COOKIE)
        return response
