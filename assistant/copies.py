"""Copies and versions of one document, as the registry records them (pure).

Ingestion (``ingest/duplicates.py``) indexes a copy once: the copy's record names the reference
document (``duplicate_of``) and holds no passage. An updated version is indexed in full and linked
to the one it replaces (``supersedes`` on the newer, or ``superseded_by`` on the older).
The user may choose which copy is the reference (the one whose passages are indexed and cited):
the choice is stamped on that copy's record (``chosen_reference``) and the latest choice wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

DUPLICATE_OF = "duplicate_of"
SUPERSEDES = "supersedes"
SUPERSEDED_BY = "superseded_by"
CHOSEN_REFERENCE = "chosen_reference"  # when the user chose this copy as the reference (ISO time)


class Record(Protocol):
    """What these functions read of a registry record."""

    doc_id: str
    metadata: dict[str, Any]

    @property
    def source(self) -> str: ...


def copy_locations(records: Mapping[str, Record], doc_id: str) -> list[str]:
    """Every place a document is found: its own source first, then its copies' (sorted)."""
    record = records.get(doc_id)
    own = [record.source] if record is not None else []
    copies = sorted(r.source for r in records.values() if r.metadata.get(DUPLICATE_OF) == doc_id)
    return own + copies


def superseded_documents(records: Mapping[str, Record]) -> dict[str, str]:
    """``{older doc_id: newer doc_id}`` for each version link the registry holds."""
    links: dict[str, str] = {}
    for record in records.values():
        if older := record.metadata.get(SUPERSEDES):
            links[str(older)] = record.doc_id
        if newer := record.metadata.get(SUPERSEDED_BY):
            links[record.doc_id] = str(newer)
    return links


def chosen_at(record: Record | None) -> str:
    """When the user chose this copy as the reference ("" when never): the latest choice wins."""
    return str(record.metadata.get(CHOSEN_REFERENCE, "")) if record is not None else ""


def copy_group(records: Mapping[str, Record], doc_id: str) -> list[str]:
    """The doc ids of one text's copies: its reference first, then the copies by source (one id when alone)."""
    record = records.get(doc_id)
    if record is None:
        return []
    reference = str(record.metadata.get(DUPLICATE_OF) or doc_id)
    copies = sorted((r for r in records.values() if r.metadata.get(DUPLICATE_OF) == reference), key=lambda r: r.source)
    return [reference] + [r.doc_id for r in copies] if reference in records else [r.doc_id for r in copies]
