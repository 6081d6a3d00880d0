"""File loaders: each turns one file into structural blocks plus the metadata it carries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.types import Block

if TYPE_CHECKING:
    from ingest.loaders.limits import ReadBudget


class LoadError(Exception):
    """A file that cannot be ingested; the message is French and says what to do."""


@dataclass
class LoadedFile:
    blocks: list[Block]
    metadata: dict[str, Any] = field(default_factory=dict)
    # French remarks for the ingest summary about a file indexed only in part (pages left unread…)
    notices: list[str] = field(default_factory=list)


Loader = Callable[[bytes, Path, "ReadBudget"], LoadedFile]


def _registry() -> dict[str, Loader]:
    from ingest.loaders import docx, html, pdf, text

    return {
        ".pdf": pdf.load_pdf,
        ".docx": docx.load_docx,
        ".html": html.load_html,
        ".htm": html.load_html,
        ".md": text.load_markdown,
        ".markdown": text.load_markdown,
        ".txt": text.load_text,
    }


SUPPORTED_SUFFIXES = (".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt")


def load_file(data: bytes, path: Path, budget: ReadBudget | None = None) -> LoadedFile:
    """Dispatch on the file extension; raise LoadError with a French reason.

    ``budget`` bounds what reading may cost (characters, unpacked size, time) and hears about
    pages read; without one, the default limits apply.
    """
    from ingest.loaders.limits import ReadBudget, check_archive

    loader = _registry().get(path.suffix.lower())
    if loader is None:
        raise LoadError(
            f"format non pris en charge ({path.suffix or 'sans extension'}) : "
            f"formats acceptés {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if not data.strip():
        raise LoadError("fichier vide")
    budget = budget or ReadBudget()
    if data.startswith(b"PK\x03\x04"):  # DOCX and every other zip-based format
        check_archive(data, budget.limits)
    loaded = loader(data, path, budget)
    if budget.chars == 0:  # loaders that do not count as they go are checked once, at the end
        for block in loaded.blocks:
            budget.add_text(block.text)
    return loaded
