"""Documents page formatting (pure): table rows, search, statistics, progress with ETA."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from assistant.copies import DUPLICATE_OF, chosen_at, copy_locations, superseded_documents
from assistant.corpus import DocumentRecord
from assistant.french_dates import french_timestamp

COLUMNS = ["Titre", "Organisation", "Date", "Format", "Pages", "Passages", "Indexé le", "Fichier", "Identifiant"]


def fold(text: str) -> str:
    """Lower case without accents, for searching."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _matches(record: DocumentRecord, query: str) -> bool:
    meta = record.metadata
    haystack = " ".join(
        str(meta.get(k, "")) for k in ("title", "organisation", "type", "territory", "filename", "date", "source")
    )
    return all(word in fold(haystack) for word in fold(query).split())


def sorted_records(records: Mapping[str, DocumentRecord], query: str = "") -> list[DocumentRecord]:
    """Records matching every word of ``query`` (accents ignored), by title."""
    kept = [r for r in records.values() if not query.strip() or _matches(r, query)]
    return sorted(kept, key=lambda r: fold(str(r.metadata.get("title", ""))))


def french_date(value: str) -> str:
    """A document date as written in French: 2021-03-01 -> 01/03/2021, 2021-03 -> 03/2021; anything else as is."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return "/".join(reversed(value.split("-")))
    if re.fullmatch(r"\d{4}-\d{2}", value):
        year, month = value.split("-")
        return f"{month}/{year}"
    return value


def document_rows(records: Sequence[DocumentRecord]) -> list[list[Any]]:
    """One table row per document, in ``COLUMNS`` order; unknown values are "—"."""
    rows = []
    by_id = {r.doc_id: r for r in records}
    newer = superseded_documents(by_id)
    for r in records:
        meta = r.metadata
        rows.append(
            [
                (str(meta.get("title", "")) or "Sans titre") + _copy_or_version(r, by_id, newer),
                str(meta.get("organisation", "—")),
                french_date(str(meta.get("date", "—"))),
                str(meta.get("format", "—")),
                str(meta.get("pages", "—")),
                r.chunk_count,
                french_timestamp(str(meta.get("ingested_at", "—"))),
                str(meta.get("filename", "")) or Path(r.source).name,
                r.doc_id,
            ]
        )
    return rows


def _copy_or_version(record: DocumentRecord, by_id: Mapping[str, DocumentRecord], newer: Mapping[str, str]) -> str:
    """« (copie de …) » for a copy indexed once, « (exemplaire de référence ; copies : …) » for the document
    its copies point to, « (remplacé par …) » for an older version."""
    reference = by_id.get(str(record.metadata.get(DUPLICATE_OF, "")))
    if reference is not None:
        return f" (copie de {Path(reference.source).name}, indexée une fois)"
    copies = [Path(source).name for source in copy_locations(by_id, record.doc_id)[1:]]
    if copies:
        chosen = " choisi" if chosen_at(record) else ""
        return f" (exemplaire de référence{chosen} ; copies : {', '.join(copies)})"
    replacement = by_id.get(newer.get(record.doc_id, ""))
    if replacement is not None:
        return f" (version remplacée par {Path(replacement.source).name})"
    return ""


def document_choices(records: Sequence[DocumentRecord]) -> list[tuple[str, str]]:
    """(label, doc id) pairs for the document picker of the delete, re-index and reference buttons; the file
    name tells apart the copies of one text (same title)."""
    return [
        (
            f"{r.metadata.get('title', 'Sans titre')} — {r.metadata.get('filename') or Path(r.source).name} ({r.doc_id})",
            r.doc_id,
        )
        for r in records
    ]


def corpus_stats(records: Mapping[str, DocumentRecord]) -> str:
    """French markdown: documents, passages, formats, organisations, years."""
    metas = [r.metadata for r in records.values()]
    formats: dict[str, int] = {}
    for meta in metas:
        formats[str(meta.get("format", "?"))] = formats.get(str(meta.get("format", "?")), 0) + 1
    organisations = {str(m["organisation"]) for m in metas if m.get("organisation")}
    years = sorted(int(m["year"]) for m in metas if isinstance(m.get("year"), int))
    lines = [
        f"**{len(records)}** documents · **{sum(r.chunk_count for r in records.values())}** passages indexés",
        "Formats : " + (", ".join(f"{k} {v}" for k, v in sorted(formats.items())) or "—"),
        f"Organisations : {len(organisations)}",
        f"Années : {years[0]}–{years[-1]}" if years else "Années : —",
    ]
    return "  \n".join(lines)


def progress_text(done: int, total: int, current: str, elapsed_s: float) -> str:
    """French progress line with the remaining time estimated from the pace so far."""
    if total <= 0:
        return "Lecture des fichiers…"
    line = f"Calcul des vecteurs : {done}/{total} passages · {current}"
    if 0 < done < total and elapsed_s > 0:
        remaining = elapsed_s / done * (total - done)
        line += f" · reste ≈ {_duration(remaining)}"
    return line


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s"
