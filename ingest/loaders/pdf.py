"""PDF: text per page with page numbers kept (pypdf). No OCR: scanned PDFs are reported."""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pypdf import PageObject, PdfReader
from pypdf.errors import PdfReadError

from assistant.corpus import LoadError
from assistant.types import Block
from ingest.loaders.base import LoadedFile
from ingest.loaders.limits import ReadBudget

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


@dataclass
class _Line:
    text: str
    size: float
    bold: bool


def _page_lines(page: PageObject) -> tuple[str, list[_Line]]:
    """The page text, and its lines with the font each was set in (for telling headings apart)."""
    lines: list[_Line] = []
    current: list[str] = []
    style: tuple[float, bool] = (0.0, False)

    def visit(text: str, _cm: object, _tm: object, font: dict | None, size: float) -> None:
        nonlocal style
        for i, part in enumerate(text.split("\n")):
            if i > 0:
                lines.append(_Line("".join(current).strip(), *style))
                current.clear()
            if part.strip():
                current.append(part)
                style = (float(size or 0.0), "bold" in str((font or {}).get("/BaseFont", "")).lower())

    text = page.extract_text(visitor_text=visit) or ""
    lines.append(_Line("".join(current).strip(), *style))
    return text, [line for line in lines if line.text]


def _page_blocks(lines: list[_Line], body_size: float, page: int) -> list[Block]:
    """Headings are lines set in bold or larger than the body text; the rest is split into paragraphs."""
    blocks: list[Block] = []
    body: list[str] = []

    def flush_body() -> None:
        blocks.extend(Block(text=p, page=page) for p in _page_paragraphs("\n".join(body)))
        body.clear()

    for line in lines:
        heading = (line.bold or line.size >= body_size + 1.5) and len(line.text) < 150
        if not heading:
            body.append(line.text)
            continue
        flush_body()
        level = 1 if line.size >= body_size + 4 else 2
        previous = blocks[-1] if blocks else None
        if previous is not None and previous.kind == "heading" and previous.level == level:
            blocks[-1] = Block(text=f"{previous.text} {line.text}", kind="heading", level=level, page=page)
        else:
            blocks.append(Block(text=line.text, kind="heading", level=level, page=page))
    flush_body()
    return blocks


def _body_size(pages: list[list[_Line]]) -> float:
    weights: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            weights[line.size] += len(line.text)
    return weights.most_common(1)[0][0] if weights else 0.0


def _read_pages(reader: PdfReader, budget: ReadBudget) -> list[tuple[str, list[_Line]]]:
    """Each page's text and lines, counted against the budget and reported as it is read."""
    pages = []
    total = len(reader.pages)
    for number, page in enumerate(reader.pages, 1):
        pages.append(_page_lines(page))
        budget.add_text(pages[-1][0])
        budget.page_read(number, total)
    return pages


def load_pdf(data: bytes, path: Path, budget: ReadBudget) -> LoadedFile:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("PDF protégé par un mot de passe : enregistrez une copie sans protection puis réessayez")
        pages = _read_pages(reader, budget)
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(f"PDF illisible ou corrompu ({exc.__class__.__name__}) : vérifiez le fichier") from exc
    except Exception as exc:  # pypdf raises many types on broken files; never let one stop an ingest
        log.warning("unexpected pypdf failure on %s: %r", path, exc)
        raise LoadError("PDF illisible ou corrompu : vérifiez le fichier") from exc
    if not pages:
        raise LoadError("PDF sans aucune page")
    body_size = _body_size([lines for _, lines in pages])
    blocks = [block for number, (_, lines) in enumerate(pages, 1) for block in _page_blocks(lines, body_size, number)]
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
