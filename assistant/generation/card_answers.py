"""Answers from experience cards (pure): one block per experience, and the funders or partners of one."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.citations import Claim, Idf
from assistant.experiences.records import ExperienceCard, FieldValue
from assistant.generation.howto import list_siblings
from assistant.generation.parts import (
    Candidate,
    Label,
    Part,
    claim,
    clean_label,
    coverage,
    line_tails,
    title_line,
    title_of,
)
from assistant.generation.question import QuestionAnalysis
from assistant.generation.units import neutralise_markers
from assistant.retrieval.french import analyze
from assistant.types import Passage, Span


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
            parts.append(Label(f"{lead} indiqués dans « {clean_label(card.title)} » :", strong=True))
            parts += [Claim(neutralise_markers(v.evidence.quote), number, _span(v)) for v in cited[:10]]
    return parts


def compose_precedents(
    analysis: QuestionAnalysis,
    cards: Sequence[tuple[int, ExperienceCard]],
    idf: Idf,
    ranked: Sequence[tuple[float, Candidate]] = (),
    passages: Sequence[Passage] = (),
    pool: Sequence[Candidate] = (),
) -> list[Part]:
    """One block per experience, the most relevant documents first (at most three): an experience fiche
    gives its card (where, what was done, who led it, with whom, what came of it); another document
    (a meeting report, a dossier) gives its three best units."""
    order: list[str] = []
    best_of: dict[str, tuple[float, Candidate]] = {}
    for value, candidate in ranked:
        if candidate.doc_id not in best_of:
            best_of[candidate.doc_id] = (value, candidate)
            order.append(candidate.doc_id)
    top = ranked[0][0] if ranked else 0.0
    card_of = {card.doc_id: (number, card) for number, card in cards}
    # an experience fiche close to the best; another document only when it answers nearly as well
    chosen = [d for d in order if best_of[d][0] >= (0.6 if d in card_of else 0.7) * top][:3]
    chosen = chosen or [card.doc_id for _, card in cards[:3]]
    parts: list[Part] = []
    for doc in chosen:
        if doc in card_of:
            parts += _card_block(analysis, *card_of[doc], idf)
            continue
        units = sorted((c for v, c in ranked if c.doc_id == doc), key=lambda c: -_value(ranked, c))[:3]
        if not units:
            continue
        parts.append(Label(f"D'après « {title_of(passages, units[0].passage)} » :", strong=True))
        # the best unit with the line that names its experience and the short tail of its own line
        # (« … Exemples de Rennes et Limoux (groupe d'échanges du 9 novembre 2018) »)
        head = title_line(units[0], pool)
        more = [head, *line_tails(units[:1], pool), *(f for u in units for f in figures_after(u, pool, passages))]
        # a chosen item brings the rest of its short list: the components of what was done
        more += list_siblings(units, [c for c in pool if c.doc_id == doc])
        units += [c for c in more if c is not None]
        # one claim per sentence: the same sentence may come from a retrieved passage and from its document
        once = {c.unit.span.start: c for c in reversed(units)}
        parts += [claim(c) for c in sorted(once.values(), key=lambda c: c.unit.span.start)]
    return parts


_FIGURE = re.compile(r"\d")


def figures_after(
    unit: Candidate, pool: Sequence[Candidate], passages: Sequence[Passage], most: int = 2
) -> list[Candidate]:
    """The sentences that go on in the paragraph of an experience's best unit and give figures: what came of
    it (« La responsable de l'école a présenté sa formation… Trois promotions ont été formées depuis 2022,
    soit 54 apprenants… Six mois après, 70 % étaient en emploi »)."""
    passage = next((p for p in passages if p.number == unit.passage), None)
    if passage is None:
        return []
    following = sorted(
        (c for c in pool if c.passage == unit.passage and c.unit.span.start >= unit.unit.span.end),
        key=lambda c: c.unit.span.start,
    )
    found: list[Candidate] = []
    end = unit.unit.span.end
    for candidate in following:
        between = passage.text[end - passage.start : candidate.unit.span.start - passage.start]
        # the paragraph ends at a line break
        if len(found) >= most or between.strip() or "\n" in between or candidate.unit.kind != "sentence":
            break
        if _FIGURE.search(candidate.unit.span.text):
            found.append(candidate)
        end = candidate.unit.span.end
    return found


def _value(ranked: Sequence[tuple[float, Candidate]], candidate: Candidate) -> float:
    return next(v for v, c in ranked if c is candidate)


def _card_block(analysis: QuestionAnalysis, number: int, card: ExperienceCard, idf: Idf) -> list[Part]:
    """Where, what was done, who led it, with whom (and who funded it, when asked), what came of it."""
    parts: list[Part] = []

    def relevant(values: Sequence[FieldValue], count: int) -> list[FieldValue]:
        """The ``count`` values that cover most of the question, in document order."""
        best = sorted(values, key=lambda v: -coverage(analysis, frozenset(analyze(v.value)), idf))[:count]
        return [v for v in values if v in best]

    wanted = {analysis.kind} | set(analysis.also)
    place = _place(card)
    title = f"« {clean_label(card.title)} »"
    parts.append(Label(f"{place} — {title} :" if place else f"{title} :", strong=True))
    fields: list[tuple[str, Sequence[FieldValue]]] = [
        ("Ce qui a été fait", [card.summary] if card.summary else []),
        ("Actions", relevant(card.actions, 5)),
        ("Porteur", [card.lead] if card.lead else []),
        ("Partenaires", card.partners[:6]),
        ("Financeurs", card.funders[:6] if "funding" in wanted else ()),
        ("Budget", [card.budget] if card.budget and "funding" in wanted else []),
        ("Résultats", [*card.results[:1], *relevant(card.results[1:], 2)]),
    ]
    for label, values in fields:
        cited = [v for v in values if v.evidence is not None]
        if cited:
            parts.append(Label(f"{label} :"))
            parts += [Claim(neutralise_markers(v.evidence.quote), number, _span(v)) for v in cited]
    return parts


def _span(value: FieldValue) -> Span:
    assert value.evidence is not None
    return Span(value.evidence.start, value.evidence.end, value.evidence.quote)


def _place(card: ExperienceCard) -> str:
    t = card.territory
    for value in (t.commune, t.intercommunality):
        if value is not None:
            return clean_label(value.value)
    return ""
