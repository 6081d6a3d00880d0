"""PDF: text per page with page numbers kept (pypdf). No OCR: scanned PDFs are reported."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from assistant.types import Block
from ingest.loaders import LoadedFile, LoadError

log = logging.getLogger(__name__)
# pypdf gives one line per visual line; a line ending a sentence ends a paragraph.
_PARAGRAPH_END = re.compile(r"(?<=[.!?:»…])\n(?=[A-ZÀ-Ý«•\-–\d])")


def _page_paragraphs(text: str) -> list[str]:
    text = re.sub(r"-\n(?=[a-zà-ÿ])", "", text)  # words hyphenated across lines
    parts = re.split(r"\n\s*\n", text)
    paragraphs: list[str] = []
    for part in parts:
        paragraphs.extend(p.strip() for p in _PARAGRAPH_END.split(part))
    return [p.replace("\n", " ") for p in paragraphs if p.strip()]


def load_pdf(data: bytes, path: Path) -> LoadedFile:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("PDF protégé par un mot de passe : enregistrez une copie sans protection puis réessayez")
        pages = [page.extract_text() or "" for page in reader.pages]
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(f"PDF illisible ou corrompu ({exc.__class__.__name__}) : vérifiez le fichier") from exc
    except Exception as exc:  # pypdf raises many types on broken files; never let one stop an ingest
        log.warning("unexpected pypdf failure on %s: %r", path, exc)
        raise LoadError("PDF illisible ou corrompu : vérifiez le fichier") from exc
    if not pages:
        raise LoadError("PDF sans aucune page")
    blocks = [Block(text=p, page=number) for number, text in enumerate(pages, 1) for p in _page_paragraphs(text)]
    if not blocks:
        raise LoadError(
            "PDF sans texte extractible (document scanné ou composé d'images) : "
            "la reconnaissance de caractères (OCR) n'est pas encore prise en charge"
        )
    meta: dict[str, object] = {"pages": len(pages)}
    info = reader.metadata
    if info is not None:
        if info.title:
            meta["title"] = str(info.title)
        if info.author:
            meta["organisation"] = str(info.author)
        try:
            if info.creation_date:
                meta["date"] = info.creation_date.date().isoformat()
        except (ValueError, TypeError):
            pass
    return LoadedFile(blocks=blocks, metadata=meta)
