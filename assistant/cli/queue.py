"""Command line, the durable indexing queue: ``worker`` (runs the jobs), ``enqueue``, ``jobs`` (their state)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path

from assistant.cli.locate import index_location
from assistant.factory import Services, build_ingest_queue
from assistant.jobs import indexing_runner


def add_subcommands(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    worker = sub.add_parser(
        "worker", parents=[common], help="indexer les tâches de la file d'indexation (ingest.mode = queue)"
    )
    worker.add_argument("--threads", type=int, default=1, metavar="N", help="tâches menées en parallèle (défaut 1)")
    enqueue = sub.add_parser("enqueue", parents=[common], help="confier des fichiers ou un dossier à la file")
    enqueue.add_argument("paths", nargs="+", type=Path, metavar="CHEMIN", help="fichiers ou dossier à indexer")
    jobs = sub.add_parser("jobs", parents=[common], help="état des tâches d'indexation")
    jobs.add_argument("--json", action="store_true", help="sortie JSON")


def _worker(services: Services, args: argparse.Namespace) -> int:
    settings = services.settings
    allowed = [*settings.ingest.allowed_folders, settings.paths.uploads]
    queue = build_ingest_queue(settings, indexing_runner(services.indexer, allowed))
    logging.getLogger().setLevel(logging.INFO)  # a worker's journal is its only output
    print(f"File d'indexation : {settings.paths.ingest_queue.resolve()} · index : {index_location(settings)}")
    queue.run_worker(threads=args.threads)
    return 0


def _enqueue(services: Services, args: argparse.Namespace) -> int:
    missing = [p for p in args.paths if not p.exists()]
    for path in missing:
        print(f"✗ {path} : fichier ou dossier introuvable", file=sys.stderr)
    queue = build_ingest_queue(services.settings)
    for path in (p.resolve() for p in args.paths if p.exists()):
        job_id = queue.enqueue_folder(str(path)) if path.is_dir() else queue.enqueue_files([path])
        print(f"Tâche {job_id} en attente : {path}")
    return 1 if missing else 0


def _jobs(services: Services, args: argparse.Namespace) -> int:
    jobs = build_ingest_queue(services.settings).board.recent()
    if args.json:
        print(json.dumps([asdict(job) for job in jobs], ensure_ascii=False, indent=2))
        return 0
    print("\n".join(job.describe() for job in jobs) or "Aucune tâche d'indexation.")
    return 0


HANDLERS = {"worker": _worker, "enqueue": _enqueue, "jobs": _jobs}
