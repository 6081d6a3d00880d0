"""Speed: cold ingest against the raw embedder, unchanged re-ingest, and latency as the index grows.

The larger index sizes are synthesised from the selected corpora, then from copies of them under new
paths (so new document ids). A copy's chunk texts are identical, so its embeddings come from the cache:
the index really holds that many chunks, but the embedding cost is that of the distinct texts.
"""

from __future__ import annotations

import math
import resource
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from assistant.backends.embedder import CachedEmbedder, Embedder
from assistant.corpus import Source, embedding_text
from assistant.factory import Services, build_services
from assistant.settings import Settings
from assistant.types import Chunk
from evals.corpora import folder_size, replicate
from evals.metrics import latency_summary
from evals.systems import ingest_folder, progress_bar
from ingest.sync import discover

RAW_SAMPLE_CHUNKS = 64
MAX_BATCH_CHUNKS = 4000  # chunks added per sync call while growing (each call scans the store once)
ANSWER_QUESTIONS = 10  # full answers timed at each size (retrieval: every latency question)
ANSWER_BUDGET_S = 300.0  # stop timing answers at a size once this is spent (at least one is timed)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def offline(settings: Settings, data_dir: Path) -> Settings:
    generation = settings.generation.model_copy(update={"answerer": "offline"})
    # the latency index grows from copies of the corpus: each copy must count as a document of its own
    ingest = settings.ingest.model_copy(update={"deduplicate": False})
    return settings.model_copy(update={"data_dir": data_dir, "generation": generation, "ingest": ingest})


def measure_ingest(folder: Path, workdir: Path, settings: Settings, inner: Embedder) -> dict[str, float]:
    """Ingest ``folder`` with an empty embedding cache, re-ingest it unchanged, and time the raw embedder."""
    shutil.rmtree(workdir, ignore_errors=True)
    embedder = CachedEmbedder(inner, workdir / "cold-cache", batch_size=settings.embedder.batch_size)
    services = build_services(settings.model_copy(update={"data_dir": workdir / "index"}), embedder=embedder)
    report, ingest_s = ingest_folder(services, folder, "ingestion à froid")
    started = time.perf_counter()
    again = services.indexer.index_paths([folder])
    unchanged_s = time.perf_counter() - started

    # The raw embedder gets the same batches as ingestion (a document's chunks, batch_size at a time):
    # batches mixing documents pad more and would understate it.
    by_document: dict[str, list[Chunk]] = {}
    for chunk in services.store.iter_chunks():
        by_document.setdefault(chunk.doc_id, []).append(chunk)
    batches: list[list[str]] = []
    for chunks in by_document.values():
        texts = [embedding_text(c) for c in sorted(chunks, key=lambda c: c.index)]
        batches += [texts[i : i + embedder.batch_size] for i in range(0, len(texts), embedder.batch_size)]
        if sum(len(b) for b in batches) >= RAW_SAMPLE_CHUNKS:
            break
    sample = [text for batch in batches for text in batch]
    tokens = sum(services.count_tokens(t) for t in sample)
    started = time.perf_counter()
    for batch in batches:
        inner.embed_passages(batch)
    raw_s = time.perf_counter() - started
    return {
        "corpus": str(folder),
        "documents": len(report.added),
        "chunks": report.chunks_embedded,
        "tokens": report.tokens_embedded,
        "seconds": ingest_s,
        "tokens_per_s": report.tokens_embedded / ingest_s if ingest_s else 0.0,
        "chunks_per_s": report.chunks_embedded / ingest_s if ingest_s else 0.0,
        "raw_embedder_tokens_per_s": tokens / raw_s if raw_s else 0.0,
        "raw_embedder_chunks_per_s": len(sample) / raw_s if raw_s else 0.0,
        "share_of_raw_embedder": (report.tokens_embedded / ingest_s) / (tokens / raw_s) if ingest_s and tokens else 0.0,
        "unchanged_reingest_seconds": unchanged_s,
        "unchanged_reingest_embedded": again.chunks_embedded,
        "index_bytes": folder_size(workdir / "index"),
    }


def _sources(folders: Sequence[Path], copies_root: Path) -> Iterator[Source]:
    """The folders' files, then endless copies of them (copy 1, 2, ...)."""
    yield from discover(folders)
    copy = 0
    while True:
        copy += 1
        yield from discover(
            [replicate(f, copies_root / f"copie-{copy:02d}" / f"{i}-{f.name}") for i, f in enumerate(folders)]
        )


def _latencies(services: Services, questions: Sequence[str]) -> dict[str, float]:
    """Retrieval latency on every question; full-answer latency on the first ones, within a time budget."""
    store, searcher, assistant = services.store, services.searcher, services.assistant
    searcher.search(questions[0])  # warm-up: loads the keyword index
    started = time.perf_counter()
    for _ in range(3):
        store.documents()
    registry_s = (time.perf_counter() - started) / 3
    retrieval, answer = [], []
    for question in questions:
        started = time.perf_counter()
        searcher.search(question, k=services.settings.generation.passages)
        retrieval.append(time.perf_counter() - started)
    budget_end = time.perf_counter() + ANSWER_BUDGET_S
    for question in questions[:ANSWER_QUESTIONS]:
        if answer and time.perf_counter() > budget_end:
            break
        started = time.perf_counter()
        assistant.ask(question)
        answer.append(time.perf_counter() - started)
    return {
        **latency_summary(retrieval, answer),
        "answer_questions": len(answer),
        "registry_read_ms_p50": registry_s * 1000,
    }


def measure_scale(
    folders: Sequence[Path],
    sizes: Sequence[int],
    workdir: Path,
    settings: Settings,
    embedder: CachedEmbedder,
    questions: Sequence[str],
) -> dict[str, object]:
    """Grow one index to each size in ``sizes`` (chunks) and measure retrieval and offline answer latency there."""
    shutil.rmtree(workdir, ignore_errors=True)
    copies_root = workdir / "copies"
    services = build_services(offline(settings, workdir / "index"), embedder=embedder)
    store = services.store
    stream = _sources(folders, copies_root)
    round_size = sum(1 for _ in discover(folders))
    if not round_size:
        raise ValueError("aucun fichier à indexer pour la mesure de latence selon la taille")
    synced: list[Source] = []
    points = []
    ingest_s = 0.0
    bar = progress_bar(max(sizes), "index croissant", "passages")
    for target in sorted(sizes):
        per_document = 5.0
        while (count := store.chunk_count()) < target:
            # aim at half the gap with the last batch's chunks per document, so the target is passed by little
            wanted = min(max((target - count) // 2, 1), MAX_BATCH_CHUNKS)
            batch = [next(stream) for _ in range(max(1, math.ceil(wanted / per_document)))]
            started = time.perf_counter()
            services.indexer.sync(batch, refresh_keywords=False)
            ingest_s += time.perf_counter() - started
            synced += batch
            per_document = max((store.chunk_count() - count) / len(batch), 0.5)
            if store.chunk_count() == count and len(synced) > round_size:
                raise ValueError(
                    "aucun passage indexé depuis un tour complet du corpus : impossible de grossir l'index"
                )
            bar.update(store.chunk_count() - bar.n)
        started = time.perf_counter()
        services.indexer.refresh_keywords()
        refresh_s = time.perf_counter() - started
        # a delta past its bound is compacted aside: waited for here, so the latencies below never share the
        # processor with it, and timed apart (the indexer's next job does not wait for it)
        started = time.perf_counter()
        services.indexer.keyword.wait_for_compaction()
        compaction_s = time.perf_counter() - started
        ingest_s += refresh_s + compaction_s
        records = store.documents().values()
        copied = str(copies_root.resolve())
        points.append(
            {
                "target": target,
                "chunks": store.chunk_count(),
                "documents": len(records),
                "distinct_chunks": sum(r.chunk_count for r in records if not r.source.startswith(copied)),
                "ingest_seconds": ingest_s,
                "index_bytes": folder_size(workdir / "index"),
                # what the writer waits for after a change (the delta; the base when there was none)
                "keyword_refresh_seconds": refresh_s,
                "keyword_compaction_wait_seconds": compaction_s,
                "keyword_index_mb": folder_size(services.settings.paths.keyword_index) / 1e6,
                **_latencies(services, questions),
                "peak_rss_mb": peak_rss_mb(),  # of this one process, which holds what a web worker holds
            }
        )
    bar.close()
    started = time.perf_counter()
    services.indexer.sync(synced)
    unchanged_s = time.perf_counter() - started
    shutil.rmtree(workdir, ignore_errors=True)
    return {"points": points, "unchanged_reingest_seconds_largest": unchanged_s}
