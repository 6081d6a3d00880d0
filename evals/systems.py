"""The retrieval systems compared, all over the same documents and the same embedder.

- keyword, dense, fusion, hybrid: the product's own index (built by its ingest path) and one ``HybridSearcher.ordered``
  call per question; keyword and dense are that call's two input rankings (``hit.provenance``), fusion their score
  fusion, hybrid the order it returns (the learned ranker's, or the fusion when the ranker is off, then current
  sources first when the question asks about the present: the order answering reads).
- Every system is asked what the product searches for: a follow-up (« et qui finance ? ») preceded by the earlier
  questions of its conversation (:func:`retrieval_query`), as the answering pipeline does without a language model.
- typical: the stack many RAG tutorials ship: LangChain's ``RecursiveCharacterTextSplitter`` (1,000 / 200
  characters) over the same extracted document texts, a Chroma collection, the same cached embedder, top-k.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter
from tqdm import tqdm

from assistant.backends.embedder import CachedEmbedder
from assistant.corpus import Progress, SyncReport
from assistant.factory import Services, build_services
from assistant.generation.followup import contextualize
from assistant.settings import Settings
from assistant.types import Hit, Turn
from evals.corpora import folder_size
from evals.datasets import Question, document_key
from evals.metrics import document_ranking, percentile, recall_curve, summarize

log = logging.getLogger(__name__)

PRODUCT_SYSTEMS = ("keyword", "dense", "fusion", "hybrid")
SYSTEMS = (*PRODUCT_SYSTEMS, "typical")
TYPICAL_CHUNK_CHARS = 1000
TYPICAL_OVERLAP_CHARS = 200


def progress_bar(total: int | None, description: str, unit: str) -> tqdm:
    """A progress bar on stderr; sparse updates when stderr is a log file rather than a terminal."""
    return tqdm(
        total=total, desc=description, unit=unit, file=sys.stderr, mininterval=0.5 if sys.stderr.isatty() else 30
    )


def hit_document(hit: Hit) -> str:
    """The name questions use for a hit's document: its file stem."""
    return document_key(str(hit.chunk.metadata.get("filename", hit.chunk.doc_id)))


def retrieval_query(question: Question) -> str:
    """What the product searches for: the question, or for a follow-up the conversation's earlier questions
    then the question (the pipeline's deterministic context, used when no language model rewrites it)."""
    return contextualize(question.question, [Turn(q) for q in question.history])


def product_rankings(hits: list[Hit]) -> dict[str, list[str]]:
    """Document rankings of keyword, dense and hybrid from one fused candidate list."""

    def by(name: str) -> list[str]:
        ranked = sorted((h for h in hits if name in h.provenance), key=lambda h: h.provenance[name])
        return document_ranking(hit_document(h) for h in ranked)

    return {
        "keyword": by("keyword"),
        "dense": by("dense"),
        "fusion": by("fusion"),
        "hybrid": document_ranking(hit_document(h) for h in hits),
    }


@dataclass(frozen=True)
class BuiltIndex:
    """A product index built for a set, with what building it cost."""

    services: Services
    documents: int
    chunks: int
    failed: int
    seconds: float
    index_bytes: int


def ingest_folder(services: Services, folder: Path, label: str) -> tuple[SyncReport, float]:
    """Index ``folder`` with a progress bar: (report, seconds)."""
    bar = progress_bar(None, label, "passages")

    def advance(progress: Progress) -> None:
        if progress.stage in ("reading", "ocr"):  # pages of one file, not passages
            return
        bar.total = progress.total
        bar.update(progress.done - bar.n)

    started = time.perf_counter()
    report = services.indexer.index_paths([folder], on_progress=advance)
    seconds = time.perf_counter() - started
    bar.close()
    return report, seconds


def build_product_index(
    folder: Path, data_dir: Path, settings: Settings, embedder: CachedEmbedder, *, label: str
) -> BuiltIndex:
    """Index ``folder`` from scratch in ``data_dir`` through the product's ingest path (embeddings from the cache)."""
    shutil.rmtree(data_dir, ignore_errors=True)
    services = build_services(settings.model_copy(update={"data_dir": data_dir}), embedder=embedder)
    report, seconds = ingest_folder(services, folder, f"index produit {label}")
    for path, reason in report.failed:
        log.warning("%s : %s", path, reason)
    return BuiltIndex(
        services,
        documents=len(report.added),
        chunks=services.store.chunk_count(),
        failed=len(report.failed),
        seconds=seconds,
        index_bytes=folder_size(data_dir),
    )


class TypicalStack:
    """Fixed-size character chunks in Chroma, searched by embedding only."""

    def __init__(self, collection: chromadb.Collection, embedder: CachedEmbedder, directory: Path) -> None:
        self._collection = collection
        self._embedder = embedder
        self.directory = directory

    @classmethod
    def build(cls, documents: dict[str, str], directory: Path, embedder: CachedEmbedder, *, label: str) -> TypicalStack:
        """Split ``documents`` (name -> text), embed the chunks (cached) and store them in a fresh collection."""
        shutil.rmtree(directory, ignore_errors=True)
        splitter = RecursiveCharacterTextSplitter(chunk_size=TYPICAL_CHUNK_CHARS, chunk_overlap=TYPICAL_OVERLAP_CHARS)
        names: list[str] = []
        texts: list[str] = []
        for name, text in documents.items():
            for piece in splitter.split_text(text):
                names.append(name)
                texts.append(piece)
        bar = progress_bar(len(texts), f"index typique {label}", "passages")
        vectors = embedder.embed_passages(texts, on_batch=lambda n, _chars: bar.update(n))
        bar.close()
        client = chromadb.PersistentClient(
            str(directory), settings=chromadb.config.Settings(anonymized_telemetry=False)
        )
        collection = client.get_or_create_collection(
            "typical", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )
        for start in range(0, len(texts), 2000):
            end = start + 2000
            collection.add(
                ids=[f"c{i}" for i in range(start, min(end, len(texts)))],
                embeddings=np.asarray(vectors[start:end], dtype=np.float32),
                documents=texts[start:end],
                metadatas=[{"document": n} for n in names[start:end]],
            )
        return cls(collection, embedder, directory)

    def chunk_count(self) -> int:
        return self._collection.count()

    def rank(self, question: str, k: int) -> list[str]:
        """Documents of the top ``k`` chunks, in the order of their best chunk."""
        total = self._collection.count()
        if total == 0:
            return []
        found = self._collection.query(
            query_embeddings=[self._embedder.embed_query(question)], n_results=min(k, total), include=["metadatas"]
        )
        return document_ranking(str(m["document"]) for m in found["metadatas"][0])


def extracted_documents(services: Services) -> dict[str, str]:
    """The text the product extracted from each indexed file, by document name: what the typical stack splits."""
    texts = {}
    for record in services.store.documents().values():
        text = services.store.document_text(record.doc_id)
        if text:
            texts[document_key(str(record.metadata.get("filename", record.doc_id)))] = text
    return dict(sorted(texts.items()))


CURVE_KS = range(1, 21)


def score_retrieval(
    services: Services,
    questions: Sequence[Question],
    *,
    systems: Sequence[str],
    typical: TypicalStack | None,
    label: str,
) -> dict[str, dict[str, Any]]:
    """Document-level metrics, the recall@k curve and latency of each system over ``questions``.

    keyword and dense come from the hybrid call, so they share its latency.
    """
    rankings: dict[str, list[list[str]]] = {s: [] for s in systems}
    latency: dict[str, list[float]] = {"hybrid": [], "typical": []}
    k = services.settings.retrieval.candidates
    bar = progress_bar(len(questions), f"recherche {label}", "questions")
    for question in questions:
        query = retrieval_query(question)
        started = time.perf_counter()
        found = product_rankings(services.searcher.ordered(query))
        latency["hybrid"].append(time.perf_counter() - started)
        if typical is not None:
            started = time.perf_counter()
            found["typical"] = typical.rank(query, k)
            latency["typical"].append(time.perf_counter() - started)
        for system in systems:
            rankings[system].append(found[system])
        bar.update(1)
    bar.close()
    relevants = [set(q.relevant) for q in questions]
    scores: dict[str, dict[str, Any]] = {}
    for system in systems:
        figures: dict[str, Any] = dict(summarize(rankings[system], relevants))
        figures["recall_curve"] = recall_curve(rankings[system], relevants, CURVE_KS)
        timed = latency["hybrid" if system in PRODUCT_SYSTEMS else system]
        figures["latency_ms_p50"] = percentile(timed, 50) * 1000
        figures["latency_ms_p95"] = percentile(timed, 95) * 1000
        scores[system] = figures
    return scores
