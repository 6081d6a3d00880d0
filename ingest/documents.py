"""From a loaded file to a Document: cleaned text, section offsets and merged metadata (pure)."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from assistant.types import Block, Document, Section
from ingest.cleaning import clean_blocks
from ingest.loaders.base import LoadedFile

BLOCK_SEPARATOR = "\n\n"
_YEAR = re.compile(r"\b(19|20)\d{2}\b")


def document_id(source: str) -> str:
    """Stable id from the source (absolute path or URL): the same file keeps its id across runs."""
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]


def content_hash(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def _normalize_date(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int) and 1900 <= value <= 2100:
        return str(value)
    if isinstance(value, str) and _YEAR.search(value):
        return value.strip()
    return None


def normalize_metadata(raw: dict[str, Any]) -> dict[str, Any]:
    """Scalar or list-of-strings values only (what the store can filter on), plus a ``year``."""
    meta: dict[str, Any] = {}
    for key, value in raw.items():
        key = str(key).strip().lower()
        if key == "date":
            value = _normalize_date(value)
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, (list, tuple)):
            items = [str(v).strip() for v in value if str(v).strip()]
            if items:
                meta[key] = items
        elif isinstance(value, (bool, int, float, str)):
            meta[key] = value.strip() if isinstance(value, str) else value
        else:
            meta[key] = str(value)
    if "date" in meta and (match := _YEAR.search(meta["date"])):
        meta["year"] = int(match.group(0))
    return meta


def build_document(
    doc_id: str, loaded: LoadedFile, *, source: str, file_meta: dict[str, Any], sidecar: dict[str, Any]
) -> Document:
    """Join cleaned blocks into one text, recording each block's offsets.

    Metadata precedence: file facts < what the file declares (PDF info, front
    matter) < the sidecar, which the user controls.
    """
    blocks = clean_blocks(loaded.blocks)
    pieces: list[str] = []
    sections: list[Section] = []
    offset = 0
    for block in blocks:
        if pieces:
            offset += len(BLOCK_SEPARATOR)
        sections.append(Section(offset, offset + len(block.text), block.kind, block.level, block.page))
        pieces.append(block.text)
        offset += len(block.text)
    text = BLOCK_SEPARATOR.join(pieces)
    metadata = normalize_metadata({**file_meta, **loaded.metadata, **sidecar})
    if "title" not in metadata:
        metadata["title"] = _guess_title(blocks) or Path(source).stem.replace("_", " ")
    metadata["source"] = source
    return Document(doc_id=doc_id, text=text, sections=tuple(sections), metadata=metadata)


def _guess_title(blocks: list[Block]) -> str | None:
    """First line when it reads as a title, else the first heading, else the opening words."""
    if not blocks:
        return None
    first = blocks[0].text
    if blocks[0].kind == "heading" or ("\n" not in first and len(first) <= 150):
        return first
    for block in blocks[1:5]:
        if block.kind == "heading":
            return block.text
    sentence = re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0]
    return sentence if len(sentence) <= 100 else sentence[:100].rsplit(" ", 1)[0] + "…"
