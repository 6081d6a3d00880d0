"""File loaders: each turns one file into structural blocks plus the metadata it carries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from assistant.corpus import LoadError, unsupported_format
from ingest.loaders.base import LoadedFile
from ingest.loaders.limits import ReadBudget, check_archive

Loader = Callable[[bytes, Path, ReadBudget], LoadedFile]


def loaders() -> dict[str, Loader]:
    """The loader of each suffix. Imported on first use: the PDF, Word and HTML libraries take most of a second
    to import, which commands that never read a file (``stats``, ``search``) should not pay."""
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


def load_file(data: bytes, path: Path, budget: ReadBudget | None = None) -> LoadedFile:
    """Dispatch on the file extension; raise LoadError with a French reason.

    ``budget`` bounds what reading may cost (characters, unpacked size, time) and hears about
    pages read; without one, the default limits apply.
    """
    loader = loaders().get(path.suffix.lower())
    if loader is None:
        raise unsupported_format(path.suffix)
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


def readable_text(path: Path, fmt: str) -> str:
    """A text document as the index read it, for display: an HTML page's main content as Markdown (headings
    marked), Markdown without its YAML header, plain text as is. Raises LoadError (French) or OSError."""
    data = path.read_bytes()
    if fmt in ("html", "htm"):
        blocks = load_file(data, path).blocks
        return "\n\n".join(("#" * max(1, b.level) + " " if b.kind == "heading" else "") + b.text for b in blocks)
    from ingest.loaders.text import decode_text, split_front_matter

    _, body = split_front_matter(decode_text(data))
    return body
