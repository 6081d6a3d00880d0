"""Neighbouring-chunk expansion: the passage shown around a hit reads as a whole."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.backends.store import ChunkStore
from assistant.types import Chunk, Hit, Passage


def _neighbour_id(chunk: Chunk, delta: int) -> str:
    # chunk ids are "<doc>-<version>-<index>": neighbours share the prefix
    prefix = chunk.chunk_id.rsplit("-", 1)[0]
    return f"{prefix}-{chunk.index + delta:04d}"


def expand_passages(hits: Sequence[Hit], store: ChunkStore, *, max_chars: int = 1800) -> list[Passage]:
    """Number the hits 1..n as passages, each widened to the previous and next chunk while under ``max_chars``.

    A hit that falls inside an earlier passage of the same document is not shown twice.
    """
    wanted = [_neighbour_id(h.chunk, d) for h in hits for d in (-1, 1) if h.chunk.index + d >= 0]
    neighbours = {c.chunk_id: c for c in store.get_chunks(wanted)}
    texts: dict[str, str | None] = {}
    passages: list[Passage] = []
    for hit in hits:
        chunk = hit.chunk
        if any(p.chunk.doc_id == chunk.doc_id and p.start <= chunk.start and chunk.end <= p.end for p in passages):
            continue
        if chunk.doc_id not in texts:
            texts[chunk.doc_id] = store.document_text(chunk.doc_id)
        document = texts[chunk.doc_id]
        start, end = chunk.start, chunk.end
        if document is not None and document[start:end] == chunk.text:
            for delta in (-1, 1):
                other = neighbours.get(_neighbour_id(chunk, delta))
                if other is not None and max(end, other.end) - min(start, other.start) <= max_chars:
                    start, end = min(start, other.start), max(end, other.end)
            text = document[start:end]
        else:
            text = chunk.text  # registry text unavailable: show the chunk alone
        passages.append(Passage(number=len(passages) + 1, hit=hit, text=text, start=start, end=end))
    return passages
