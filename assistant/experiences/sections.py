"""The sections of an experience fiche, found in the registry text (pure).

The registry keeps a document's text with its headings as blocks of their own
("Territoire\n\n…"), except PDFs, whose headings open the paragraph they title
("Territoire Ville des …"). A block is a heading when it is one of the usual
section labels or a heading the chunker recorded in a chunk's heading path; a
section runs from its heading to the next heading. Everything here returns exact
slices of the text: ``text[span.start:span.end] == span.text``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.sentences import split_sentences
from assistant.types import Span

# usual labels of an experience fiche (accents and case ignored) -> card field
SECTION_LABELS: dict[str, str] = {
    "territoire": "territory",
    "territoire concerne": "territory",
    "porteur du projet": "lead",
    "porteur de projet": "lead",
    "porteur": "lead",
    "structure porteuse": "lead",
    "partenaires": "partners",
    "partenariats": "partners",
    "partenaires mobilises": "partners",
    "public cible": "public",
    "publics cibles": "public",
    "public vise": "public",
    "actions menees": "actions",
    "actions": "actions",
    "budget et financements": "funding",
    "budget et financement": "funding",
    "budget": "funding",
    "financements": "funding",
    "resultats": "results",
    "resultats obtenus": "results",
    "periode": "period",
    "calendrier": "period",
    "contact": "contact",
    "contacts": "contact",
}
_LABELS_LONGEST_FIRST = sorted(SECTION_LABELS, key=len, reverse=True)
_PAGE_FOOTER = re.compile(r"(?:\s*Page \d+ / \d+)+\s*$")
_BULLET = re.compile(r"^(?:[-*•–]\s+)")
_INLINE_BULLET = re.compile(r"\s+-\s+(?=\S)")


@dataclass(frozen=True)
class FicheSection:
    """A heading and its body; ``key`` is the card field it feeds (None for another heading)."""

    key: str | None
    heading: Span
    body: Span


def fold(text: str) -> str:
    """Lower case without accents, one character for one (offsets stay valid)."""
    return "".join(unicodedata.normalize("NFKD", c)[0].lower() if c.isalpha() else c.lower() for c in text)


def _label(text: str) -> str:
    return re.sub(r"\s+", " ", fold(text).strip().rstrip(":").strip())


def blocks(text: str, offset: int = 0) -> list[Span]:
    """Paragraph blocks (separated by blank lines), stripped, with offsets."""
    found = []
    for match in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]*)*", text):
        piece = match.group(0)
        stripped = piece.strip()
        if stripped:
            start = match.start() + len(piece) - len(piece.lstrip())
            found.append(Span(offset + start, offset + start + len(stripped), stripped))
    return found


def _heading(block: Span, hints: set[str]) -> tuple[str | None, int] | None:
    """(field key or None, heading length) when ``block`` is or opens with a heading."""
    # labels are short: fold only what can be one (a long paragraph costs nothing to look at)
    label = _label(block.text) if len(block.text) <= 80 else ""
    if label in SECTION_LABELS:
        return SECTION_LABELS[label], len(block.text)
    if block.text in hints and len(block.text) <= 120 and "\n" not in block.text:
        return None, len(block.text)
    folded = fold(block.text[:40])
    for candidate in _LABELS_LONGEST_FIRST:
        n = len(candidate)
        rest = block.text[n : n + 2]
        if (
            folded.startswith(candidate)
            and len(rest) == 2
            and rest[0] == " "
            and (rest[1].isupper() or rest[1] in "-«")
        ):
            return SECTION_LABELS[candidate], n
    return None


def find_sections(text: str, headings: Iterable[str] = ()) -> list[FicheSection]:
    """The headed sections of ``text``; ``headings`` are the chunker's heading paths (better boundaries)."""
    hints = {h.strip() for h in headings if h.strip()}
    found: list[tuple[str | None, Span, int]] = []  # key, heading span, where its body starts
    for block in blocks(text):
        heading = _heading(block, hints)
        if heading is not None:
            key, length = heading
            span = Span(block.start, block.start + length, block.text[:length])
            found.append((key, span, block.start + length))
    sections = []
    for i, (key, span, body_start) in enumerate(found):
        body_end = found[i + 1][1].start if i + 1 < len(found) else len(text)
        raw = text[body_start:body_end]
        raw = _PAGE_FOOTER.sub("", raw)
        lead = len(raw) - len(raw.lstrip())
        body = raw.strip()
        sections.append(FicheSection(key, span, Span(body_start + lead, body_start + lead + len(body), body)))
    return sections


def preamble(text: str, sections: list[FicheSection]) -> list[Span]:
    """Blocks before the first fiche section (disclaimer, title, introduction), headings left out."""
    end = next((s.heading.start for s in sections if s.key), len(text))
    headings = {s.heading.start for s in sections}
    return [b for b in blocks(text[:end]) if b.start not in headings]


@dataclass(frozen=True)
class Item:
    span: Span
    bullet: bool


def _trim(text: str, start: int) -> Span | None:
    """Strip a list item's bullet, trailing ';' / ',' and page footer; None when nothing is left."""
    cleaned = _PAGE_FOOTER.sub("", text)
    lead_match = _BULLET.match(cleaned)
    lead = lead_match.end() if lead_match else 0
    core = cleaned[lead:].rstrip().rstrip(";,").rstrip()
    stripped = core.strip()
    if not stripped:
        return None
    first = start + lead + (len(core) - len(core.lstrip()))
    return Span(first, first + len(stripped), stripped)


def split_items(body: Span) -> list[Item]:
    """List items (bulleted lines, inline " - " lists of PDFs) and plain paragraphs, in order."""
    items: list[Item] = []
    for block in blocks(body.text, body.start):
        inline = block.text.startswith("- ")
        for line in re.finditer(r"[^\n]+", block.text):
            line_start = block.start + line.start()
            bullet = bool(_BULLET.match(line.group(0)))
            pieces = [(line.group(0), line_start)]
            if inline and bullet:
                pieces, cursor = [], 0
                for sep in _INLINE_BULLET.finditer(line.group(0)):
                    pieces.append((line.group(0)[cursor : sep.start()], line_start + cursor))
                    cursor = sep.end()
                pieces.append((line.group(0)[cursor:], line_start + cursor))
            for piece, start in pieces:
                span = _trim(piece, start)
                if span is not None:
                    items.append(Item(span, bullet))
    return items


def sentences(span: Span) -> list[Span]:
    return split_sentences(span.text, span.start)


def display(text: str) -> str:
    """A quote made readable for a value: no Markdown emphasis, one line, no final period or semicolon."""
    text = re.sub(r"\*\*|__|(?<!\w)\*(?!\s)|(?<!\s)\*(?!\w)", "", text)
    text = " ".join(text.split())
    return text.rstrip(" ;,").removesuffix(".").rstrip() if not text.endswith("..") else text
