"""Load test: ``python -m evals.load [--users 50] [--documents 200] [--run-time 180] [--faults]``.

Starts the product's own stack on loopback (:func:`assistant.serving.stack`: a ``chroma run`` server,
an ingest worker on the durable queue, two web workers, all supervised), creates accounts and API keys,
then runs locust headless for a bounded time: simulated users ask through ``/v1/chat/completions``
and ``/v1/search`` while one uploads the documents through ``/v1/documents`` and the ingest worker
indexes them. With ``--faults``, during the load: a web worker, the ingest worker (while it runs a
job) and the Chroma server are killed with SIGKILL, one after the other; the supervisor starts each
again. At the end (once the queue is drained): every uploaded document must be in the registry once,
its passages in Chroma once, and found by a search for its own marker word on both workers.
Prints the figures as JSON (and writes them with ``--out``).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import chromadb
import httpx

from assistant.accounts.roles import Role
from assistant.accounts.store import AccountStore
from assistant.backends.store import ChromaChunkStore
from assistant.jobs import JobBoard
from assistant.serving import Supervised, Supervisor, stack
from assistant.settings import Settings
from evals.datasets import SHARED_BENCH, load_questions

log = logging.getLogger("evals.load")
REPO = Path(__file__).resolve().parents[2]
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
PASSWORD = "charge-de-test-1234"


def free_port(consecutive: int = 1) -> int:
    """A loopback port free together with the ``consecutive - 1`` next ones."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        try:
            sockets = [socket.socket() for _ in range(consecutive)]
            for offset, s in enumerate(sockets):
                s.bind(("127.0.0.1", first + offset))
            for s in sockets:
                s.close()
            return first
        except OSError:
            continue
    raise RuntimeError("aucun port libre sur 127.0.0.1")


def marker(number: int) -> str:
    """A word no corpus holds, different for each document (letters only: the analyser keeps it whole)."""
    letters = ""
    for _ in range(4):
        number, digit = divmod(number, 26)
        letters += chr(ord("a") + digit)
    return f"zqbalise{letters}"


def write_documents(folder: Path, count: int) -> list[Path]:
    """``count`` piaf articles, each with its marker word, as text files."""
    folder.mkdir(parents=True, exist_ok=True)
    records = [json.loads(line) for line in (SHARED_BENCH / "piaf" / "corpus.jsonl").read_text("utf-8").splitlines()]
    paths = []
    for number, record in enumerate(records[:count]):
        path = folder / f"charge-{number:03d}.txt"
        body = f"{record.get('title', '')}\n\n{record['text']}\n\nRéférence du dossier : {marker(number)}.\n"
        path.write_text(body, encoding="utf-8")
        paths.append(path)
    return paths


def wait_until(condition, timeout_s: float, what: str, poll_s: float = 0.5):
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"délai dépassé : {what}")
        time.sleep(poll_s)


def answers(url: str, key: str) -> bool:
    try:
        return httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {key}"}, timeout=5).status_code == 200
    except httpx.TransportError:
        return False


class FaultInjector(threading.Thread):
    """Kills, with SIGKILL, a web worker, then the ingest worker while it runs a job, then the Chroma server."""

    def __init__(self, supervisor: Supervisor, board: JobBoard, run_time_s: float) -> None:
        super().__init__(name="faults", daemon=True)
        self.supervisor, self.board, self.run_time_s = supervisor, board, run_time_s
        self.events: list[dict] = []
        self.started = time.monotonic()

    def _named(self, prefix: str) -> Supervised:
        return next(s for s in self.supervisor.processes if s.name.startswith(prefix))

    def _kill(self, supervised: Supervised, note: str) -> None:
        pid = supervised.process.pid
        os.kill(pid, signal.SIGKILL)
        self.events.append(
            {"at_s": round(time.monotonic() - self.started, 1), "killed": supervised.name, "pid": pid, "note": note}
        )
        log.warning("fault: %s (pid %d) killed with SIGKILL %s", supervised.name, pid, note)

    def run(self) -> None:
        time.sleep(self.run_time_s * 0.25)
        self._kill(self._named("web"), "")
        time.sleep(self.run_time_s * 0.2)
        try:  # mid-document: while a job is running (progress moves passage by passage)
            job = wait_until(
                lambda: next((j for j in self.board.recent(50) if j.state == "running"), None),
                timeout_s=self.run_time_s * 0.3,
                what="une tâche en cours",
                poll_s=0.05,
            )
            self._kill(self._named("ingest"), f"pendant la tâche {job.id} ({job.done}/{job.total} {job.current})")
        except TimeoutError:
            self._kill(self._named("ingest"), "(aucune tâche en cours à ce moment)")
        time.sleep(self.run_time_s * 0.15)
        self._kill(self._named("chroma"), "")


def run_locust(workdir: Path, plan: Path, ports: Sequence[int], users: int, run_time_s: int) -> dict:
    """locust, headless, for ``run_time_s``; returns its per-request figures (from its CSV)."""
    prefix = workdir / "locust"
    command = [
        shutil.which("locust") or str(Path(sys.executable).parent / "locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(users + 1),  # the askers and the uploader
        "--spawn-rate",
        "10",
        "--run-time",
        f"{run_time_s}s",
        "--stop-timeout",
        "120",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    env = {**os.environ, "LOAD_PLAN": str(plan), "LOAD_PORTS": ",".join(map(str, ports))}
    subprocess.run(
        command, env=env, cwd=workdir, check=False, stdout=(workdir / "locust.log").open("w"), stderr=subprocess.STDOUT
    )
    figures = {}
    with (workdir / "locust_stats.csv").open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            figures[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50_ms": float(row["50%"] or 0),
                "p95_ms": float(row["95%"] or 0),
                "max_ms": float(row["Max Response Time"] or 0),
            }
    failures = workdir / "locust_failures.csv"
    if failures.exists():
        figures["failure_samples"] = [dict(r) for r in csv.DictReader(failures.open(encoding="utf-8"))][:10]
    return figures


def search_marker(client: httpx.Client, port: int, keys: Sequence[str], number: int) -> list[dict]:
    """The hits for a document's marker word, through the API (keys in turn, waiting out the rate limit)."""
    for attempt in range(20):
        key = keys[(number + attempt) % len(keys)]
        response = client.post(
            f"http://127.0.0.1:{port}/v1/search",
            json={"query": marker(number), "k": 3},
            headers={"Authorization": f"Bearer {key}"},
        )
        if response.status_code == 200:
            return response.json()["data"]
        time.sleep(1)
    raise RuntimeError(f"recherche refusée sur le port {port} : {response.status_code} {response.text[:200]}")


def check_index(settings: Settings, documents: Sequence[Path], ports: Sequence[int], keys: Sequence[str]) -> dict:
    """Every uploaded document once in the registry and in Chroma, and searchable on every worker."""
    store = ChromaChunkStore.remote(settings.chroma.host, settings.chroma.port, settings.chroma.collection)
    records = store.documents()
    by_name: dict[str, int] = {}
    for record in records.values():
        # an upload is kept as « <name>-<random>.txt » in the uploads folder
        name = Path(record.source).stem.rsplit("-", 1)[0] + Path(record.source).suffix
        by_name[name] = by_name.get(name, 0) + 1
    wanted = [p.name for p in documents]
    collection = chromadb.HttpClient(host=settings.chroma.host, port=settings.chroma.port).get_collection(
        settings.chroma.collection
    )
    served = [c.chunk_id for c in store.iter_chunks()]
    not_found: list[str] = []
    with httpx.Client(timeout=60) as client:
        for number, path in enumerate(documents):
            hits = search_marker(client, ports[number % len(ports)], keys, number)
            if not any(marker(number) in json.dumps(hit, ensure_ascii=False) for hit in hits):
                not_found.append(path.name)
    return {
        "documents_uploaded": len(wanted),
        "documents_indexed_once": sum(1 for n in wanted if by_name.get(n) == 1),
        "documents_missing": [n for n in wanted if n not in by_name],
        "documents_duplicated": [n for n in wanted if by_name.get(n, 0) > 1],
        "passages_in_chroma": collection.count(),
        "passages_in_registry": sum(r.chunk_count for r in records.values()),
        "passages_served_unique": len(set(served)) == len(served),
        "not_found_by_marker": not_found,
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evals.load", description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=50, help="utilisateurs simulés qui posent des questions")
    p.add_argument("--documents", type=int, default=200, help="documents envoyés par l'API pendant la charge")
    p.add_argument("--per-upload", type=int, default=5, help="fichiers par envoi")
    p.add_argument("--run-time", type=int, default=180, help="durée de la charge (secondes)")
    p.add_argument("--think", default="2,6", help="temps de lecture entre deux questions (min,max secondes)")
    p.add_argument("--faults", action="store_true", help="tuer (SIGKILL) un processus web, l'indexeur et Chroma")
    p.add_argument("--drain-timeout", type=int, default=1200, help="attente maximale de la file à la fin (s)")
    p.add_argument("--workdir", type=Path, default=REPO / "evals" / "cache" / "load")
    p.add_argument("--out", type=Path, help="fichier JSON des résultats")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)

    web_port, chroma_port = free_port(2), free_port()
    settings = Settings(data_dir=args.workdir / "data", cache_dir=args.workdir / "cache")
    settings.chroma.host, settings.chroma.port = "127.0.0.1", chroma_port
    settings.ingest.mode = "queue"
    os.environ.update(
        {
            "ASSISTANT_CACHE_DIR": str(settings.cache_dir),
            "ASSISTANT_GENERATION__ANSWERER": "offline",
            "ASSISTANT_UI__HOST": "127.0.0.1",
            "ASSISTANT_EMBEDDER__THREADS": "1",  # two cores: the embedder leaves one to the web workers
        }
    )
    accounts = AccountStore(settings.paths.accounts)
    accounts.add_user("charge-contributeur", PASSWORD, Role.CONTRIBUTEUR)
    uploader_key = accounts.create_key("charge-contributeur", "envois")[1]
    asker_keys = []
    for number in range(args.users):  # one key per user: the rate limit counts per key
        accounts.add_user(f"charge-lecteur-{number}", PASSWORD, Role.LECTEUR)
        asker_keys.append(accounts.create_key(f"charge-lecteur-{number}", "questions")[1])

    documents = write_documents(args.workdir / "documents", args.documents)
    questions = [q.question for q in load_questions(SHARED_BENCH / "piaf" / "questions-dev.jsonl", 300)]
    questions = [q for q in questions if q][:300]
    random.Random(0).shuffle(questions)
    think_min, think_max = (float(x) for x in args.think.split(","))
    plan = args.workdir / "plan.json"
    plan.write_text(
        json.dumps(
            {
                "asker_keys": asker_keys,
                "uploader_key": uploader_key,
                "questions": questions,
                "upload_batches": [
                    [str(d) for d in documents[i : i + args.per_upload]]
                    for i in range(0, len(documents), args.per_upload)
                ],
                # the uploads spread over the first half of the run, within 30 requests a minute
                "upload_interval_s": max(2.5, args.run_time * 0.5 / max(1, -(-len(documents) // args.per_upload))),
                "think_min_s": think_min,
                "think_max_s": think_max,
            }
        ),
        encoding="utf-8",
    )

    supervisor = stack(settings, workers=2, port=web_port, log_dir=args.workdir / "logs")
    supervising = threading.Thread(target=supervisor.supervise, kwargs={"poll_s": 0.5}, daemon=True)
    supervising.start()
    ports = [web_port, web_port + 1]
    results: dict = {"users": args.users, "documents": args.documents, "run_time_s": args.run_time}
    try:
        for port in ports:
            wait_until(lambda port=port: answers(f"http://127.0.0.1:{port}", uploader_key), 300, f"le port {port}")
        board = JobBoard(settings.paths.jobs)
        faults = FaultInjector(supervisor, board, args.run_time) if args.faults else None
        if faults:
            faults.start()
        started = time.monotonic()
        results["requests"] = run_locust(args.workdir, plan, ports, args.users, args.run_time)
        results["load_s"] = round(time.monotonic() - started, 1)
        if faults:
            faults.join(timeout=60)
            results["faults"] = faults.events
        # the queue drained: every job finished (after a kill, the restarted worker resends the abandoned one)
        started = time.monotonic()
        try:
            wait_until(
                lambda: (jobs := board.recent(1000)) and all(j.state in ("done", "failed") for j in jobs),
                args.drain_timeout,
                "la fin des tâches d'indexation",
                poll_s=2,
            )
        except TimeoutError:  # reported, and the index checked as it is: the missing documents say how far it got
            results["drain_timed_out"] = True
        results["drain_after_load_s"] = round(time.monotonic() - started, 1)
        jobs = board.recent(1000)
        results["jobs"] = {
            "total": len(jobs),
            "done": sum(j.state == "done" for j in jobs),
            "failed": [j.describe() for j in jobs if j.state == "failed"],
            "run_more_than_once": [j.id for j in jobs if j.attempts > 1],
        }
        for port in ports:  # restarted workers answer again
            wait_until(lambda port=port: answers(f"http://127.0.0.1:{port}", uploader_key), 300, f"le port {port}")
        time.sleep(3)  # the readers' keyword index: loaded aside after the last stamp
        results["index"] = check_index(settings, documents, ports, asker_keys)
        results["restarts"] = {s.name: s.starts - 1 for s in supervisor.processes}
    finally:
        supervisor.stop()
        supervising.join(timeout=60)
    text = json.dumps(results, indent=2, ensure_ascii=False)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    index = results["index"]
    whole = index["documents_indexed_once"] == index["documents_uploaded"] and not index["not_found_by_marker"]
    return 0 if whole and index["passages_in_chroma"] == index["passages_in_registry"] else 1


if __name__ == "__main__":
    sys.exit(main())
