"""French sentence splitting with offsets (pure)."""

from __future__ import annotations

import re

from assistant.types import Span

# A period after these is not a sentence end ("M. Dupont", "art. 3", "cf. annexe").
_ABBREVIATIONS = {
    "m",
    "mm",
    "mme",
    "mmes",
    "mlle",
    "dr",
    "pr",
    "st",
    "ste",
    "art",
    "p",
    "pp",
    "cf",
    "vol",
    "éd",
    "ex",
    "av",
    "bd",
    "n",
    "no",
    "env",
    "hab",
    "etc",
}
_BOUNDARY = re.compile(r"(?<=[.!?…])[»”\"')\]]*\s+(?=[«“\"'(\[A-ZÀ-ÖØ-Þ0-9•–-])|\n+")
_WORD_BEFORE = re.compile(r"(\w+)\.$")


def split_sentences(text: str, offset: int = 0) -> list[Span]:
    """Sentences (and list items, one per line) with offsets into the enclosing text: ``text[start-offset:end-offset]``."""
    spans: list[Span] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        candidate = text[start : match.start()].rstrip()
        if match.group(0).strip() == "" and "\n" not in match.group(0):
            word = _WORD_BEFORE.search(candidate)
            if word and word.group(1).lower() in _ABBREVIATIONS and word.group(1).lower() != "etc":
                continue
        _append(spans, text, start, match.start(), offset)
        start = match.end()
    _append(spans, text, start, len(text), offset)
    return spans


def _append(spans: list[Span], text: str, start: int, end: int, offset: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    begin = start + lead
    spans.append(Span(begin + offset, begin + len(stripped) + offset, stripped))


def reads_as_statement(text: str) -> bool:
    """Headings, questions and contact lines are not statements: a sentence that says something ends
    like one, or is long enough to be more than a title or a list label."""
    stripped = text.rstrip(" »\"')")
    if stripped.endswith("?"):
        return False
    if not stripped.endswith((".", "!", "…", ":", ";")) and len(stripped.split()) < 14:
        return False  # a title or a list label
    return "(fictif)." not in stripped[-12:] or len(stripped.split()) > 14
