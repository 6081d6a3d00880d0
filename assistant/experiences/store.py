"""Experience cards stored with the index, in ``<data_dir>/cards/cards.json``, rebuilt incrementally.

Each indexed document has an entry keyed by doc_id with the content hash it was read
at and its card (null for a document that describes no experience). ``sync`` compares
with the chunk store's registry: only new or changed documents are extracted again,
removed ones are dropped; a new extractor name re-extracts everything. The file is
replaced atomically, so an interrupted sync leaves the previous cards.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.backends.store import ChunkStore
from assistant.copies import DUPLICATE_OF
from assistant.experiences.cards import CardExtractor
from assistant.experiences.records import ExperienceCard, IndexedDocument, card_from_dict, card_to_dict

log = logging.getLogger(__name__)

FORMAT = 1
FILENAME = "cards.json"


@dataclass
class CardSyncReport:
    extracted: list[str] = field(default_factory=list)  # doc ids read again (new or changed)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    cards: int = 0  # experience cards after the sync

    def summary(self) -> str:
        return (
            f"Fiches expériences : {self.cards} · documents relus : {len(self.extracted)}"
            f" · inchangés : {self.unchanged} · retirés : {len(self.removed)}"
        )


@dataclass(frozen=True)
class _Entry:
    content_hash: str
    card: ExperienceCard | None


class CardStore:
    """The cards of one index; ``cards()`` reads the file once per sync."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / FILENAME
        self._entries: dict[str, _Entry] | None = None
        self._extractor: str | None = None

    def _load(self) -> dict[str, _Entry]:
        if self._entries is None:
            self._entries, self._extractor = {}, None
            if self.path.is_file():
                try:
                    raw = json.loads(self.path.read_text(encoding="utf-8"))
                    if raw.get("format") == FORMAT:
                        self._extractor = raw.get("extractor")
                        self._entries = {
                            doc_id: _Entry(e["content_hash"], card_from_dict(e["card"]) if e["card"] else None)
                            for doc_id, e in raw["documents"].items()
                        }
                except (ValueError, KeyError, TypeError) as exc:
                    log.warning("cards file %s unreadable (%s): every document will be read again", self.path, exc)
        return self._entries

    def cards(self) -> list[ExperienceCard]:
        """Every experience card, in a stable order (title)."""
        cards = [e.card for e in self._load().values() if e.card is not None]
        return sorted(cards, key=lambda c: (c.title.lower(), c.doc_id))

    def sync(self, store: ChunkStore, extractor: CardExtractor) -> CardSyncReport:
        """Bring the cards in line with the store's registry; extract only what changed."""
        entries = dict(self._load())
        if self._extractor != extractor.name:
            entries = {}
        # a copy of a document (same text in another file) would give a second card of one experience
        registry = {d: r for d, r in store.documents().items() if not r.metadata.get(DUPLICATE_OF)}
        report = CardSyncReport()
        for doc_id in [d for d in entries if d not in registry]:
            del entries[doc_id]
            report.removed.append(doc_id)
        stale = [r for r in registry.values() if _stale(entries, r.doc_id, r.content_hash)]
        report.unchanged = len(registry) - len(stale)
        headings = _headings_by_document(store, {r.doc_id for r in stale}) if stale else {}
        for record in stale:
            text = store.document_text(record.doc_id)
            if text is None:
                continue
            document = IndexedDocument(
                record.doc_id, record.content_hash, text, dict(record.metadata), tuple(headings.get(record.doc_id, ()))
            )
            entries[record.doc_id] = _Entry(record.content_hash, extractor.extract(document))
            report.extracted.append(record.doc_id)
        if report.extracted or report.removed or self._extractor != extractor.name or not self.path.is_file():
            self._write(entries, extractor.name)
        self._entries, self._extractor = entries, extractor.name
        report.cards = sum(1 for e in entries.values() if e.card is not None)
        log.info(report.summary())
        return report

    def _write(self, entries: dict[str, _Entry], extractor: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": FORMAT,
            "extractor": extractor,
            "documents": {
                doc_id: {"content_hash": e.content_hash, "card": card_to_dict(e.card) if e.card else None}
                for doc_id, e in sorted(entries.items())
            },
        }
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".cards-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(payload, out, ensure_ascii=False, indent=1)
        os.replace(temporary, self.path)


def _stale(entries: dict[str, _Entry], doc_id: str, content_hash: str) -> bool:
    entry = entries.get(doc_id)
    return entry is None or entry.content_hash != content_hash


def _headings_by_document(store: ChunkStore, wanted: Iterable[str]) -> dict[str, list[str]]:
    """Every heading of the chunks' heading paths, per document (one pass over the chunks)."""
    wanted = set(wanted)
    found: dict[str, list[str]] = {}
    for chunk in store.iter_chunks():
        if chunk.doc_id in wanted:
            headings = found.setdefault(chunk.doc_id, [])
            headings += [h for h in chunk.heading_path if h not in headings]
    return found
