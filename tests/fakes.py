"""Stand-ins shared by the tests (through conftest.py, never imported from another test file).

- A scripted OpenAI-compatible server on 127.0.0.1: the fake of a remote LLM service, at the HTTP level. A test
  enqueues the server's replies (normal stream, dropped stream, HTTP errors, silence) on the ``endpoint`` fixture
  and reads the requests it received. The replies are built here.
- ``HashingEmbedder``: a small real embedder for tests where retrieval quality is not what is tested.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from assistant.backends.llm import LLMUnavailable, Message, OpenAICompatibleChat, StreamStats

Reply = Callable[["ScriptedHandler", dict], None]

QUESTION = [Message("system", "Réponds en français."), Message("user", "Qu'est-ce qu'un QPV ?")]


class ScriptedEndpoint:
    """Replies are consumed in order; the last one is reused for any further request."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[dict] = []
        self.released = threading.Event()  # wakes silent replies when the test ends
        self._lock = threading.Lock()

    def next_reply(self, body: dict) -> Reply:
        with self._lock:
            self.requests.append(body)
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


class ScriptedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ScriptedServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.close_connection = True
        try:
            self.server.endpoint.next_reply(body)(self, body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    def do_GET(self) -> None:
        self.close_connection = True
        if self.path == "/v1/models":
            send_json(
                self, 200, {"object": "list", "data": [{"id": "scripted", "object": "model", "owned_by": "test"}]}
            )
        else:
            send_json(self, 404, {"error": {"message": "not found"}})

    def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
        pass


class ScriptedServer(ThreadingHTTPServer):
    daemon_threads = True  # a silent reply must not block shutdown
    endpoint: ScriptedEndpoint


@contextmanager
def serve_scripted_endpoint() -> Iterator[ScriptedEndpoint]:
    """A scripted server on a free loopback port for the duration of the ``with`` (the ``endpoint`` fixture)."""
    server = ScriptedServer(("127.0.0.1", 0), ScriptedHandler)
    server.endpoint = ScriptedEndpoint()
    server.endpoint.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.endpoint
    finally:
        server.endpoint.released.set()
        server.shutdown()
        server.server_close()


def make_chat(endpoint: ScriptedEndpoint, **options: object) -> OpenAICompatibleChat:
    return OpenAICompatibleChat(base_url=endpoint.base_url, api_key="cle-de-test", model="scripted", **options)


def collect(chat: OpenAICompatibleChat, stats: StreamStats | None = None) -> list[str]:
    return list(chat.stream(QUESTION, max_tokens=32, temperature=0.1, stats=stats))


def collect_until_failure(chat: OpenAICompatibleChat) -> tuple[list[str], LLMUnavailable]:
    deltas: list[str] = []
    with pytest.raises(LLMUnavailable) as failure:
        for delta in chat.stream(QUESTION, max_tokens=32, temperature=0.1):
            deltas.append(delta)
    return deltas, failure.value


# --- replies -------------------------------------------------------------------------------------


def send_json(handler: BaseHTTPRequestHandler, status: int, payload: dict, headers: dict | None = None) -> None:
    data = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


def chunk(delta: dict, finish_reason: str | None = None) -> dict:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "scripted",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def usage_chunk(prompt_tokens: int, completion_tokens: int) -> dict:
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    return {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0, "model": "scripted"} | {
        "choices": [],
        "usage": usage,
    }


def start_sse(handler: BaseHTTPRequestHandler, *, chunked: bool = False) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    if chunked:
        handler.send_header("Transfer-Encoding", "chunked")
    else:
        handler.send_header("Connection", "close")  # body ends when the socket closes
    handler.end_headers()


def write_event(handler: BaseHTTPRequestHandler, data: dict | str, *, chunked: bool = False) -> None:
    payload = f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()
    if chunked:
        payload = f"{len(payload):x}\r\n".encode() + payload + b"\r\n"
    handler.wfile.write(payload)
    handler.wfile.flush()


def stream_reply(deltas: list[str], *, finish_reason: str = "stop", usage: tuple[int, int] = (21, 3)) -> Reply:
    """A well-behaved stream; usage is sent only when the request asked for it, as real servers do."""

    def reply(handler: ScriptedHandler, body: dict) -> None:
        start_sse(handler)
        write_event(handler, chunk({"role": "assistant", "content": ""}))
        for delta in deltas:
            write_event(handler, chunk({"content": delta}))
        write_event(handler, chunk({}, finish_reason))
        if body.get("stream_options", {}).get("include_usage"):
            write_event(handler, usage_chunk(*usage))
        write_event(handler, "[DONE]")

    return reply


def dropped_reply(deltas: list[str], *, chunked: bool) -> Reply:
    """Some deltas, then the connection closes: cleanly (no [DONE], no finish_reason) or mid-chunk."""

    def reply(handler: ScriptedHandler, body: dict) -> None:
        start_sse(handler, chunked=chunked)
        for delta in deltas:
            write_event(handler, chunk({"content": delta}), chunked=chunked)
        if chunked:
            handler.wfile.write(b'400\r\ndata: {"choi')  # announces 1024 bytes, sends 16
            handler.wfile.flush()

    return reply


def status_reply(status: int, message: str, headers: dict | None = None) -> Reply:
    def reply(handler: ScriptedHandler, body: dict) -> None:
        send_json(handler, status, {"error": {"message": message, "type": "scripted", "code": status}}, headers)

    return reply


def silent_reply(seconds: float, *, after_deltas: list[str] | None = None) -> Reply:
    """Says nothing for `seconds` (or until the test ends), before or after some deltas."""

    def reply(handler: ScriptedHandler, body: dict) -> None:
        if after_deltas is not None:
            start_sse(handler)
            for delta in after_deltas:
                write_event(handler, chunk({"content": delta}))
        handler.server.endpoint.released.wait(seconds)

    return reply


def rejects_stream_options(handler: ScriptedHandler, body: dict) -> None:
    if "stream_options" in body:
        status_reply(400, "Unrecognized request argument supplied: stream_options")(handler, body)
    else:
        stream_reply(["Quartier ", "prioritaire."])(handler, body)


def invalid_json_reply(handler: ScriptedHandler, body: dict) -> None:
    start_sse(handler)
    write_event(handler, chunk({"content": "Bon"}))
    write_event(handler, '{"choices": [{"delta": ')


class HashingEmbedder:
    """Feature hashing: each word (lower case, accents folded) and each of its character trigrams adds ±1 to one of
    ``dim`` features, and the vector is L2-normalised. Texts sharing words come out close, whatever the machine and
    the run, with no model to load: for tests of the interface, the API, accounts, indexing or jobs, where what
    matters is that passages are stored and found, not how well e5 ranks them. Queries and passages embed alike."""

    # e5-small's width: an index begun by the real embedder (the kill test's subprocess) can be continued by this one
    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.name = f"test/feature-hashing-{dim}"

    def _features(self, text: str) -> Iterator[str]:
        folded = unicodedata.normalize("NFKD", text.casefold())
        for word in re.findall(r"\w+", "".join(c for c in folded if not unicodedata.combining(c))):
            yield word
            yield from (f"#{word[i : i + 3]}" for i in range(len(word) - 2))

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for feature in self._features(text):
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            vector[int.from_bytes(digest[:4], "little") % self.dim] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:  # no word at all: one fixed direction, since a zero vector has no cosine
            vector[0], norm = 1.0, 1.0
        return vector / norm

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)
