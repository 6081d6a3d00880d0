"""Chat models behind one small Protocol; every backend speaks the OpenAI chat API.

Local (llama.cpp server on 127.0.0.1) and remote endpoints share the client code.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import httpx

try:  # openai >= 3 speaks through httpx2, older versions through httpx
    import httpx2

    _HTTPX_MODULES: tuple = (httpx, httpx2)
except ImportError:
    _HTTPX_MODULES = (httpx,)

log = logging.getLogger(__name__)


class LLMUnavailable(Exception):
    """The endpoint failed (timeout, HTTP error, dropped stream); the caller falls back to the offline answer.

    ``str(exc)`` is a short French reason fit for the user's notice.
    """


@dataclass(frozen=True)
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass
class StreamStats:
    """Filled in while streaming: what the server reported at the end."""

    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    first_token_s: float | None = None
    total_s: float | None = None


class ChatModel(Protocol):
    name: str

    def stream(
        self, messages: list[Message], *, max_tokens: int, temperature: float, stats: StreamStats | None = None
    ) -> Iterator[str]:
        """Yield text deltas; raise LLMUnavailable on any endpoint failure, even mid-stream."""
        ...


class OpenAICompatibleChat:
    """Any OpenAI-compatible ``/chat/completions`` endpoint, streamed: OpenAI, Mistral, Albert, vLLM, llama.cpp…

    The openai client retries connection errors, timeouts and 5xx at request time (``max_retries``),
    before any token exists; once a token has been yielded nothing is retried, since the caller
    has already shown it. Every failure comes out as ``LLMUnavailable`` with a French reason.
    """

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str | None,
        model: str,
        timeout_s: float = 60.0,
        connect_timeout_s: float = 5.0,
        max_retries: int = 2,
    ) -> None:
        from openai import OpenAI

        # The read timeout also bounds the silence between two chunks of a stream.
        timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s)
        self._client = OpenAI(
            base_url=base_url, api_key=api_key or "sans-cle", timeout=timeout, max_retries=max_retries
        )
        self.model = model
        self.name = f"openai-compatible:{model}"
        self._send_stream_options = True  # turned off for good once the server rejects them

    def stream(
        self, messages: list[Message], *, max_tokens: int, temperature: float, stats: StreamStats | None = None
    ) -> Iterator[str]:
        """Yield text deltas; ``stats`` gets finish_reason, token usage and timings. Raises LLMUnavailable."""
        stats = stats if stats is not None else StreamStats()
        started = time.perf_counter()
        opened = False
        try:
            chunks = self._open_stream(messages, max_tokens=max_tokens, temperature=temperature)
            opened = True
            with chunks:  # closes the HTTP response even when the caller stops early
                for chunk in chunks:
                    if chunk.usage is not None:
                        stats.prompt_tokens = chunk.usage.prompt_tokens
                        stats.completion_tokens = chunk.usage.completion_tokens
                    for choice in chunk.choices:
                        if choice.finish_reason:
                            stats.finish_reason = choice.finish_reason
                        text = choice.delta.content if choice.delta is not None else None
                        if text:
                            if stats.first_token_s is None:
                                stats.first_token_s = time.perf_counter() - started
                            yield text
        except _endpoint_errors() as exc:
            raise _unavailable(exc, during_stream=opened) from exc
        finally:
            stats.total_s = time.perf_counter() - started
        if stats.finish_reason is None:
            log.warning("Chat stream from %s ended without a finish_reason (connection dropped?)", self.name)
            raise LLMUnavailable("connexion interrompue pendant la réponse")

    def list_models(self) -> list[str]:
        """Model ids the endpoint serves, for the UI; raises LLMUnavailable if it does not answer."""
        try:
            return [model.id for model in self._client.models.list()]
        except _endpoint_errors() as exc:
            raise _unavailable(exc, during_stream=False) from exc

    def _open_stream(self, messages: list[Message], *, max_tokens: int, temperature: float):  # -> openai.Stream
        import openai

        request = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        if self._send_stream_options:
            try:
                return self._client.chat.completions.create(**request, stream_options={"include_usage": True})
            except openai.BadRequestError as exc:
                if "stream_options" not in f"{exc} {exc.body}":
                    raise
                log.info(
                    "%s rejects stream_options (%s); retrying without, token usage will be missing", self.name, exc
                )
                self._send_stream_options = False
        return self._client.chat.completions.create(**request)


@functools.cache
def _endpoint_errors() -> tuple[type[Exception], ...]:
    """What an endpoint failure can raise: the openai client's errors, raw transport errors, bad JSON.

    Raw transport errors escape some client versions while a stream is read (openai 1.x).
    """
    import openai

    transport = tuple(error for m in _HTTPX_MODULES for error in (m.HTTPError, m.StreamError))
    return (openai.OpenAIError, ValueError, *transport)


def _unavailable(exc: Exception, *, during_stream: bool) -> LLMUnavailable:
    where = "mid-stream" if during_stream else "at request time"
    log.warning("Chat endpoint failed %s: %s: %s (cause: %r)", where, type(exc).__name__, exc, exc.__cause__)
    return LLMUnavailable(_french_reason(exc, during_stream=during_stream))


def _french_reason(exc: Exception, *, during_stream: bool) -> str:
    import openai

    if isinstance(exc, (openai.APITimeoutError, *(m.TimeoutException for m in _HTTPX_MODULES))):
        if during_stream:
            return "le service de génération ne répond plus (délai dépassé pendant la réponse)"
        return "le service de génération ne répond pas (délai dépassé)"
    if isinstance(exc, openai.APIStatusError):
        return _status_reason(exc.status_code, f"{exc} {exc.body}")
    if isinstance(exc, ValueError):  # JSON or schema of a chunk
        return "réponse illisible du service de génération"
    if isinstance(exc, openai.APIConnectionError) and not during_stream:
        return "service de génération injoignable : vérifiez son adresse (base_url) et qu'il est démarré"
    if isinstance(exc, openai.APIError) and not isinstance(exc, openai.APIConnectionError):
        return "erreur du service de génération pendant la réponse"  # an error event inside the stream
    return "connexion interrompue pendant la réponse"


def _status_reason(status: int, detail: str) -> str:
    if status == 401:
        return "clé d'API refusée (HTTP 401) : vérifiez OPENAI_API_KEY / la configuration"
    if status == 403:
        return "accès refusé par le service de génération (HTTP 403) : vérifiez la clé d'API et les droits du compte"
    if status == 404:
        return "modèle ou adresse introuvable (HTTP 404) : vérifiez le nom du modèle et l'adresse du service"
    if status == 429:
        return "service de génération saturé ou quota atteint (HTTP 429) : réessayez dans un moment"
    if status in (400, 413) and "context" in detail.lower():
        return f"question et passages trop longs pour le modèle (HTTP {status}) : réduisez le nombre de passages"
    if 400 <= status < 500:
        return f"requête refusée par le service de génération (HTTP {status})"
    return f"erreur du service de génération (HTTP {status})"
