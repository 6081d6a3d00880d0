"""The durable ingest queue (assistant.jobs): jobs enqueued with no worker running are run later, once.

The queue and the board are real SQLite files of tmp_path; a second :class:`IngestQueue` over the same
files stands for the worker process (huey's own ``dequeue``/``execute`` run what its consumer would).
The worker as a process, killed mid-job, is tested in ``test_scale_out.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from assistant.backends.unreachable import IndexUnavailable
from assistant.corpus import Progress
from assistant.jobs import IngestQueue, Job, JobBoard


class RecordingRunner:
    """A job runner that records the jobs it ran and reports one progress step."""

    def __init__(self) -> None:
        self.ran: list[int] = []

    def __call__(self, job: Job, on_progress) -> tuple[bool, str]:
        self.ran.append(job.id)
        on_progress(Progress(1, 2, Path(job.targets[0]).name))
        return True, f"Ajoutés : {len(job.targets)}"


def drain(queue: IngestQueue) -> int:
    """Run every message waiting in huey's queue, as the consumer would; returns how many ran."""
    count = 0
    while (message := queue.huey.dequeue()) is not None:
        queue.huey.execute(message)
        count += 1
    return count


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "queue.sqlite3", tmp_path / "jobs.sqlite3"


def test_jobs_enqueued_without_a_worker_are_run_once_when_one_starts(paths):
    queue_path, board_path = paths
    app = IngestQueue(queue_path, JobBoard(board_path))
    first = app.enqueue_files([Path("/docs/a.pdf"), Path("/docs/b.pdf")])
    second = app.enqueue_folder("/docs/rapports")
    assert [j.state for j in app.board.recent()] == ["queued", "queued"]

    runner = RecordingRunner()
    worker = IngestQueue(queue_path, JobBoard(board_path), runner)  # another process, started later
    worker.resend_unfinished()  # what a starting worker does: both jobs are now sent twice
    assert drain(worker) == 4
    assert runner.ran == [first, second]  # the duplicate messages found the jobs finished
    done = app.board.get(first)
    assert (done.state, done.attempts, done.done, done.total, done.summary) == ("done", 1, 1, 2, "Ajoutés : 2")
    assert done.describe() == "Tâche 1 (2 fichier(s)) : terminée — Ajoutés : 2"
    assert app.board.get(second).describe() == "Tâche 2 (/docs/rapports) : terminée — Ajoutés : 1"


def test_a_failing_job_is_marked_failed_in_french_and_not_retried(paths):
    queue_path, board_path = paths

    def broken(job: Job, on_progress) -> tuple[bool, str]:
        raise RuntimeError("store down")

    worker = IngestQueue(queue_path, JobBoard(board_path), broken)
    job_id = worker.enqueue_files([Path("/docs/a.pdf")])
    drain(worker)
    job = worker.board.get(job_id)
    assert job.state == "failed"
    assert job.summary == "l'indexation s'est interrompue (erreur interne) : relancez-la"
    assert worker.resend_unfinished() == 0


@pytest.mark.parametrize(
    "cut_off",
    [IndexUnavailable("vector server 127.0.0.1:8000 unreachable"), httpx.ConnectError("Connection refused")],
    ids=["vector server", "embedding service"],
)
def test_a_job_cut_off_from_the_index_server_waits_and_runs_again_instead_of_failing(paths, cut_off):
    queue_path, board_path = paths
    outcomes = [cut_off, None]
    ran: list[int] = []

    def flaky(job: Job, on_progress) -> tuple[bool, str]:
        ran.append(job.id)
        if (outcome := outcomes.pop(0)) is not None:
            raise outcome
        return True, "Ajoutés : 1"

    worker = IngestQueue(queue_path, JobBoard(board_path), flaky)
    job_id = worker.enqueue_files([Path("/docs/a.pdf")])
    drain(worker)
    waiting = worker.board.get(job_id)
    assert (waiting.state, waiting.pid) == ("queued", None)  # back in the queue, not failed
    assert worker.huey.scheduled_count() == 1  # to run again after a delay
    for message in worker.huey.scheduled():
        message.eta = None  # its time has come (the consumer's scheduler would wait for it)
        worker.huey.execute(message)
    done = worker.board.get(job_id)
    assert (done.state, done.attempts, done.summary) == ("done", 2, "Ajoutés : 1")
    assert ran == [job_id, job_id]


def test_an_app_process_refuses_to_run_jobs(paths):
    queue_path, board_path = paths
    app = IngestQueue(queue_path, JobBoard(board_path))
    app.enqueue_files([Path("/docs/a.pdf")])
    with pytest.raises(RuntimeError, match="python -m assistant worker"):
        app._run_job(1)


def test_a_running_job_is_not_claimed_twice_while_its_worker_lives(paths):
    board = JobBoard(paths[1])
    job_id = board.add("files", ["/docs/a.pdf"])
    assert board.claim(job_id).state == "running"
    assert board.claim(job_id) is None
    assert board.unfinished() == []
    board.finish(job_id, "done", "ok")
    assert board.claim(job_id) is None


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_job_of_a_dead_worker_on_this_machine_is_claimed_again_at_once(paths):
    board = JobBoard(paths[1])
    job_id = board.add("files", ["/docs/a.pdf"])
    board.claim(job_id)
    with board._connect() as db:  # the claim as a worker now killed left it
        db.execute("UPDATE jobs SET pid = ? WHERE id = ?", (_dead_pid(), job_id))
    assert [j.id for j in board.unfinished()] == [job_id]
    reclaimed = board.claim(job_id)
    assert (reclaimed.state, reclaimed.attempts, reclaimed.pid) == ("running", 2, os.getpid())


def test_the_job_of_a_silent_worker_elsewhere_is_claimed_after_the_lease(paths):
    board = JobBoard(paths[1], lease_s=60)
    job_id = board.add("files", ["/docs/a.pdf"])
    board.claim(job_id)
    with board._connect() as db:
        db.execute("UPDATE jobs SET host = 'autre-machine', pid = 1, heartbeat_at = ? WHERE id = ?", (time.time(), 1))
    assert board.claim(job_id) is None  # heard from recently: still its worker's
    with board._connect() as db:
        db.execute("UPDATE jobs SET heartbeat_at = ? WHERE id = ?", (time.time() - 61, job_id))
    assert board.claim(job_id).attempts == 2


def test_in_queue_mode_the_documents_page_enqueues_and_the_worker_indexes(settings, hashing_embedder, tmp_path):
    from assistant.factory import build_ingest_queue, build_services
    from assistant.jobs import indexing_runner
    from assistant.ui.actions import Actions

    settings.ingest.mode = "queue"
    services = build_services(settings, embedder=hashing_embedder)
    actions = Actions.from_services(services)
    sent = tmp_path / "envoi" / "note.md"
    sent.parent.mkdir()
    sent.write_text("# Note\n\nLe conseil citoyen de Roubaix se réunit chaque trimestre.\n", "utf-8")
    message = actions.ingest_uploads([str(sent)], progress=lambda *a, **k: None).message
    assert message.startswith("Tâche d'indexation n° 1 en file d'attente")
    assert services.store.documents() == {}  # the app indexed nothing itself
    assert "- Tâche 1 (1 fichier(s)) : en attente" in actions.refresh().stats

    worker = build_ingest_queue(settings, indexing_runner(services.indexer, [settings.paths.uploads]))
    drain(worker)
    job = worker.board.get(1)
    assert job.state == "done", job.summary
    assert job.summary.startswith("Ajoutés : 1 ·")
    [record] = services.store.documents().values()
    assert Path(record.source).parent == settings.paths.uploads  # our own copy, under a unique name
    assert services.searcher.search("conseil citoyen Roubaix", k=1)[0].chunk.doc_id == record.doc_id
    assert "- Tâche 1 (1 fichier(s)) : terminée — Ajoutés : 1 ·" in actions.refresh().stats

    assert actions.reindex(record.doc_id, progress=lambda *a, **k: None).message.startswith("Tâche d'indexation n° 2")
    drain(worker)
    reindexed = worker.board.get(2)
    assert (reindexed.kind, reindexed.state) == ("reindex", "done")
    assert "mis à jour : 1" in reindexed.summary  # read and embedded again although unchanged
    services.close()


class SlowStore:
    """A store whose writes wait for a signal, recording when each write and repair begins and ends."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.release = threading.Event()
        self.writing = threading.Event()

    def put_document(self, document, content_hash, chunks, vectors) -> None:
        self.events.append("put begins")
        self.writing.set()
        self.release.wait(timeout=10)
        self.events.append("put ends")

    def repair(self) -> int:
        self.events.append("repair")
        return 0

    def chunk_count(self) -> int:
        return 7


def test_a_repair_waits_for_the_write_under_way_in_another_writer(tmp_path):
    from assistant.backends.writer_lock import WriterLockedStore

    inner = SlowStore()
    lock = tmp_path / "index-writer.lock"
    worker_side, app_side = WriterLockedStore(inner, lock), WriterLockedStore(inner, lock)  # two lock holders
    writer = threading.Thread(target=worker_side.put_document, args=(None, "h", [], None))
    writer.start()
    assert inner.writing.wait(timeout=10)
    repairer = threading.Thread(target=app_side.repair)
    repairer.start()
    time.sleep(0.3)
    assert inner.events == ["put begins"]  # the repair is held back while the passages are being stored
    inner.release.set()
    writer.join(timeout=10)
    repairer.join(timeout=10)
    assert inner.events == ["put begins", "put ends", "repair"]
    assert app_side.chunk_count() == 7  # reads go straight through
