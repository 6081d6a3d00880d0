"""References of a note (pure): one number per document, in order of first citation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reference:
    number: int
    doc_id: str
    title: str
    organisation: str | None
    date: str | None
    pages: tuple[int, ...]
    location: str  # URL, else file path
    fictional: bool


class Bibliography:
    """Numbers documents as they are first cited; the pages cited accumulate per document."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, Any]] = {}

    def cite(self, doc_id: str, metadata: dict[str, Any], page: int | None = None) -> int:
        """The document's reference number (a new one on first citation)."""
        entry = self._entries.setdefault(doc_id, {"number": len(self._entries) + 1, "meta": metadata, "pages": set()})
        if page is not None:
            entry["pages"].add(page)
        return entry["number"]

    def references(self) -> tuple[Reference, ...]:
        return tuple(
            Reference(
                number=e["number"],
                doc_id=doc_id,
                title=str(e["meta"].get("title", "")),
                organisation=e["meta"].get("organisation"),
                date=e["meta"].get("date"),
                pages=tuple(sorted(e["pages"])),
                location=str(e["meta"].get("url") or e["meta"].get("source", "")),
                fictional=e["meta"].get("fictional") is True,
            )
            for doc_id, e in sorted(self._entries.items(), key=lambda item: item[1]["number"])
        )


def references_in(text: str) -> set[int]:
    """Every reference number written ``[n]`` in ``text``."""
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}
