"""Word documents: paragraphs and tables in body order, heading levels from paragraph styles."""

from __future__ import annotations

import functools
import io
import re
import zipfile
from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.opc.coreprops import CoreProperties
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree

from assistant.corpus import LoadError
from assistant.types import Block
from ingest.loaders.base import LoadedFile
from ingest.loaders.limits import ReadBudget

UNREADABLE_ADVICE = "ouvrez-le et réenregistrez-le au format .docx"
UNREADABLE = f"fichier Word illisible ou corrompu : {UNREADABLE_ADVICE}"
# English and French style names (Word localises them: "Titre 1").
_HEADING_STYLE = re.compile(r"^(?:heading|titre)\s*(\d)$", re.IGNORECASE)


def _heading_level(style_name: str) -> int:
    if style_name.lower() in ("title", "titre"):
        return 1
    match = _HEADING_STYLE.match(style_name.strip())
    return int(match.group(1)) if match else 0


def _heading_levels(document: DocxDocument) -> dict[str | None, int]:
    """Heading level of each paragraph style id, read once.

    ``Paragraph.style`` looks the style up among all styles on every call (5 ms a paragraph:
    34 s for a 6,000-paragraph document), so the loader maps ids itself.
    """
    return {style.style_id: _heading_level(style.name or "") for style in document.styles}


def load_docx(data: bytes, path: Path, budget: ReadBudget) -> LoadedFile:
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoadError(UNREADABLE) from exc
    except etree.XMLSyntaxError as exc:
        raise LoadError(f"fichier Word illisible ou corrompu (XML invalide) : {UNREADABLE_ADVICE}") from exc
    blocks: list[Block] = []
    heading_levels = _heading_levels(document)
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            budget.add_text(text)
            level = heading_levels.get(item._p.style, 0)  # the pStyle id; None for the default style
            blocks.append(Block(text=text, kind="heading" if level else "paragraph", level=level))
        elif isinstance(item, Table):
            rows = []
            for row in item.rows:
                rows.append(" | ".join(cell.text.strip() for cell in row.cells))
                budget.add_text(rows[-1])
            if any(r.strip(" |") for r in rows):
                blocks.append(Block(text="\n".join(rows)))
    if not blocks:
        raise LoadError("document Word sans texte")
    return LoadedFile(blocks=blocks, metadata=declared_metadata(document.core_properties))


@functools.cache
def _template_properties() -> CoreProperties:
    """The core properties of python-docx's blank template, read from python-docx itself."""
    return docx.Document().core_properties


def declared_metadata(props: CoreProperties) -> dict[str, object]:
    """Title, organisation and date from the core properties, each ignored while it is the template's.

    A file made with python-docx keeps every property its author did not set: the template's
    author ("python-docx") and its creation date (2013-12-23). Each field is compared on its own,
    since setting the author (as our note export does) leaves the 2013 date in place; a file
    later saved by Word keeps the template's creation date but gets a real modification date.
    """
    template = _template_properties()
    meta: dict[str, object] = {}
    if props.title and props.title != template.title:
        meta["title"] = props.title
    if props.author and props.author != template.author:
        meta["organisation"] = props.author
    dates = [d for d in (props.created, props.modified) if d and d not in (template.created, template.modified)]
    if dates:
        meta["date"] = dates[0].date().isoformat()
    return meta
