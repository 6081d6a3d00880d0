"""The durable ingest queue: jobs the app enqueues, ``python -m assistant worker`` runs, any process reads.

Two SQLite files of the data folder, both named by ``settings.paths``:

- ``queue.sqlite3`` is huey's own queue (:class:`huey.SqliteHuey`): it carries "run job N" messages
  from the app to the ingest worker(s), and survives restarts.
- ``jobs.sqlite3`` is the job board: one row per job (what to index, state, progress, summary), read by
  every web worker to show progress, and the reason a job is processed once.

huey removes a message from its queue when a worker takes it, so a worker killed mid-job would lose it.
The board closes that gap: a job is *claimed* (``queued`` → ``running``, with the worker's host, pid and a
heartbeat) before it runs and *finished* after; when a worker starts, and every minute, jobs still
``queued`` or ``running`` under a dead worker are sent again. A message for a job already claimed by a
live worker or already finished is dropped, so a job sent twice still runs once. Running a job again after
a crash is safe: the synchroniser skips documents already stored and the store hides (then repairs) the
half-written passages of the document that was interrupted.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx
from huey import SqliteHuey, crontab

from assistant.backends.unreachable import IndexUnavailable
from assistant.corpus import FolderRefused, Progress, Source
from assistant.indexing import Indexer

log = logging.getLogger(__name__)
UNREACHABLE_RETRY_S = 5.0  # a job cut off from the Chroma server runs again this long after

JobKind = Literal["files", "folder", "reindex"]  # reindex: files read and embedded again even if unchanged
JobState = Literal["queued", "running", "done", "failed"]
STATE_LABELS: dict[str, str] = {
    "queued": "en attente",
    "running": "en cours",
    "done": "terminée",
    "failed": "en échec",
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    targets TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    current TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    host TEXT,
    pid INTEGER,
    created_at REAL NOT NULL,
    heartbeat_at REAL
)
"""


@dataclass(frozen=True)
class Job:
    """One ingest job as the board holds it."""

    id: int
    kind: JobKind
    targets: list[str]  # file paths ("files", "reindex") or one server folder ("folder")
    state: JobState
    attempts: int
    done: int
    total: int
    current: str
    summary: str
    host: str | None
    pid: int | None
    created_at: float
    heartbeat_at: float | None

    def describe(self) -> str:
        """One French line: the job, its state and progress."""
        what = self.targets[0] if self.kind == "folder" else f"{len(self.targets)} fichier(s)"
        line = f"Tâche {self.id} ({what}) : {STATE_LABELS[self.state]}"
        if self.state == "running" and self.total:
            line += f", {self.done}/{self.total} passages ({self.current})"
        if self.state in ("done", "failed") and self.summary:
            line += f" — {self.summary.splitlines()[0]}"
        return line


def jobs_markdown(jobs: list[Job]) -> str:
    """The latest jobs for the Documents page (French Markdown); empty when there is none."""
    if not jobs:
        return ""
    return "\n\n**File d'indexation**\n\n" + "\n".join(f"- {job.describe()}" for job in jobs)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobBoard:
    """The jobs table: enqueueing records a row, workers claim, report progress and finish; anyone reads.

    ``lease_s`` is how long a running job's heartbeat may be silent before the job counts as abandoned
    (its worker on another machine died); a worker on this machine is checked by its pid at once.
    """

    def __init__(self, path: Path, *, lease_s: float = 120.0) -> None:
        self.path = path
        self.lease_s = lease_s
        self.host = socket.gethostname()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            yield db
        finally:
            db.close()

    def add(self, kind: JobKind, targets: list[str]) -> int:
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO jobs (kind, targets, created_at) VALUES (?, ?, ?)",
                (kind, json.dumps(targets), time.time()),
            )
            return int(cursor.lastrowid)

    def get(self, job_id: int) -> Job | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def recent(self, limit: int = 20) -> list[Job]:
        """The latest jobs, newest first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [_job(row) for row in rows]

    def claim(self, job_id: int) -> Job | None:
        """Mark the job running for this process; None when it is finished or a live worker holds it."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")  # one claimer at a time across processes
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None or not self._claimable(_job(row)):
                db.execute("COMMIT")
                return None
            db.execute(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, host = ?, pid = ?, heartbeat_at = ? "
                "WHERE id = ?",
                (self.host, os.getpid(), time.time(), job_id),
            )
            db.execute("COMMIT")
        return self.get(job_id)

    def _claimable(self, job: Job) -> bool:
        if job.state == "queued":
            return True
        return job.state == "running" and self._abandoned(job)

    def _abandoned(self, job: Job) -> bool:
        if job.host == self.host and job.pid is not None and job.pid != os.getpid():
            return not _pid_alive(job.pid)
        return time.time() - (job.heartbeat_at or 0) > self.lease_s

    def progress(self, job_id: int, done: int, total: int, current: str) -> None:
        """Record progress; it is also the heartbeat that keeps the job claimed."""
        with self._connect() as db:
            db.execute(
                "UPDATE jobs SET done = ?, total = ?, current = ?, heartbeat_at = ? WHERE id = ? AND pid = ?",
                (done, total, current, time.time(), job_id, os.getpid()),
            )

    def release(self, job_id: int) -> None:
        """Put a job this process claimed back in the queue (to be run again later)."""
        with self._connect() as db:
            db.execute(
                "UPDATE jobs SET state = 'queued', host = NULL, pid = NULL, heartbeat_at = NULL "
                "WHERE id = ? AND pid = ? AND state = 'running'",
                (job_id, os.getpid()),
            )

    def finish(self, job_id: int, state: Literal["done", "failed"], summary: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE jobs SET state = ?, summary = ?, heartbeat_at = ? WHERE id = ?",
                (state, summary, time.time(), job_id),
            )

    def unfinished(self) -> list[Job]:
        """Jobs no live worker is running: queued, or running under a worker that died."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM jobs WHERE state IN ('queued', 'running') ORDER BY id").fetchall()
        return [job for job in map(_job, rows) if self._claimable(job)]


def _job(row: sqlite3.Row) -> Job:
    values = dict(row)
    values["targets"] = json.loads(values["targets"])
    return Job(**values)


JobRunner = Callable[[Job, Callable[[Progress], None]], tuple[bool, str]]
"""Runs a claimed job with a progress callback; returns (succeeded, French summary)."""


class IngestQueue:
    """Enqueue ingest jobs (any process) and run them (the worker, which passes ``runner``)."""

    def __init__(self, queue_path: Path, board: JobBoard, runner: JobRunner | None = None) -> None:
        queue_path.parent.mkdir(parents=True, exist_ok=True)
        self.board = board
        self.runner = runner
        # results are not kept: the board holds each job's outcome
        self.huey = SqliteHuey("assistant-ingest", filename=str(queue_path), results=False)
        self._run = self.huey.task(name="run_ingest_job")(self._run_job)
        # every minute, the jobs of a worker that died elsewhere (queued ones are still in huey's queue)
        self.huey.periodic_task(crontab(minute="*"), name="resend_abandoned_jobs")(
            lambda: self.resend_unfinished(include_queued=False)
        )

    def enqueue_files(self, paths: list[Path]) -> int:
        """A job indexing these files; returns its number."""
        return self._enqueue("files", [str(p) for p in paths])

    def enqueue_reindex(self, paths: list[Path]) -> int:
        """A job reading and embedding these files again, unchanged or not (new loader or chunking settings)."""
        return self._enqueue("reindex", [str(p) for p in paths])

    def enqueue_folder(self, folder: str) -> int:
        """A job indexing a server folder (checked against the allowed folders when it runs)."""
        return self._enqueue("folder", [folder])

    def _enqueue(self, kind: JobKind, targets: list[str]) -> int:
        job_id = self.board.add(kind, targets)
        self._run(job_id)
        log.info("ingest job %d queued (%s, %d target(s))", job_id, kind, len(targets))
        return job_id

    def resend_unfinished(self, *, include_queued: bool = True) -> int:
        """Send again the jobs no live worker runs (a message taken by a killed worker is gone).

        Queued jobs are sent too by default (at worker start): the message of one taken just before a
        crash is gone as well, and a duplicate message is dropped when it finds the job finished.
        """
        jobs = [j for j in self.board.unfinished() if include_queued or j.state == "running"]
        for job in jobs:
            self._run(job.id)
        if jobs:
            log.info("ingest jobs sent again: %s", ", ".join(str(j.id) for j in jobs))
        return len(jobs)

    def _run_job(self, job_id: int) -> None:
        if self.runner is None:
            raise RuntimeError("this process only enqueues ingest jobs; run them with `python -m assistant worker`")
        job = self.board.claim(job_id)
        if job is None:
            log.info("ingest job %d already finished or running elsewhere: skipped", job_id)
            return
        log.info("ingest job %d started (attempt %d)", job_id, job.attempts)

        def on_progress(p: Progress) -> None:
            # pages while reading, passages while embedding: either way the heartbeat of the claim
            self.board.progress(job_id, p.done, p.total, p.current)

        try:
            succeeded, summary = self.runner(job, on_progress)
        except (IndexUnavailable, httpx.TransportError):
            # the Chroma server (or an embedding service) is unreachable, e.g. restarting: not the job's fault, so
            # it waits and runs again (documents stored before the cut are recognised then); failing it would
            # lose the upload
            log.warning("ingest job %d: index unreachable; run again in %.0f s", job_id, UNREACHABLE_RETRY_S)
            self.board.release(job_id)
            self._run.schedule(args=(job_id,), delay=UNREACHABLE_RETRY_S)
            return
        except Exception:
            log.exception("ingest job %d failed", job_id)
            self.board.finish(job_id, "failed", "l'indexation s'est interrompue (erreur interne) : relancez-la")
            return
        self.board.finish(job_id, "done" if succeeded else "failed", summary)
        log.info("ingest job %d finished: %s", job_id, summary.splitlines()[0] if summary else "")

    def run_worker(self, *, threads: int = 1) -> None:
        """Consume the queue until stopped (SIGTERM or SIGINT); jobs left by a dead worker are sent first."""
        self.resend_unfinished()
        consumer = self.huey.create_consumer(workers=threads, worker_type="thread", periodic=True)
        consumer.run()


def indexing_runner(indexer: Indexer, allowed_folders: list[Path]) -> JobRunner:
    """Runs a job through the index's owner: files as uploaded, or a folder under ``allowed_folders``."""

    def run(job: Job, on_progress: Callable[[Progress], None]) -> tuple[bool, str]:
        notes = ""
        if job.kind in ("files", "reindex"):
            sources = [Source(path=Path(p), key=p) for p in job.targets]
        else:
            try:
                selection = indexer.select_folder(job.targets[0], allowed_folders)
            except FolderRefused as exc:
                return False, str(exc)
            sources, notes = list(selection.sources), selection.notes()
        report = indexer.sync(sources, on_progress=on_progress, force=job.kind == "reindex")
        return not report.failed, "\n".join(x for x in (notes, report.summary()) if x)

    return run
