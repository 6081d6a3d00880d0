"""Tables kept as tables (pure): one block per table, one ``| cell | cell |`` line per row.

Loaders (pdfplumber for PDF, python-docx, the Markdown that trafilatura makes of HTML) hand their
rows here; the chunker keeps a table whole in one passage, or cuts it between rows with the header
row carried into each later piece's heading path; answers quote rows, the lines that start with ``|``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.types import Block

TABLE = "table"
_SEPARATOR_ROW = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")


def clean_cell(value: object) -> str:
    """A cell's text on one line; a ``|`` inside a cell would read as a column break, so it becomes ``/``."""
    if value is None:
        return ""
    return " ".join(str(value).split()).replace("|", "/")


def table_rows(rows: Sequence[Sequence[object]]) -> list[list[str]]:
    """Cleaned rows without the empty ones (a merged cell keeps its text in each column it spans)."""
    cleaned: list[list[str]] = []
    for row in rows:
        cells = [clean_cell(value) for value in row]
        if any(cells):
            cleaned.append(cells)
    return cleaned


def table_text(rows: Sequence[Sequence[object]]) -> str:
    """The rows as ``| a | b |`` lines; empty string when no row has text."""
    return "\n".join("| " + " | ".join(row) + " |" for row in table_rows(rows))


def table_block(rows: Sequence[Sequence[object]], *, page: int | None = None) -> Block | None:
    """A table block, or None for a table without text."""
    text = table_text(rows)
    return Block(text=text, kind=TABLE, page=page) if text else None


def is_table_text(paragraph: str) -> bool:
    """A Markdown table: every line starts with ``|`` (trafilatura writes HTML tables so)."""
    lines = [line.strip() for line in paragraph.strip().split("\n")]
    return bool(lines) and all(line.startswith("|") for line in lines) and len(lines) >= 2


def markdown_table_block(paragraph: str, *, page: int | None = None) -> Block | None:
    """A Markdown table paragraph as a table block: the ``|---|---|`` line dropped, cells cleaned."""
    rows = []
    for line in paragraph.strip().split("\n"):
        line = line.strip()
        if _SEPARATOR_ROW.match(line):
            continue
        inner = line[1:-1] if line.endswith("|") and len(line) > 1 else line[1:]
        rows.append(inner.split("|"))
    return table_block(rows, page=page)


def row_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each row line of a table's text."""
    spans = []
    start = 0
    for line in text.split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans
