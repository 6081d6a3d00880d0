"""The pieces an answer is made of (pure): candidate units of the retrieved passages, template labels,
claims, and how the answer text is written from them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from assistant.citations import Claim, Idf
from assistant.generation.question import QuestionAnalysis, covered
from assistant.generation.units import Unit, is_instruction_like, neutralise_markers
from assistant.retrieval.french import analyze
from assistant.types import Passage

_ANAPHORIC = re.compile(
    r"^(il|elle|ils|elles|ce|cet|cette|ces|celui-ci|celle-ci|cela|son|sa|ses|leur|leurs|on y|y)\b", re.I
)
# « Le budget de l'opération s'élevait à… », « Le dispositif a accueilli… »: a generic noun, early in the
# sentence and neither named nor completed (« le projet de rénovation… », « le dispositif Ville Vie
# Vacances »), refers to the thing the sentence before presented
_GENERIC_REFERENCE = re.compile(
    r"^(?:[\w'’,-]+\s+){0,3}?(?i:l['’]|le |la |les |du |des )"
    r"(?i:op[ée]ration|dispositif|projet|action|d[ée]marche|programme|exp[ée]rimentation|initiative|structure)s?\b"
    r"(?!\s+(?:de|d['’]|du|des)\b)(?!\s+[A-ZÉÈ])"
)


def continues(text: str) -> bool:
    """Whether a sentence continues the one before it (a pronoun, a generic noun referring back)."""
    return bool(_ANAPHORIC.match(text) or _GENERIC_REFERENCE.match(text))


@dataclass(frozen=True)
class Label:
    """A template phrase of the composer (French): shown as a line of its own, never a claim; ``strong``
    heads a block (an experience, a document) and is shown in bold."""

    text: str
    strong: bool = False


@dataclass(frozen=True)
class Candidate:
    """A unit of a retrieved passage; ``rank`` 0 is the best passage."""

    passage: int
    rank: int
    doc_id: str
    unit: Unit
    words: frozenset[str]
    context: frozenset[str] = frozenset()  # words of the document title, the section heading, a row's header row


Part = Label | Claim


def candidates(passages: Sequence[Passage], units: dict[int, list[Unit]]) -> list[Candidate]:
    """The units of each passage (``units``: passage number -> its units), instruction-like ones left out;
    a unit shown in two passages of one document counts once, in the better-ranked passage."""
    found = []
    seen: set[tuple[str, int]] = set()
    borrowed = _borrowed_words(passages, units)
    for rank, passage in enumerate(passages):
        title = _words(str(passage.chunk.metadata.get("title", "")))
        header: frozenset[str] = frozenset()  # the first row of the table being read: its column names
        last_kind = ""
        for unit in units.get(passage.number, []):
            words = borrowed[(passage.chunk.doc_id, unit.span.start)]
            first_row = unit.kind == "row" and last_kind != "row"
            header, last_kind = (words if first_row else header), unit.kind
            if is_instruction_like(unit.span.text) or (passage.chunk.doc_id, unit.span.start) in seen:
                continue
            seen.add((passage.chunk.doc_id, unit.span.start))
            # a table row (« | Champ-Fleury | 1 105 | 24 % | ») says what its figures are through its header row
            # (the first row is the header itself: a row lying under it alone would otherwise read as a heading)
            context = title | _words(unit.heading) | (header if unit.kind == "row" and not first_row else frozenset())
            found.append(Candidate(passage.number, rank, passage.chunk.doc_id, unit, words, context))
    return found


def _borrowed_words(passages: Sequence[Passage], units: dict[int, list[Unit]]) -> dict[tuple[str, int], frozenset[str]]:
    """The words of each unit, by (document, start): « Il s'est construit sur… » continues the sentence just
    before it and borrows its words, and so on down the chain (« Le rapport de X… Ce travail a réuni… Il
    s'est construit… »), read in document order over every passage so that a chunk border between two
    sentences breaks no chain."""
    by_document: dict[str, dict[int, Unit]] = {}
    for passage in passages:
        for unit in units.get(passage.number, []):
            by_document.setdefault(passage.chunk.doc_id, {})[unit.span.start] = unit
    words: dict[tuple[str, int], frozenset[str]] = {}
    for doc, read in by_document.items():
        previous: Unit | None = None
        for start in sorted(read):
            unit = read[start]
            own = _words(unit.span.text)
            follows = previous is not None and unit.span.start - previous.span.end <= 3
            if follows and continues(unit.span.text):
                own = own | words[(doc, previous.span.start)]
            words[(doc, start)] = own
            previous = unit
    return words


@lru_cache(maxsize=65536)
def _words(text: str) -> frozenset[str]:
    return frozenset(analyze(text))


def coverage(analysis: QuestionAnalysis, words: frozenset[str], idf: Idf) -> float:
    """Share of the question's focus (idf-weighted) that ``words`` cover."""
    total = sum(idf(t.word) for t in analysis.focus)
    return sum(idf(t.word) for t in analysis.focus if covered(t, words)) / total if total else 0.0


def _text(candidate: Candidate) -> str:
    return neutralise_markers(candidate.unit.span.text)


def claim(candidate: Candidate) -> Claim:
    return Claim(_text(candidate), candidate.passage, candidate.unit.span)


def clean_label(text: str) -> str:
    """A document value used inside a template phrase: one line, no Markdown or HTML markup, no file
    header key (« TITLE: »)."""
    text = re.sub(r"^\s*(TITLE|SOURCE|URL|TITRE)\s*:\s*", "", text, flags=re.IGNORECASE)
    return " ".join(re.sub(r"[*_`<>\[\]#|]", "", text).split())[:160]


def title_of(passages: Sequence[Passage], number: int) -> str:
    passage = next((p for p in passages if p.number == number), None)
    return clean_label(str(passage.chunk.metadata.get("title", ""))) if passage else ""


def type_of(passages: Sequence[Passage], number: int) -> str:
    passage = next((p for p in passages if p.number == number), None)
    return str(passage.chunk.metadata.get("type", "")).lower() if passage else ""


def render_parts(parts: Sequence[Part], passages: Sequence[Passage]) -> tuple[str, list[Claim]]:
    """The answer text (labels on lines of their own, claims followed by ``[n]``) and its claims, in order.

    Sources are numbered by first citation, as ``citations.render`` numbers them, so the citations it
    returns for the same claims match the markers written here. Claims after a label ending with « : »
    read as a list, one per line.
    """
    claims = [p for p in parts if isinstance(p, Claim)]
    order: list[int] = []
    for c in claims:
        if c.passage is not None and c.passage not in order:
            order.append(c.passage)
    renumber = {old: new for new, old in enumerate(order, 1)}
    lines: list[str] = []
    listing = False
    for part in parts:
        if isinstance(part, Label):
            if lines and lines[-1].startswith("- "):
                lines.append("")  # Markdown: a line right after a list item would continue the item
            lines.append(f"**{part.text}**" if part.strong else part.text)
            listing = part.text.endswith(":")
            continue
        text = " ".join(part.text.split())
        marked = f"{text} [{renumber[part.passage]}]" if part.passage is not None else text
        if listing:
            lines.append(f"- {marked}")
        elif lines and not lines[-1].endswith(":") and not lines[-1].startswith("- "):
            lines[-1] += " " + marked
        else:
            lines.append(marked)
    return "\n".join(lines), claims


def line_tails(chosen: Sequence[Candidate], pool: Sequence[Candidate]) -> list[Candidate]:
    """The short unit that follows a chosen one on the same line of the same passage."""
    tails = []
    taken = {(c.passage, c.unit.span.start) for c in chosen}
    for candidate in chosen:
        following = [c for c in pool if c.passage == candidate.passage and c.unit.span.start > candidate.unit.span.end]
        if not following:
            continue
        after = min(following, key=lambda c: c.unit.span.start)
        if (
            (after.passage, after.unit.span.start) not in taken
            and after.unit.span.start - candidate.unit.span.end <= 2
            and after.unit.kind == "sentence"
            and 2 <= len(after.unit.span.text.split()) <= 14  # a bare « 3. » numbers the next item
        ):
            tails.append(after)
            taken.add((after.passage, after.unit.span.start))
    return tails


def title_line(candidate: Candidate, pool: Sequence[Candidate]) -> Candidate | None:
    """The short line just before a unit that names what it is about (« POP-UP dev éco le 16 octobre à la
    Plaine Images, Tourcoing, » before « Stands, débats… »): a title line, no sentence of its own."""
    before = [c for c in pool if c.passage == candidate.passage and c.unit.span.end <= candidate.unit.span.start]
    if not before:
        return None
    previous = max(before, key=lambda c: c.unit.span.end)
    text = previous.unit.span.text.rstrip()
    if (
        candidate.unit.span.start - previous.unit.span.end > 3
        or len(text.split()) > 20
        or text.endswith((".", "!", "?", ":", ";"))
        or _SECTION_HEADING.match(text)
    ):
        return None
    return previous


# a section's generic heading names no experience (« Introduction : des chiffres et une question »)
_SECTION_HEADING = re.compile(
    r"^(introduction|contexte|conclusion|synth[èe]se|sommaire|pr[ée]sentation|programme|ordre du jour)\b", re.I
)


def unnamed_areas(analysis: QuestionAnalysis, pool: Sequence[Candidate]) -> list[str]:
    """The regions or départements the question names (« dans le Nord ») that no unit of the material names."""
    words = frozenset().union(*(c.words | c.context for c in pool)) if pool else frozenset()
    return [area for area in analysis.areas if not set(analyze(area)) <= words]


def antecedents(candidate: Candidate, pool: Sequence[Candidate], most: int = 2) -> list[Candidate]:
    """The units a sentence continues (« Ce travail a réuni… Il s'est construit sur… » after « Le rapport
    de X… »), nearest last, in document order: quoted alone, « Il » says nothing of what it is."""
    found: list[Candidate] = []
    current = candidate
    while len(found) < most and continues(current.unit.span.text):
        before = [
            c
            for c in pool
            if c.doc_id == current.doc_id
            and c.unit.span.end <= current.unit.span.start
            and current.unit.span.start - c.unit.span.end <= 3
        ]
        if not before:
            break
        current = max(before, key=lambda c: c.unit.span.end)
        found.insert(0, current)
    return found
