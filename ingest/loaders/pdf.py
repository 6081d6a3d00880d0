"""PDF: text per page with page numbers kept (pypdf); pages without a text layer read by OCR when available."""

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
from ingest.loaders.ocr import find_ocr_engine, page_ranges, render_pages
from ingest.tables import table_block

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
    by_page = {number: _page_blocks(lines, body_size, number) for number, (_, lines) in enumerate(pages, 1)}
    meta: dict[str, object] = {"pages": len(pages)}
    notices: list[str] = []
    scanned = [number for number, (text, _) in enumerate(pages, 1) if _is_scanned(text)]
    by_page.update(_pages_with_tables(data, [n for n in by_page if n not in scanned], body_size, budget))
    if scanned:
        by_page.update(_recognise(data, scanned, budget, meta, notices))
    blocks = [block for number in sorted(by_page) for block in by_page[number]]
    if not blocks:
        raise LoadError(
            f"PDF sans texte extractible (document numérisé ou composé d'images) : {notices[-1] if notices else 'aucun texte'}"
        )
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
    return LoadedFile(blocks=blocks, metadata=meta, notices=notices)


def _is_scanned(page_text: str) -> bool:
    """A page whose text layer is empty or a stray stamp (a page number, a scanner's header)."""
    return len("".join(page_text.split())) < 12


def _recognise(
    data: bytes, numbers: list[int], budget: ReadBudget, meta: dict[str, object], notices: list[str]
) -> dict[int, list[Block]]:
    """Blocks of the pages ``numbers`` read by OCR; what could not be read goes to ``notices`` (French)."""
    choice = budget.ocr if budget.ocr is not None else find_ocr_engine()
    if choice.reader is None:
        notices.append(f"page(s) {page_ranges(numbers)} sans texte (numérisées) non lues : {choice.unavailable}")
        meta["pages_sans_texte"] = page_ranges(numbers)
        return {}
    budget.ocr_started(len(numbers))
    recognised: dict[int, list[Block]] = {}
    failed: list[int] = []
    for done, (number, image) in enumerate(render_pages(data, numbers), 1):
        try:
            text = choice.reader.read_page(image)
        except Exception as exc:  # one unreadable page (engine crash, odd image) never fails the file
            log.warning("OCR failed on page %d: %r", number, exc)
            failed.append(number)
            text = ""
        budget.add_text(text)
        recognised[number] = [Block(text=p, page=number) for p in _page_paragraphs(text)]
        budget.page_recognised(done, len(numbers))
    read = [n for n in numbers if recognised.get(n)]
    if read:
        meta["pages_ocr"] = page_ranges(read)
    unread = [n for n in numbers if n not in read]
    if unread:
        reason = "la reconnaissance (OCR) a échoué" if failed else "la reconnaissance (OCR) n'a reconnu aucun texte"
        notices.append(f"page(s) {page_ranges(unread)} numérisées sans texte lisible : {reason}")
    return recognised


def _pages_with_tables(data: bytes, numbers: list[int], body_size: float, budget: ReadBudget) -> dict[int, list[Block]]:
    """The blocks of the pages that hold ruled tables, read by pdfplumber: text above, between and
    below each table as usual, each table as one block of rows. Pages without a table keep pypdf's blocks."""
    import pdfplumber

    found: dict[int, list[Block]] = {}
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for number in numbers:
                page = pdf.pages[number - 1]
                tables = [t for t in page.find_tables() if _is_real_table(t.extract())]
                if tables:
                    found[number] = _blocks_around_tables(page, tables, body_size, number)
                page.close()
                budget.check_time()
    except LoadError:
        raise
    except Exception as exc:  # a table reader's failure costs the tables' structure, never the file
        log.warning("pdfplumber could not read the tables (%r): pypdf's text is kept", exc)
    return found


def _is_real_table(rows: list[list[str | None]]) -> bool:
    """Two rows of two cells with text at least: a lone framed box is a frame, not a table."""
    filled = [row for row in rows if sum(1 for cell in row if cell and cell.strip()) >= 2]
    return len(filled) >= 2


def _blocks_around_tables(page, tables: list, body_size: float, number: int) -> list[Block]:
    blocks: list[Block] = []
    top = 0.0
    for table in sorted(tables, key=lambda t: t.bbox[1]):
        blocks += _band_blocks(page, top, table.bbox[1], body_size, number)
        if (block := table_block(table.extract(), page=number)) is not None:
            blocks.append(block)
        top = max(top, table.bbox[3])
    blocks += _band_blocks(page, top, page.height, body_size, number)
    return blocks


def _band_blocks(page, top: float, bottom: float, body_size: float, number: int) -> list[Block]:
    """Headings and paragraphs of the horizontal band [top, bottom] of a pdfplumber page."""
    if bottom - top < 1:
        return []
    band = page.crop((0, top, page.width, bottom), strict=False)
    lines = []
    for line in band.extract_text_lines():
        first = line["chars"][0] if line.get("chars") else {}
        bold = "bold" in str(first.get("fontname", "")).lower()
        lines.append(_Line(line["text"].strip(), float(first.get("size", 0.0)), bold))
    return _page_blocks([line for line in lines if line.text], body_size, number)
