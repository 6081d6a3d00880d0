"""Reading units of a document (pure): whole sentences, list items and table rows, with their section.

An answer quotes units, never fragments: a passage whose chunk border cuts a sentence is widened to
the sentence's start and end in the document text (offsets are known). A unit keeps the heading of
its section (« Budget et financements », « Étape 2 — … ») and the card field that heading feeds, so
the composer can take the funders from the funding section and the steps from a guide's list.
Header and metadata lines (``TITLE: …``, ``SOURCE: https://…``, front matter, navigation), headings,
instruction-like sentences planted in a document and very short fragments are never units.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from assistant.experiences.sections import find_sections
from assistant.sentences import split_sentences
from assistant.types import Passage, Span

_METADATA = re.compile(
    r"^\s*(---+|\+\+\++|#{1,6}\s.*|[A-Z][A-Z_]{2,24}:(\s.*)?|"
    r"(title|source|url|date|author|auteur|organisation|type|territory|region|themes|fictional|lang):\s.*|"
    r"(vous [êe]tes ici|accueil\s*[>›»/]|menu|partager|imprimer|retour (en haut|à la liste)|"
    r"télécharger le document|lire le document|consulter (le|l['’])\w*).*)$",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^(?:[-*•–▪◦]|\d{1,2}[.)])\s+")

# instructions planted in a document are data, never an answer (French and English)
_INSTRUCTION = re.compile(
    r"\b(ignore[rz]?|oublie[rz]?|n['’]?(en )?tiens? (pas|plus) compte)\b.{0,40}"
    r"\b(consignes?|instructions?|r[èe]gles?|ce qui (pr[ée]c[èe]de|est au-dessus)|tout|pr[ée]c[ée]dent)|"
    r"\boublie tout\b|\b(nouvelles?|autres?) (consignes?|instructions?|r[èe]gles?)\b|\bnouvelle r[èe]gle\b|"
    r"\btu es (d[ée]sormais|maintenant|à pr[ée]sent)\b|\bvous [êe]tes (d[ée]sormais|maintenant)\b|"
    r"\br[ée]ponds?\b.{0,30}\b(uniquement|seulement|toujours)\b|\br[ée]ponds? [«\"“]?[A-ZÉ]{4,}|"
    r"\b(system|syst[èe]me) prompt\b|\binvite (syst[èe]me|initiale)\b|\bprompt (syst[èe]me|initial)\b|"
    r"\bignore (all|any|the|previous|prior|above)\b|\b(previous|prior|above) instructions\b|"
    r"\byou are now\b|\bdisregard\b|\bnew instructions?\b|\bact as\b|\bjailbreak\b|"
    r"\b(en tant qu['’]|agis comme|fais comme si tu)\b.{0,30}\b(ia|assistant|mod[èe]le)\b|"
    r"\b(affiche|r[ée]v[èe]le|donne)[- ](moi )?(tes|les) (consignes|instructions)\b",
    re.IGNORECASE,
)
_MARKER_IN_TEXT = re.compile(r"\[(\d{1,4})\]")


def is_instruction_like(text: str) -> bool:
    """A sentence that gives orders to an assistant (« Oublie tout ce qui précède… », « ignore previous instructions »)."""
    return bool(_INSTRUCTION.search(text))


def is_metadata_line(text: str) -> bool:
    """A file header, front-matter or navigation line, or a Markdown heading: never quoted, never a title."""
    return bool(_METADATA.match(text.strip().splitlines()[0] if text.strip() else ""))


def neutralise_markers(text: str) -> str:
    """``[7]`` written in a document becomes ``［7］`` so that it can never read as a link to a source."""
    return _MARKER_IN_TEXT.sub(lambda m: f"［{m.group(1)}］", text)


@dataclass(frozen=True)
class Unit:
    """A whole sentence, list item or table row: ``document text[span.start:span.end] == span.text``."""

    span: Span
    kind: str  # "sentence" | "item" | "row" | "heading"
    section: str | None = None  # card field of its section: "funding", "partners", "actions", "results"…
    heading: str = ""  # the heading of its section, as written


def document_units(text: str, headings: Sequence[str] = ()) -> list[Unit]:
    """Every reading unit of a document, in order, with its section; headings and metadata left out."""
    sections = find_sections(text, (*headings, *heading_like_blocks(text)))
    heading_starts = {s.heading.start for s in sections}
    units: list[Unit] = []
    position = 0
    for span in split_sentences(text):
        while position < len(sections) and sections[position].heading.end <= span.start:
            position += 1
        section = sections[position - 1] if position else None
        if span.start in heading_starts:
            heading = next(s for s in sections if s.heading.start == span.start)
            units.append(Unit(Span(span.start, heading.heading.end, heading.heading.text), "heading", heading.key))
            continue
        if is_metadata_line(span.text):
            continue
        line_start = text.rfind("\n", 0, span.start) + 1
        bullet = _BULLET.match(span.text)
        kind = "item" if bullet or _BULLET.match(text[line_start : span.end]) else "sentence"
        if span.text.startswith("|"):
            kind = "row"
        if bullet:
            span = Span(span.start + bullet.end(), span.end, span.text[bullet.end() :])
        units.append(Unit(span, kind, section.key if section else None, section.heading.text if section else ""))
    return units


_BLOCK = re.compile(r"(?:^|\n\n)([^\n]+)(?=\n\n)")


def heading_like_blocks(text: str) -> list[str]:
    """One-line blocks that read as headings (short, no closing punctuation): registry texts keep a
    heading as a block of its own, but the chunker's heading paths are not always at hand."""
    found = []
    for match in _BLOCK.finditer(text):
        line = match.group(1).strip()
        if 3 <= len(line) <= 110 and not line.endswith((".", ";", ",", ":", "…", "*")) and not _BULLET.match(line):
            found.append(line)
    return found


def whole_bounds(units: Sequence[Unit], start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` widened so that no unit is cut: to the start of the unit it begins in, the end of
    the unit it ends in."""
    for unit in units:
        if unit.span.start < start < unit.span.end:
            start = unit.span.start
        if unit.span.start < end < unit.span.end:
            end = unit.span.end
    return start, end


def widen_passage(passage: Passage, document: str, units: Sequence[Unit]) -> Passage:
    """The passage, widened so that its first and last sentences are whole (text from the document)."""
    start, end = whole_bounds(units, passage.start, passage.end)
    if (start, end) == (passage.start, passage.end) or document[passage.start : passage.end] != passage.text:
        return passage
    return replace(passage, text=document[start:end], start=start, end=end)


def units_in(passage: Passage, units: Sequence[Unit]) -> list[Unit]:
    """The units lying wholly inside the passage."""
    return [u for u in units if passage.start <= u.span.start and u.span.end <= passage.end]


def passage_units(passage: Passage) -> list[Unit]:
    """The units of a passage read on its own (offsets in the document), when its document is not at hand."""
    units = document_units(passage.text)
    return [replace(u, span=Span(u.span.start + passage.start, u.span.end + passage.start, u.span.text)) for u in units]
