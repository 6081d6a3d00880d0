"""``python -m evals.sentence_matching``: what embedding each chunk's sentences would cost and gain.

Each chunk of a set's product index is cut into sentences (a sentence under ``MIN_CHARS`` is joined to
the next, so a window reads as a statement), the windows are embedded like passages, and dense retrieval
ranks chunks by their own similarity or by the best of it and their best window's. Exact cosine over
every vector, so the comparison does not depend on the approximate index. Reports the ingest cost
(windows, tokens and time to embed them, against the chunks) and the document-level figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.corpus import embedding_text
from assistant.factory import build_embedder
from assistant.sentences import split_sentences
from assistant.settings import load_settings
from evals.corpora import materialise
from evals.datasets import REPO, document_key, load_set
from evals.metrics import document_ranking, summarize
from evals.systems import build_product_index

log = logging.getLogger(__name__)

MIN_CHARS = 60


def sentence_windows(text: str, *, min_chars: int = MIN_CHARS) -> list[str]:
    """The chunk's sentences, each shorter than ``min_chars`` joined to the next (pure)."""
    windows: list[str] = []
    pending = ""
    for span in split_sentences(text):
        pending = f"{pending} {span.text}".strip()
        if len(pending) >= min_chars:
            windows.append(pending)
            pending = ""
    if pending:
        if windows:
            windows[-1] = f"{windows[-1]} {pending}"
        else:
            windows.append(pending)
    return windows


def measure(set_name: str, workdir: Path, cache_dir: Path) -> dict:
    eval_set = load_set(set_name)
    settings = load_settings(cache_dir=cache_dir)
    settings = settings.model_copy(update={"chroma": settings.chroma.model_copy(update={"host": None})})
    embedder = build_embedder(settings)
    folder = materialise(eval_set, workdir / "corpora")
    index = build_product_index(folder, workdir / "sentences" / set_name, settings, embedder, label=set_name)
    chunks = sorted(index.services.store.iter_chunks(), key=lambda c: c.chunk_id)
    index.services.close()
    count = index.services.count_tokens
    texts = [embedding_text(c) for c in chunks]
    chunk_vectors = embedder.embed_passages(texts)
    windows = [sentence_windows(c.text) for c in chunks]
    flat = [w for ws in windows for w in ws]
    owner = np.repeat(np.arange(len(chunks)), [len(ws) for ws in windows])
    started = time.perf_counter()
    window_vectors = embedder.embed_passages(flat)
    seconds = time.perf_counter() - started
    documents = [document_key(str(c.metadata.get("filename", c.doc_id))) for c in chunks]
    questions = eval_set.answerable
    by_chunk, by_best, by_mean = [], [], []
    for question in questions:
        query = embedder.embed_query(question.question)
        chunk_similarity = chunk_vectors @ query
        best_window = np.full(len(chunks), -1.0)
        np.maximum.at(best_window, owner, window_vectors @ query)
        for scores, rankings in (
            (chunk_similarity, by_chunk),
            (np.maximum(chunk_similarity, best_window), by_best),
            ((chunk_similarity + best_window) / 2, by_mean),
        ):
            order = np.lexsort((np.arange(len(chunks)), -scores))[:50]
            rankings.append(document_ranking(documents[i] for i in order))
    relevant = [set(q.relevant) for q in questions]
    return {
        "set": set_name,
        "chunks": len(chunks),
        "windows": len(flat),
        "chunk_tokens": sum(count(t) for t in texts),
        "window_tokens": sum(count(w) for w in flat),
        "window_embedding_seconds": round(seconds, 1),
        "note": "window_embedding_seconds is the cold cost only when the windows were not in the cache",
        "dense_by_chunk": {k: round(v, 3) for k, v in summarize(by_chunk, relevant).items()},
        "dense_by_best_of_chunk_and_sentence": {k: round(v, 3) for k, v in summarize(by_best, relevant).items()},
        "dense_by_mean_of_chunk_and_best_sentence": {k: round(v, 3) for k, v in summarize(by_mean, relevant).items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m evals.sentence_matching", description=__doc__.splitlines()[0])
    p.add_argument("--sets", default="domain", help="jeux mesurés (défaut : domain)")
    p.add_argument("--workdir", type=Path, default=REPO / "evals" / "cache" / "work")
    p.add_argument("--cache-dir", type=Path, default=REPO / "evals" / "cache")
    args = p.parse_args(argv)
    for name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        print(json.dumps(measure(name, args.workdir, args.cache_dir), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
