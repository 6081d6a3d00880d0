"""Plain text and Markdown, with encoding detection and optional YAML front matter."""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any

import charset_normalizer
import yaml

from assistant.corpus import LoadError
from assistant.types import Block
from ingest.loaders.base import LoadedFile
from ingest.loaders.limits import ReadBudget

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.DOTALL)
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_BINARY_CONTROL = set(range(0, 9)) | {11, 12} | set(range(14, 32))


def decode_text(data: bytes) -> str:
    """Decode bytes as UTF-8 (with or without BOM), else CP1252, else a detected charset.

    A UTF-8 file with a few corrupt bytes keeps its text (broken bytes become U+FFFD).

    CP1252 covers Latin-1 French text too: both agree outside 0x80-0x9F, where
    French Windows files put ’ œ € … and real Latin-1 text has nothing; the
    five bytes CP1252 leaves undefined fall through to charset detection.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    sample = data[:65536]
    if (utf16 := _bomless_utf16(sample)) is not None:
        try:
            text = data.decode(utf16)
        except UnicodeDecodeError:
            text = ""  # not UTF-16 after all: judged below like any other bytes
        if text and sum(ord(c) in _BINARY_CONTROL for c in text[:32768]) <= len(text[:32768]) * 0.01:
            return text
    if b"\x00" in sample or sum(b in _BINARY_CONTROL for b in sample) > len(sample) * 0.01:
        raise LoadError("fichier binaire : ce n'est pas du texte (vérifiez l'extension du fichier)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    lenient = data.decode("utf-8", errors="replace")
    damaged = lenient.count("\ufffd")
    if any(ord(c) > 127 and c != "\ufffd" for c in lenient) and damaged <= max(3, len(lenient) // 200):
        # mostly valid UTF-8 with a few broken bytes: keep the text, mark the damage
        return lenient
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    return str(best) if best is not None else data.decode("latin-1")


def _bomless_utf16(sample: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when the bytes look like UTF-16 text saved without a BOM.

    Latin text in UTF-16 has a NUL in every other byte (the high byte of each character):
    at odd positions in little-endian, at even ones in big-endian. Binary files have NULs
    scattered on both sides.
    """
    even, odd = sample[0::2], sample[1::2]
    if len(odd) < 4:
        return None
    even_nuls, odd_nuls = even.count(0), odd.count(0)
    if odd_nuls >= 0.6 * len(odd) and even_nuls <= 0.05 * len(even):
        return "utf-16-le"
    if even_nuls >= 0.6 * len(even) and odd_nuls <= 0.05 * len(odd):
        return "utf-16-be"
    return None


def _looks_like_heading(paragraph: str, next_paragraph: str | None) -> bool:
    # Saved web pages lose their markup: a short single line followed by body text is a title.
    return (
        "\n" not in paragraph
        and len(paragraph) <= 120
        and not paragraph.rstrip().endswith((".", ",", ";", ":", "…"))
        and next_paragraph is not None
        and len(next_paragraph) > len(paragraph)
    )


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def _is_hard_wrapped(lines: list[str]) -> bool:
    # Text wrapped at a fixed width: most lines are of similar length and stop mid-sentence.
    body = lines[:-1]
    wrapped = [ln for ln in body if 40 <= len(ln) <= 100 and not ln.rstrip().endswith((".", "!", "?", ":", "»"))]
    return len(wrapped) >= 0.6 * len(body)


def _text_paragraphs(text: str) -> list[str]:
    """Blank-line paragraphs; in text copied from web pages each line is a paragraph of its own."""
    paragraphs = []
    for para in _paragraphs(text):
        lines = [ln.strip() for ln in para.split("\n") if ln.strip()]
        if len(lines) > 1 and not _is_hard_wrapped(lines):
            paragraphs.extend(lines)
        else:
            paragraphs.append(para)
    return paragraphs


def text_blocks(text: str, *, detect_headings: bool) -> list[Block]:
    """Split text on blank lines; optionally promote title-like lines to headings."""
    paragraphs = _text_paragraphs(text)
    blocks = []
    for i, para in enumerate(paragraphs):
        following = paragraphs[i + 1] if i + 1 < len(paragraphs) else None
        if detect_headings and _looks_like_heading(para, following):
            blocks.append(Block(text=para, kind="heading", level=2))
        else:
            blocks.append(Block(text=para))
    return blocks


def markdown_blocks(text: str) -> list[Block]:
    """Markdown headings (``#``) become heading blocks; everything else is split on blank lines."""
    blocks: list[Block] = []
    buffer: list[str] = []

    def flush() -> None:
        blocks.extend(Block(text=p) for p in _paragraphs("\n".join(buffer)))
        buffer.clear()

    for line in text.split("\n"):
        match = _MD_HEADING.match(line)
        if match:
            flush()
            blocks.append(Block(text=match.group(2).strip(), kind="heading", level=len(match.group(1))))
        else:
            buffer.append(line)
    flush()
    return blocks


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """YAML front matter (``---`` fenced) and the remaining body."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise LoadError(f"en-tête YAML (front matter) invalide : {exc}") from exc
    if not isinstance(meta, dict):
        raise LoadError("en-tête YAML (front matter) invalide : un dictionnaire clé: valeur est attendu")
    return meta, text[match.end() :]


def load_text(data: bytes, path: Path, budget: ReadBudget) -> LoadedFile:
    meta, body = split_front_matter(decode_text(data))
    budget.add_text(body)
    return LoadedFile(blocks=text_blocks(body, detect_headings=True), metadata=meta)


def load_markdown(data: bytes, path: Path, budget: ReadBudget) -> LoadedFile:
    meta, body = split_front_matter(decode_text(data))
    budget.add_text(body)
    return LoadedFile(blocks=markdown_blocks(body), metadata=meta)
