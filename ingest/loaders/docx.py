"""Word documents: paragraphs and tables in body order, heading levels from paragraph styles."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from assistant.types import Block
from ingest.loaders import LoadedFile, LoadError

# English and French style names (Word localises them: "Titre 1").
_HEADING_STYLE = re.compile(r"^(?:heading|titre)\s*(\d)$", re.IGNORECASE)


def _heading_level(style_name: str) -> int:
    if style_name.lower() in ("title", "titre"):
        return 1
    match = _HEADING_STYLE.match(style_name.strip())
    return int(match.group(1)) if match else 0


def load_docx(data: bytes, path: Path) -> LoadedFile:
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoadError("fichier Word illisible ou corrompu : ouvrez-le et réenregistrez-le au format .docx") from exc
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            level = _heading_level(item.style.name if item.style is not None else "")
            blocks.append(Block(text=text, kind="heading" if level else "paragraph", level=level))
        elif isinstance(item, Table):
            rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in item.rows]
            if any(r.strip(" |") for r in rows):
                blocks.append(Block(text="\n".join(rows)))
    if not blocks:
        raise LoadError("document Word sans texte")
    meta: dict[str, object] = {}
    props = document.core_properties
    # python-docx's blank template carries its own author and a 2013 date: not the document's
    template_defaults = props.author == "python-docx"
    if props.title:
        meta["title"] = props.title
    if props.author and not template_defaults:
        meta["organisation"] = props.author
    if props.created and not template_defaults:
        meta["date"] = props.created.date().isoformat()
    return LoadedFile(blocks=blocks, metadata=meta)
