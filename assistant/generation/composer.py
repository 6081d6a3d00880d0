"""The offline answer, composed by question kind (pure).

Every claim is a whole unit (sentence, list item, table row, heading) of a retrieved passage, quoted
exactly; the composer adds only short template phrases (« D'après le guide « … » : »), which are
labels, never claims, and the glossary's definition, labelled as the glossary's.

- fact: the unit that carries the asked detail (amount, date, count…) and covers the focus, then at
  most two units that add what the first leaves out;
- funding / partners: the items of the sections that state them (« Budget et financements »,
  « Partenaires »), whole;
- precedent: one block per experience card (territory, what was done, lead, partners, results);
- how-to: steps and levers (headings of steps, list items, action sentences) gathered across
  documents, grouped by document, saying which are guides and which experiences;
- definition: the glossary's definition, then the corpus sentence that best defines the term.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from assistant.citations import Claim, Idf
from assistant.experiences.records import ExperienceCard, FieldValue
from assistant.generation.question import QuestionAnalysis, covered
from assistant.generation.refusal import contains_kind
from assistant.generation.units import Unit, is_instruction_like, neutralise_markers
from assistant.retrieval.french import analyze
from assistant.types import Passage


@dataclass(frozen=True)
class Label:
    """A template phrase of the composer (French): shown as a line of its own, never a claim."""

    text: str


@dataclass(frozen=True)
class Candidate:
    """A unit of a retrieved passage; ``rank`` 0 is the best passage."""

    passage: int
    rank: int
    doc_id: str
    unit: Unit
    words: frozenset[str]
    context: frozenset[str] = frozenset()  # words of the document's title and of the unit's section heading


Part = Label | Claim


def candidates(passages: Sequence[Passage], units: dict[int, list[Unit]]) -> list[Candidate]:
    """The units of each passage (``units``: passage number -> its units), instruction-like ones left out."""
    found = []
    for rank, passage in enumerate(passages):
        title = _words(str(passage.chunk.metadata.get("title", "")))
        previous: frozenset[str] = frozenset()
        for unit in units.get(passage.number, []):
            words = _words(unit.span.text)
            # « Il s'est construit sur… » continues the sentence before it: it borrows its words
            words, previous = (words | previous if _ANAPHORIC.match(unit.span.text) else words), words
            if is_instruction_like(unit.span.text):
                continue
            context = title | _words(unit.heading)
            found.append(Candidate(passage.number, rank, passage.chunk.doc_id, unit, words, context))
    return found


@lru_cache(maxsize=65536)
def _words(text: str) -> frozenset[str]:
    return frozenset(analyze(text))


def coverage(analysis: QuestionAnalysis, words: frozenset[str], idf: Idf) -> float:
    """Share of the question's focus (idf-weighted) that ``words`` cover."""
    total = sum(idf(t.word) for t in analysis.focus)
    return sum(idf(t.word) for t in analysis.focus if covered(t, words)) / total if total else 0.0


_ANAPHORIC = re.compile(
    r"^(il|elle|ils|elles|ce|cet|cette|ces|celui-ci|celle-ci|cela|son|sa|ses|leur|leurs|on y|y)\b", re.I
)
_ACTION_START = re.compile(r"^[A-ZÉÀ][a-zéèêàâîôûç]+(er|ir|re)\b")
_DEFINING = re.compile(r"\b(est|sont) (un|une|des|le|la|les)\b|\bd[ée]signe\b|\bconsiste\b|\bvise\b|\bpermet\b", re.I)
_STEP = re.compile(r"^(é|e)tape|^\d+[.)]|^levier|^phase|^pr[ée]requis|^question \d|^conseil", re.I)


def score(analysis: QuestionAnalysis, candidate: Candidate, idf: Idf) -> float:
    """How well one unit answers the question, for its kind."""
    unit = candidate.unit
    own = coverage(analysis, candidate.words, idf)
    value = 0.7 * own + 0.3 * coverage(analysis, candidate.words | candidate.context, idf) + 0.15 / (candidate.rank + 1)
    words = len(unit.span.text.split())
    if unit.kind == "heading" and (analysis.kind != "howto" or not _STEP.search(unit.span.text)):
        return -1.0
    if unit.span.text.rstrip(" »\"')").endswith("?"):
        return -1.0  # a question is never an answer
    if words < 3 or (unit.kind == "sentence" and words < 5):
        return -1.0
    if words > 60:
        value -= 0.1
    if analysis.detail and analysis.detail != "name" and contains_kind(unit.span.text, _pattern(analysis.detail)):
        value += 0.3
    wanted = {analysis.kind} | set(analysis.also)
    if analysis.detail == "amount":
        wanted.add("funding")
    if unit.section == "funding" and "funding" in wanted:
        value += 0.5
    if unit.section == "partners" and "partners" in wanted:
        value += 0.5
    if analysis.kind == "howto":
        if unit.kind in ("item", "heading") or _ACTION_START.match(unit.span.text):
            value += 0.2
        if unit.section is None and not unit.heading:
            value -= 0.1  # an introduction describes, a step or a lever acts
        if unit.kind == "heading" and _STEP.search(unit.span.text):
            value += 0.2
    if analysis.kind == "definition" and _DEFINING.search(unit.span.text):
        value += 0.2
    return value


def _pattern(detail: str) -> str:
    return {"amount": "amount", "date": "date", "count": "count", "figure": "rate", "funding": "funding"}[detail]


def _text(candidate: Candidate) -> str:
    return neutralise_markers(candidate.unit.span.text)


def claim(candidate: Candidate) -> Claim:
    return Claim(_text(candidate), candidate.passage, candidate.unit.span)


def compose(
    analysis: QuestionAnalysis,
    pool: Sequence[Candidate],
    idf: Idf,
    *,
    passages: Sequence[Passage] = (),
    cards: Sequence[tuple[int, ExperienceCard]] = (),
    definition: str | None = None,
    documents: dict[str, list[Candidate]] | None = None,
) -> list[Part]:
    """The answer's parts for the question's kind; empty when nothing fits.

    ``cards``: (passage number, card) of the experiences among the passages, best first;
    ``definition``: the glossary's definition of the term asked about, if any.
    """
    ranked = sorted(((score(analysis, c, idf), c) for c in pool), key=lambda sc: (-sc[0], sc[1].rank))
    ranked = [(s, c) for s, c in ranked if s > 0]
    documents = documents or {}
    if analysis.kind == "precedent" and cards:
        parts = compose_precedents(analysis, cards, idf)
        if parts:
            return parts
    if analysis.kind in ("funding", "partners"):
        parts = compose_section(analysis, ranked, passages) or compose_card_field(analysis, cards)
        if parts:
            return parts
    if analysis.kind == "howto":
        return compose_howto(analysis, ranked, passages, documents, idf)
    parts: list[Part] = []
    if analysis.kind == "definition" and definition:
        parts += [Label(f"Selon le glossaire de l'assistant : {definition}"), Label("Dans les documents :")]
    precise = analysis.kind == "fact" and analysis.detail not in (None, "name")
    limit = 3 if precise else {"definition": 2, "list": 6, "comparison": 5}.get(analysis.kind, 4)
    return parts + [claim(c) for c in _complementary(analysis, ranked, idf, limit, pool)]


def _complementary(
    analysis: QuestionAnalysis, ranked: list[tuple[float, Candidate]], idf: Idf, limit: int, pool: Sequence[Candidate]
) -> list[Candidate]:
    """The best unit, then others: for a precise fact (an amount, a date, a count, a figure), only units
    that give that kind of detail and add a focus word the chosen ones lack; otherwise any unit that is
    not redundant. A chosen unit keeps the short tail that ends its line (« Exemples de Rennes et
    Limoux (… 9 novembre 2018) »)."""
    if not ranked:
        return []
    precise = analysis.kind == "fact" and analysis.detail not in (None, "name")
    best_score = ranked[0][0]
    chosen: list[Candidate] = [ranked[0][1]]
    seen = set(ranked[0][1].words)
    for value, candidate in ranked[1:]:
        if len(chosen) >= limit or value < 0.45 * best_score:
            break
        adds = [t for t in analysis.focus if covered(t, candidate.words) and not covered(t, frozenset(seen))]
        redundant = len(candidate.words & seen) / max(1, len(candidate.words)) > 0.7
        if redundant or any(c.unit.span == candidate.unit.span for c in chosen):
            continue
        if precise and not (adds and contains_kind(candidate.unit.span.text, _pattern(analysis.detail or ""))):
            continue
        chosen.append(candidate)
        seen |= candidate.words
    chosen += _tails(chosen, pool)
    by_passage: dict[int, int] = {}
    for position, candidate in enumerate(chosen):
        by_passage.setdefault(candidate.passage, position)
    return sorted(chosen, key=lambda c: (by_passage[c.passage], c.unit.span.start))


def _tails(chosen: Sequence[Candidate], pool: Sequence[Candidate]) -> list[Candidate]:
    """The short unit that follows a chosen one on the same line of the same passage."""
    tails = []
    taken = {(c.passage, c.unit.span.start) for c in chosen}
    for candidate in chosen:
        following = [
            c
            for c in pool
            if c.passage == candidate.passage and c.unit.span.start > candidate.unit.span.end
        ]
        if not following:
            continue
        after = min(following, key=lambda c: c.unit.span.start)
        if (
            (after.passage, after.unit.span.start) not in taken
            and after.unit.span.start - candidate.unit.span.end <= 2
            and after.unit.kind == "sentence"
            and len(after.unit.span.text.split()) <= 14
        ):
            tails.append(after)
            taken.add((after.passage, after.unit.span.start))
    return tails


def compose_section(
    analysis: QuestionAnalysis, ranked: list[tuple[float, Candidate]], passages: Sequence[Passage]
) -> list[Part]:
    """The funding or partners section of the best document that has one, item by item."""
    key = analysis.kind
    best = next((c for _, c in ranked if c.unit.section == key), None)
    if best is None:
        return []
    same = [
        c
        for _, c in ranked
        if c.passage == best.passage and c.unit.section == key and c.unit.heading == best.unit.heading
    ]
    same.sort(key=lambda c: c.unit.span.start)
    title = _title(passages, best.passage)
    lead = "Financements" if key == "funding" else "Partenaires"
    return [Label(f"{lead} indiqués dans « {title} » :"), *(claim(c) for c in same[:10])]


def compose_card_field(analysis: QuestionAnalysis, cards: Sequence[tuple[int, ExperienceCard]]) -> list[Part]:
    """The funders (with the budget) or the partners of the experiences among the passages (at most two)."""
    parts: list[Part] = []
    for number, card in cards[:2]:
        if analysis.kind == "funding":
            values = ([card.budget] if card.budget else []) + list(card.funders)
            lead = "Financements"
        else:
            values, lead = list(card.partners), "Partenaires"
        cited = [v for v in values if v.evidence is not None]
        if cited:
            parts.append(Label(f"{lead} indiqués dans « {_clean(card.title)} » :"))
            parts += [Claim(neutralise_markers(v.evidence.quote), number, _span(v)) for v in cited[:10]]
    return parts


_ACTING = re.compile(
    r"^(se |s['’]|ne pas |ne jamais )?[A-ZÉÀa-zéèêàâîôûç]+(er|ir|re)\b|\b(doit|doivent|faut|fallait|permet|"
    r"recommand\w*|[ée]viter|veiller|privil[ée]gier|pr[ée]voir|associer|m[ée]thode la plus)\b",
    re.IGNORECASE,
)
# sections that describe a place or a record, not what to do
_NOT_ADVICE = frozenset({"territory", "contact", "partners", "funding", "period", "public", "lead"})


def document_candidates(passages: Sequence[Passage], units: dict[str, Sequence[Unit]]) -> dict[str, list[Candidate]]:
    """Every unit of each retrieved document, as candidates of the document's first passage."""
    found: dict[str, list[Candidate]] = {}
    for rank, passage in enumerate(passages):
        doc = passage.chunk.doc_id
        if doc in found or doc not in units:
            continue
        found[doc] = candidates([passage], {passage.number: list(units[doc])})
        found[doc] = [replace(c, rank=rank) for c in found[doc]]
    return found


def compose_howto(
    analysis: QuestionAnalysis,
    ranked: list[tuple[float, Candidate]],
    passages: Sequence[Passage],
    documents: dict[str, list[Candidate]],
    idf: Idf,
) -> list[Part]:
    """Steps and levers: the best unit of each section of the most relevant document (a guide's steps, a
    dossier's lessons), then the best levers of two other documents; grouped by document, guides first."""
    if not ranked:
        return []
    per_document: dict[str, list[float]] = {}
    for value, candidate in ranked:
        per_document.setdefault(candidate.doc_id, []).append(value)
    best_doc = max(per_document, key=lambda d: sum(sorted(per_document[d], reverse=True)[:3]))
    chosen = _advice(analysis, documents.get(best_doc) or [c for _, c in ranked if c.doc_id == best_doc], idf)
    floor = 0.6 * ranked[0][0]
    others: dict[str, int] = {}
    for value, candidate in ranked:
        if len(others) >= 2 and candidate.doc_id not in others or value < floor:
            continue
        if candidate.doc_id == best_doc or others.get(candidate.doc_id, 0) >= 1 or candidate.unit.kind == "heading":
            continue
        chosen.append(candidate)
        others[candidate.doc_id] = others.get(candidate.doc_id, 0) + 1
    order = {best_doc: -1, **{d: i for i, d in enumerate(others)}}
    guides = {c.doc_id for c in chosen if "guide" in _type(passages, c.passage)}
    chosen.sort(key=lambda c: (c.doc_id not in guides, order[c.doc_id], c.unit.span.start))
    parts: list[Part] = [Label("Plusieurs leviers ressortent des documents :")]
    current = None
    for candidate in chosen:
        if candidate.doc_id != current:
            current = candidate.doc_id
            kind = _type(passages, candidate.passage)
            source = "le guide" if "guide" in kind else ("l'expérience" if "expérience" in kind else "le document")
            parts.append(Label(f"D'après {source} « {_title(passages, candidate.passage)} » :"))
        parts.append(claim(candidate))
    return parts


def _advice(analysis: QuestionAnalysis, units: Sequence[Candidate], idf: Idf, limit: int = 6) -> list[Candidate]:
    """The best acting unit of each section of one document (the introduction aside), in document order."""
    sections: dict[str, list[Candidate]] = {}
    headed = [c for c in units if c.unit.heading]
    introduction = min(headed, key=lambda c: c.unit.span.start).unit.heading if headed else ""
    if _STEP.search(introduction):
        introduction = ""  # the document opens on its first step
    for candidate in units:
        unit = candidate.unit
        if unit.kind == "heading" or not unit.heading or unit.heading == introduction or unit.section in _NOT_ADVICE:
            continue
        if len(unit.span.text.split()) < 4 or unit.span.text.rstrip(" »").endswith(("?", ":")):
            continue
        sections.setdefault(unit.heading, []).append(candidate)

    def value(candidate: Candidate) -> float:
        acting = 0.3 if _ACTING.search(candidate.unit.span.text) else 0.0
        return (
            coverage(analysis, candidate.words | candidate.context, idf)
            + acting
            + 0.1 * (candidate.unit.kind == "item")
        )

    best = [max(found, key=value) for found in sections.values()]
    best = [c for c in best if value(c) >= 0.3]
    best = sorted(best, key=value, reverse=True)[:limit]
    return sorted(best, key=lambda c: c.unit.span.start)


def compose_precedents(analysis: QuestionAnalysis, cards: Sequence[tuple[int, ExperienceCard]], idf: Idf) -> list[Part]:
    """One block per experience: where, what was done, who led it, with whom, what came of it."""
    parts: list[Part] = []

    def relevant(values: Sequence[FieldValue], count: int) -> list[FieldValue]:
        """The ``count`` values that cover most of the question, in document order."""
        best = sorted(values, key=lambda v: -coverage(analysis, frozenset(analyze(v.value)), idf))[:count]
        return [v for v in values if v in best]

    wanted = {analysis.kind} | set(analysis.also)
    for number, card in cards[:3]:
        place = _place(card)
        parts.append(Label(f"{place} — « {_clean(card.title)} » :" if place else f"« {_clean(card.title)} » :"))
        fields: list[tuple[str, Sequence[FieldValue]]] = [
            ("Ce qui a été fait", [card.summary] if card.summary else []),
            ("Actions", relevant(card.actions, 2)),
            ("Porteur", [card.lead] if card.lead else []),
            ("Partenaires", card.partners[:6]),
            ("Financeurs", card.funders[:6] if "funding" in wanted else ()),
            ("Budget", [card.budget] if card.budget and "funding" in wanted else []),
            ("Résultats", relevant(card.results, 2)),
        ]
        for label, values in fields:
            cited = [v for v in values if v.evidence is not None]
            if cited:
                parts.append(Label(f"{label} :"))
                parts += [Claim(neutralise_markers(v.evidence.quote), number, _span(v)) for v in cited]
    return parts


def _span(value: FieldValue):  # noqa: ANN202 - a Span of the generation layer
    from assistant.generation.sentences import Span

    assert value.evidence is not None
    return Span(value.evidence.start, value.evidence.end, value.evidence.quote)


def _place(card: ExperienceCard) -> str:
    t = card.territory
    for value in (t.commune, t.intercommunality):
        if value is not None:
            return _clean(value.value)
    return ""


def _clean(text: str) -> str:
    """A document value used inside a template phrase: one line, no Markdown or HTML markup."""
    return " ".join(re.sub(r"[*_`<>\[\]#|]", "", text).split())[:160]


def _title(passages: Sequence[Passage], number: int) -> str:
    passage = next((p for p in passages if p.number == number), None)
    return _clean(str(passage.chunk.metadata.get("title", ""))) if passage else ""


def _type(passages: Sequence[Passage], number: int) -> str:
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
            lines.append(part.text)
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
