"""Copies and versions of one document, as the registry records them (pure).

Ingestion (``ingest/duplicates.py``) indexes a copy once: the copy's record names the reference
document (``duplicate_of``) and holds no passage. An updated version is indexed in full and linked
to the one it replaces (``supersedes`` on the newer, or ``superseded_by`` on the older).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

DUPLICATE_OF = "duplicate_of"
SUPERSEDES = "supersedes"
SUPERSEDED_BY = "superseded_by"


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
