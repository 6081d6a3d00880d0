"""The vector server out of reach, as one error type: the interfaces map it to « réessayez » (HTTP 503), not a crash.

A store on a ``chroma run`` server talks to it over HTTP (httpx, inside chromadb's ``HttpClient``); when the
server is down, restarting or cut off, every call raises one of httpx's transport errors. The store wraps its
collections with :func:`guarded` so that callers above see :class:`IndexUnavailable` only, whatever call
failed, and the API and the interface each map it in one place.
"""

from __future__ import annotations

import functools
from typing import Any

import httpx

INDEX_UNAVAILABLE = (
    "L'index est momentanément indisponible (serveur de vecteurs injoignable) ; réessayez dans quelques secondes."
)
RETRY_AFTER_S = 5  # a restarted `chroma run` answers again within seconds


class IndexUnavailable(RuntimeError):
    """The vector server did not answer. ``message`` is for users (French); ``str()`` says what failed, for logs."""

    message = INDEX_UNAVAILABLE
    retry_after_s = RETRY_AFTER_S


class _Guarded:
    """A chromadb collection whose transport errors become :class:`IndexUnavailable`."""

    def __init__(self, collection: Any, address: str) -> None:
        self._collection = collection
        self._address = address

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._collection, name)
        if not callable(value):
            return value

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return value(*args, **kwargs)
            except httpx.TransportError as exc:  # refused, reset, timed out: the server is not there now
                raise IndexUnavailable(
                    f"vector server {self._address} unreachable ({type(exc).__name__}: {exc}) "
                    f"during {self._collection.name}.{name}"
                ) from exc

        return call


def guarded(collection: Any, address: str) -> Any:
    """``collection`` (a chromadb ``Collection`` on the server at ``address``) raising IndexUnavailable when out
    of reach."""
    return _Guarded(collection, address)
