"""Folding the delta into a new keyword base (pure), off the writer's path.

A compaction starts from a snapshot (base B0 + delta D0) and builds B1 = B0 without its masked passages,
plus D0's passages, from terms already analysed (:mod:`keyword_terms`, and the delta's own): no passage
is read from the store or analysed again, so it costs bm25s's indexing only. While it runs, refreshes
keep publishing deltas over B0 (Dn). To publish B1, Dn is *rebased* on it: what B1 already holds is
dropped from the delta, and the documents B1 holds in a version Dn no longer answers are masked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.retrieval.keyword_segments import Delta
from assistant.retrieval.keyword_terms import AnalysedTerms


@dataclass(frozen=True)
class BaseRows:
    """The passages of a keyword base, in chunk id order (the order a whole rebuild gives)."""

    chunk_ids: list[str]
    metadatas: list[Mapping[str, Any]]
    terms: AnalysedTerms  # row for row


def fold_delta(
    base_ids: Sequence[str],
    base_metadatas: Sequence[Mapping[str, Any]],
    base_terms: AnalysedTerms,
    delta: Delta,
    fingerprint: str,
) -> BaseRows:
    """The rows of base + ``delta`` as one base (``fingerprint``): the base's passages of masked documents leave,
    the delta's join. ``base_terms`` are the base's analysed terms, row for row; the kept rows' terms are copied
    as they are, only the delta's are encoded."""
    if len(base_terms) != len(base_ids):
        raise ValueError(f"{len(base_terms)} analysed passages for a base of {len(base_ids)}")
    replaced = {p.chunk_id for p in delta.passages}
    rows: list[tuple[str, Mapping[str, Any], int | Sequence[str]]] = [
        (base_ids[row], meta, row)
        for row, meta in enumerate(base_metadatas)
        if meta.get("doc_id") not in delta.masked and base_ids[row] not in replaced
    ]
    rows += [(p.chunk_id, dict(p.metadata), p.terms) for p in delta.passages]
    rows.sort(key=lambda row: row[0])
    terms = base_terms.gather(fingerprint, [r[2] for r in rows])
    return BaseRows([r[0] for r in rows], [r[1] for r in rows], terms)


def rebase(delta: Delta, held: Mapping[str, str], base_documents: Mapping[str, str], base_fingerprint: str) -> Delta:
    """``delta`` (over an older base) made relative to a new base.

    ``held``: the documents the old base + ``delta`` answer with (doc id → content hash), what must not
    change; ``base_documents``: those the new base holds (``base_fingerprint``). A delta passage whose
    document the new base holds in the same version is dropped; a document the new base holds in a
    version ``held`` does not (changed or removed since the snapshot) is masked.
    """
    passages = tuple(p for p in delta.passages if base_documents.get(p.doc_id) != p.content_hash)
    masked = frozenset(d for d, version in base_documents.items() if held.get(d) != version)
    return Delta(base_fingerprint, delta.fingerprint, passages, masked)
