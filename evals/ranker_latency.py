"""``python -m evals.ranker_latency``: retrieval latency of the learned ranker against score fusion, same index.

The index grows to ``--size`` passages from the sets' corpora and copies of them (as ``python -m evals --only
speed`` grows its own), or is one already built (``--index``, e.g. the ranker training's), then the sets' questions
(at most ``--questions``) are searched (``searcher.search``, the answering call)
with each order in turn, for ``--rounds`` rounds: both orders see the same index and the same machine load.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from assistant.backends.embedder import CachedEmbedder
from assistant.factory import build_embedder, build_services
from assistant.retrieval.ranker import load_ranker
from assistant.settings import load_settings
from evals.corpora import materialise
from evals.datasets import REPO, load_set
from evals.metrics import percentile
from evals.speed import _sources, offline
from evals.systems import progress_bar

log = logging.getLogger(__name__)

FILES_PER_SYNC = 50  # each sync call scans the store once: not one call per file


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m evals.ranker_latency", description=__doc__.splitlines()[0])
    p.add_argument("--sets", default="domain,seeds", help="jeux dont le corpus et les questions servent")
    p.add_argument("--size", type=int, default=10_000, help="passages de l'index mesuré")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--questions", type=int, default=200, help="au plus N questions")
    p.add_argument("--index", type=Path, help="dossier de données d'un index déjà construit (rien n'est ajouté)")
    p.add_argument("--workdir", type=Path, default=REPO / "evals" / "cache" / "latency")
    p.add_argument("--cache-dir", type=Path, help="cache des embeddings")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    settings = load_settings(cache_dir=args.cache_dir) if args.cache_dir else load_settings()
    settings = settings.model_copy(update={"chroma": settings.chroma.model_copy(update={"host": None})})
    sets = [load_set(s.strip()) for s in args.sets.split(",") if s.strip()]
    questions = [q.question for s in sets for q in s.questions][: args.questions]
    embedder = build_embedder(settings)
    assert isinstance(embedder, CachedEmbedder)
    if args.index:
        services = build_services(offline(settings, args.index), embedder=embedder)
    else:
        shutil.rmtree(args.workdir / "index", ignore_errors=True)
        services = build_services(offline(settings, args.workdir / "index"), embedder=embedder)
        stream = _sources([materialise(s, args.workdir / "corpora") for s in sets], args.workdir / "copies")
        bar = progress_bar(args.size, "index croissant", "passages")
        while services.store.chunk_count() < args.size:
            services.indexer.sync([next(stream) for _ in range(FILES_PER_SYNC)], refresh_keywords=False)
            bar.update(services.store.chunk_count() - bar.n)
        bar.close()
        services.indexer.refresh_keywords()
    searcher, k = services.searcher, services.settings.generation.passages
    orders = {"fusion": None, "learned": load_ranker()}
    searcher.search(questions[0], k=k)  # warm-up: loads the keyword index and the model
    print(f"{services.store.chunk_count()} passages, {len(questions)} questions, searcher.search k={k}")
    for round_number in range(1, args.rounds + 1):
        for name, ranker in orders.items():
            searcher.ranker = ranker
            wall, cpu = [], []
            for question in questions:
                started, started_cpu = time.perf_counter(), time.process_time()
                searcher.search(question, k=k)
                wall.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
            # on a shared machine the wall time swings with the others' load; the CPU time of this process less so
            figures = "  ".join(
                f"{label} p50 {percentile(t, 50) * 1000:6.1f} ms p95 {percentile(t, 95) * 1000:6.1f} ms"
                for label, t in (("temps réel", wall), ("CPU", cpu))
            )
            print(f"round {round_number} {name:8s} {figures}", flush=True)
    services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
