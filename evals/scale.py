"""Scale: the index at 100k and 500k passages: latency, memory, disk, keyword refresh, time to searchable.

``python -m evals.scale --sizes 10000,50000,100000,500000``

The real embedder cannot embed 500k passages on this machine (about one passage a second on two
shared cores), so passage vectors are derived from real ones (:class:`DerivedEmbedder`): a passage
whose vector is in the embedding cache gets it, any other the vector of a cached passage chosen by
its text's hash, slightly perturbed. Queries are embedded for real. The base corpus (spf by default)
is ingested once through the product's own path; the index then grows with copies of its documents
under new ids, loaded in bulk (:meth:`ChromaChunkStore.load_new_documents`), each copy's vectors
perturbed again (so the vector index holds distinct points). Copies share their original's text,
so keyword statistics are those of a corpus repeated many times.

At each size: retrieval and offline-answer latency (p50/p95) in this process; the keyword index
rebuilt whole and, beside it, refreshed for one new document (delta segment); the time for a new
file to become searchable (read, embedded for real, stored, keyword refresh, found); the size on disk;
and the memory of a fresh process that opens the index and answers (a web worker), embedded and
through a ``chroma run`` server on the same folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from assistant.backends.embedder import CachedEmbedder
from assistant.backends.store import NewDocument
from assistant.corpus import Source, embedding_text
from assistant.factory import Services, build_embedder, build_services
from assistant.serving import chroma_command, wait_for_chroma
from assistant.settings import load_settings
from assistant.types import Document
from evals.corpora import folder_size, write_corpus
from evals.datasets import SHARED_BENCH, load_questions
from evals.metrics import latency_summary
from evals.speed import offline

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parent.parent
PERTURBATION = 0.1  # norm of the noise added to a unit vector: cosine ≈ 0.995 to the original
COPY_BATCH_DOCUMENTS = 1000
SIZES = (10_000, 50_000, 100_000)


def rss_mb(pid: int | str = "self") -> dict[str, float]:
    """Resident memory now and at its peak (Linux ``/proc``), in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return {"rss_mb": fields.get("VmRSS", 0.0), "peak_rss_mb": fields.get("VmHWM", 0.0)}


def perturbed(vectors: np.ndarray, rng: np.random.Generator, scale: float = PERTURBATION) -> np.ndarray:
    """Unit vectors near ``vectors``: each plus Gaussian noise of norm ≈ ``scale``, renormalised."""
    noise = rng.standard_normal(vectors.shape).astype(np.float32) * (scale / np.sqrt(vectors.shape[1]))
    moved = vectors + noise
    return moved / np.linalg.norm(moved, axis=1, keepdims=True)


class DerivedEmbedder:
    """Passage vectors without the model: cached ones as they are, others derived from a cached one.

    ``derive = False`` embeds for real (the new document whose time to become searchable is measured)."""

    def __init__(self, real: CachedEmbedder, seed: int = 0) -> None:
        self.real = real
        self.batch_size = real.batch_size
        rows = real._db.execute("SELECT vector FROM vectors").fetchall()
        if not rows:
            raise ValueError("cache d'embeddings vide : indexez d'abord un corpus avec le vrai modèle")
        self.anchors = np.stack([np.frombuffer(v, dtype=np.float32) for (v,) in rows])
        self.derive = True
        self.seed = seed

    @property
    def name(self) -> str:
        return self.real.name

    @property
    def dim(self) -> int:
        return int(self.anchors.shape[1])

    @property
    def inner(self):  # token counting reads the real model's tokenizer
        return self.real.inner

    def embed_passages(self, texts: Sequence[str], on_batch=None) -> np.ndarray:
        if not self.derive:
            return self.real.embed_passages(texts, on_batch)
        rows = []
        for text in texts:
            digest = int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)
            rng = np.random.default_rng(digest ^ self.seed)
            rows.append(perturbed(self.anchors[digest % len(self.anchors)][None, :], rng)[0])
        if on_batch is not None:
            on_batch(len(texts), 0)
        return np.stack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.real.embed_query(text)


def latencies(services: Services, questions: Sequence[str], answers: int) -> dict[str, float]:
    """Retrieval latency on every question, full offline answer on the first ``answers``."""
    services.searcher.search(questions[0])  # warm-up (keyword index, ranker)
    retrieval, answer = [], []
    for question in questions:
        started = time.perf_counter()
        services.searcher.search(question, k=services.settings.generation.passages)
        retrieval.append(time.perf_counter() - started)
    for question in questions[:answers]:
        started = time.perf_counter()
        services.assistant.ask(question)
        answer.append(time.perf_counter() - started)
    return latency_summary(retrieval, answer)


class Grower:
    """Copies of the base documents, loaded in bulk until the store holds a target number of passages."""

    def __init__(self, services: Services, seed: int = 0) -> None:
        self.services = services
        self.rng = np.random.default_rng(seed)
        store = services.store
        records = store.documents()
        by_document: dict[str, list] = {}
        for chunk in store.iter_chunks():
            by_document.setdefault(chunk.doc_id, []).append(chunk)
        self.base = []
        for doc_id, chunks in sorted(by_document.items()):
            chunks.sort(key=lambda c: c.index)
            # from the cache: these texts were embedded when the base was ingested
            vectors = services.embedder.embed_passages([embedding_text(c) for c in chunks])
            text = store.document_text(doc_id) or ""
            self.base.append((records[doc_id], text, chunks, vectors))
        self.copy = 0
        self.position = 0

    def grow_to(self, target: int) -> float:
        """Add copies until the store holds ``target`` passages; returns the seconds spent loading."""
        store, spent = self.services.store, 0.0
        while (count := store.chunk_count()) < target:
            batch, added = [], 0
            while added < target - count and len(batch) < COPY_BATCH_DOCUMENTS:
                if self.position == len(self.base):
                    self.copy, self.position = self.copy + 1, 0
                record, text, chunks, vectors = self.base[self.position]
                self.position += 1
                doc_id = f"{record.doc_id}~{self.copy + 1}"
                suffix = f"~{self.copy + 1}"
                batch.append(
                    NewDocument(
                        Document(doc_id, text, (), {**record.metadata, "source": record.source + suffix}),
                        record.content_hash,
                        [replace(c, chunk_id=c.chunk_id + suffix, doc_id=doc_id) for c in chunks],
                        perturbed(vectors, self.rng),
                    )
                )
                added += len(chunks)
            started = time.perf_counter()
            getattr(store, "inner", store).load_new_documents(batch)
            spent += time.perf_counter() - started
            log.info("index: %d passages", store.chunk_count())
        return spent


def time_to_searchable(services: Services, folder: Path, text: str, marker: str) -> dict[str, float]:
    """A new file: stored (read, embedded for real, written), keyword refresh (the delta segment), then found
    by its marker word."""
    path = folder / f"{marker}.txt"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{text}\n\nMot repère : {marker}.", encoding="utf-8")
    embedder = services.embedder
    embedder.derive = False  # this one is embedded for real
    started = time.perf_counter()
    services.indexer.sync([Source(path=path, key=str(path.resolve()))], refresh_keywords=False)
    stored_s = time.perf_counter() - started
    embedder.derive = True
    started = time.perf_counter()
    services.indexer.refresh_keywords()
    refresh_s = time.perf_counter() - started
    hits = services.searcher.search(marker, k=5)
    found = any(marker in h.chunk.text for h in hits)
    return {
        "new_document_store_s": stored_s,
        "new_document_keyword_refresh_s": refresh_s,
        "new_document_searchable_s": stored_s + refresh_s,
        "new_document_found": found,
    }


def probe_worker(data_dir: Path, questions: Sequence[str], *, server: bool) -> dict[str, float]:
    """Memory of a fresh process opening the index and answering a few questions, like a web worker.

    With ``server``, a ``chroma run`` serves the same folder and its memory is reported too."""
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir)}
    chroma = None
    if server:
        port = 8765
        chroma = subprocess.Popen(
            chroma_command(data_dir / "chroma", "127.0.0.1", port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_chroma("127.0.0.1", port, chroma, timeout_s=600)
        env |= {"ASSISTANT_CHROMA__HOST": "127.0.0.1", "ASSISTANT_CHROMA__PORT": str(port)}
    try:
        out = subprocess.run(
            [sys.executable, "-m", "evals.scale", "--probe", str(data_dir), "--questions", str(len(questions))],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        ).stdout
        figures = json.loads(out.strip().splitlines()[-1])
        if chroma is not None:
            figures["chroma_server_rss_mb"] = rss_mb(chroma.pid)["rss_mb"]
        return figures
    finally:
        if chroma is not None:
            chroma.terminate()
            chroma.wait(timeout=60)


def run_probe(data_dir: Path, questions: Sequence[str]) -> None:
    """The worker side of :func:`probe_worker`: prints one JSON line."""
    settings = offline(load_settings(), data_dir)
    if settings.chroma.host:  # the writer saved the keyword index for the embedded store: the same, by its server name
        embedded = settings.model_copy(update={"chroma": settings.chroma.model_copy(update={"host": None})})
        source, target = embedded.paths.keyword_index, settings.paths.keyword_index
        for suffix in ("", ".version", ".delta.json"):
            link = target.with_name(target.name + suffix)
            if link.is_dir() and not link.is_symlink():
                shutil.rmtree(link)  # one a previous probe built
            link.unlink(missing_ok=True)
            link.symlink_to(source.with_name(source.name + suffix))
    services = build_services(settings)
    started = time.perf_counter()
    services.searcher.search(questions[0])  # opens the index and loads the keyword index
    first_s = time.perf_counter() - started
    figures = latencies(services, questions, answers=3)
    print(json.dumps({"first_query_s": first_s, **figures, **rss_mb()}))


def measure(
    sizes: Sequence[int],
    workdir: Path,
    questions: Sequence[str],
    answers: int,
    base: Sequence[str],
    out: Path | None = None,
    cache_dir: Path = REPO / "evals" / "cache",
) -> list[dict]:
    """Every figure at each size (passages), smallest first; written to ``out`` after each size."""
    shutil.rmtree(workdir, ignore_errors=True)
    settings = load_settings(cache_dir=cache_dir)
    settings = settings.model_copy(update={"chroma": settings.chroma.model_copy(update={"host": None})})
    settings = offline(settings, workdir / "index")
    embedder = DerivedEmbedder(build_embedder(settings))
    services = build_services(settings, embedder=embedder)
    corpus = workdir / "corpus"
    for name in base:
        write_corpus(SHARED_BENCH / name / "corpus.jsonl", corpus / name)
    started = time.perf_counter()
    services.indexer.index_paths([corpus])
    base_s = time.perf_counter() - started
    log.info("base corpus: %d passages in %.0f s", services.store.chunk_count(), base_s)
    grower = Grower(services)
    sample_text = grower.base[0][1]
    points = []
    for n, target in enumerate(sorted(sizes)):
        load_s = grower.grow_to(target)
        started = time.perf_counter()
        services.indexer.keyword.rebuild()  # whole: what a compaction costs at this size
        rebuild_s = time.perf_counter() - started
        after_rebuild = rss_mb()
        point = {
            "target": target,
            "passages": services.store.chunk_count(),
            "documents": len(services.store.documents()),
            "bulk_load_s": load_s,
            "keyword_rebuild_s": rebuild_s,
            "process_peak_rss_mb_after_rebuild": after_rebuild["peak_rss_mb"],
            **latencies(services, questions, answers),
            **time_to_searchable(services, workdir / "new", sample_text, f"zqxrepere{n}"),
            "chroma_mb": folder_size(settings.paths.chroma) / 1e6,
            "keyword_index_mb": folder_size(settings.paths.keyword_index) / 1e6,
            "data_dir_mb": folder_size(settings.data_dir) / 1e6,
        }
        for mode in ("embedded", "server"):
            probe = probe_worker(settings.data_dir, questions[:20], server=mode == "server")
            point.update({f"worker_{mode}_{k}": v for k, v in probe.items()})
        log.info("%s", json.dumps(point))
        points.append(point)
        if out is not None:  # a long run keeps the sizes already measured
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(points, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return points


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m evals.scale", description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default=",".join(map(str, SIZES)), help="passages, séparés par des virgules")
    p.add_argument("--workdir", type=Path, default=REPO / "evals" / "cache" / "scale")
    p.add_argument("--questions", type=int, default=60, help="questions de latence (spf, puis piaf)")
    p.add_argument("--answers", type=int, default=15, help="réponses complètes chronométrées par taille")
    p.add_argument("--base", default="spf", help="corpus de base (piaf, spf), indexé pour de vrai puis copié")
    p.add_argument("--out", type=Path, help="fichier JSON des résultats")
    p.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    questions = [q.question for q in load_questions(SHARED_BENCH / "spf" / "questions-dev.jsonl")]
    questions += [q.question for q in load_questions(SHARED_BENCH / "piaf" / "questions-dev.jsonl", args.questions)]
    questions = questions[: args.questions]
    if args.probe:
        run_probe(args.probe, questions)
        return
    points = measure(
        [int(s) for s in args.sizes.split(",")],
        args.workdir,
        questions,
        args.answers,
        args.base.split(","),
        out=args.out,
    )
    text = json.dumps(points, indent=2, ensure_ascii=False)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
