"""The sync tests again, against a real `chroma run` server on 127.0.0.1 (deployments beyond one machine)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from test_sync import (  # noqa: F401  (collected again here, against the server)
    test_half_written_document_is_invisible_and_repaired,
    test_prune_removes_documents_whose_files_are_gone,
    test_second_run_embeds_nothing_and_a_change_reembeds_only_that_document,
)

from assistant.factory import build_services


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    executable = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = _free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    process = subprocess.Popen(
        [executable, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("chroma run did not start on 127.0.0.1")
        time.sleep(0.3)
    yield "127.0.0.1", port
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture
def services(settings, embedder, chroma_server):
    host, port = chroma_server
    settings.chroma.host, settings.chroma.port = host, port
    settings.chroma.collection = f"test-{uuid.uuid4().hex[:12]}"  # tests share one server
    return build_services(settings, embedder=embedder)


def test_chunks_live_on_the_server(services, chroma_server, tmp_path):
    import chromadb
    from test_sync import ingest, write_corpus

    ingest(services, write_corpus(tmp_path / "corpus"))
    host, port = chroma_server
    other_client = chromadb.HttpClient(host=host, port=port)
    collection = other_client.get_collection(services.settings.chroma.collection)
    assert collection.count() == services.store.chunk_count() > 0
    assert not (services.settings.data_dir / "chroma").exists()
