"""A vector server that stops answering: through real HTTP, the API answers 503 with ``Retry-After`` and the French
message, the chat shows that message, the log says what happened; once the server is back, the same requests work.

The `chroma run` server here is the test's own (it is stopped), not the session's shared one.
"""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import chromadb
import httpx
import pytest
from files import write_corpus
from ui_support import free_port

from assistant.accounts import AccountStore, Role
from assistant.backends.unreachable import INDEX_UNAVAILABLE, IndexUnavailable, guarded
from assistant.factory import build_services
from assistant.feedback import FeedbackStore
from assistant.serving import chroma_command, wait_for_chroma
from assistant.settings import Settings
from assistant.ui import build_ui, launch
from assistant.ui.actions import Actions
from assistant.ui.facets import FACETS

pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")


class ChromaProcess:
    """A `chroma run` server on a fixed loopback port and folder, which the test stops and starts again."""

    def __init__(self, path: Path) -> None:
        self.path, self.port = path, free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            chroma_command(self.path, "127.0.0.1", self.port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_chroma("127.0.0.1", self.port, self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaProcess]:
    server = ChromaProcess(tmp_path / "chroma-server")
    server.start()
    yield server
    server.stop()


def _sse_events(text: str) -> list[dict]:
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: {")]


@pytest.mark.slow  # two `chroma run` starts and a web server
def test_a_stopped_vector_server_answers_503_in_french_and_the_service_resumes_when_it_is_back(
    chroma: ChromaProcess, tmp_path, embedding_cache_dir, hashing_embedder, caplog
):
    settings = Settings(data_dir=tmp_path / "data", cache_dir=embedding_cache_dir)
    settings.chroma.host, settings.chroma.port = "127.0.0.1", chroma.port
    settings.generation.answerer = "offline"
    services = build_services(settings, embedder=hashing_embedder)
    services.indexer.index_paths([write_corpus(tmp_path / "corpus")])
    accounts = AccountStore(settings.paths.accounts)
    accounts.add_user("alice", "alice-secret-2026", Role.ADMINISTRATEUR)
    key = accounts.create_key("alice", "tests")[1]
    running = launch(build_ui(services), services, port=free_port(), block=False)
    client = httpx.Client(base_url=running.url.rstrip("/"), headers={"Authorization": f"Bearer {key}"}, timeout=60)
    search = {"query": "bilan positif", "k": 3}
    chat = {"messages": [{"role": "user", "content": "Quel bilan pour les fiches ?"}]}
    upload = tmp_path / "nouvelle-fiche.md"
    upload.write_text("# Nouvelle fiche\n\nUn atelier de couture ouvre au centre social.\n", "utf-8")
    try:
        assert client.post("/v1/search", json=search).status_code == 200
        chroma.stop()

        caplog.clear()
        with caplog.at_level(logging.WARNING):
            refused = [
                client.post("/v1/search", json=search),
                client.post("/v1/chat/completions", json=chat),
                client.post("/v1/documents", files=[("files", (upload.name, upload.read_bytes(), "text/markdown"))]),
            ]
            for response in refused:
                assert response.status_code == 503, response.text
                assert response.headers["Retry-After"] == "5"
                assert response.json()["error"]["message"] == INDEX_UNAVAILABLE
                assert response.json()["error"]["code"] == "index_unavailable"

            streamed = client.post("/v1/chat/completions", json={**chat, "stream": True})
            assert [e["error"]["message"] for e in _sse_events(streamed.text) if "error" in e] == [INDEX_UNAVAILABLE]

        said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert sum("answered 503" in m and f"127.0.0.1:{chroma.port} unreachable" in m for m in said) == 3, said
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no traceback: nothing is broken here

        # the chat of the interface: the French message, and the question back in its box to be asked again
        actions = Actions(
            services.assistant,
            services.indexer,
            services.store,
            FeedbackStore(tmp_path / "feedback.sqlite3"),
            settings,
            answerer_kind=services.answerer_kind,
        )
        with pytest.warns(UserWarning, match="momentanément indisponible"):
            views = list(actions.respond("Quel bilan ?", [], [], False, None, None, *[None] * len(FACETS)))
        assert (views[-1].chatbot, views[-1].question) == ([], "Quel bilan ?")

        chroma.start()  # back on the same port and folder: the same client answers again
        found = client.post("/v1/search", json=search)
        assert found.status_code == 200 and found.json()["data"], found.text
        assert client.post("/v1/chat/completions", json=chat).status_code == 200
    finally:
        client.close()
        running.close()
        services.close()


def test_a_guarded_collection_passes_results_and_other_errors_through(tmp_path):
    client = chromadb.PersistentClient(
        path=str(tmp_path), settings=chromadb.config.Settings(anonymized_telemetry=False)
    )
    collection = guarded(client.create_collection("passages", embedding_function=None), "127.0.0.1:8000")
    collection.add(ids=["a"], embeddings=[[0.1, 0.2]], documents=["quartier"])
    assert (collection.name, collection.count()) == ("passages", 1)
    with pytest.raises(Exception) as raised:
        collection.add(ids=["b"], embeddings=[[0.1, 0.2, 0.3]])  # a wrong dimension is a bug, not an outage
    assert not isinstance(raised.value, IndexUnavailable)
