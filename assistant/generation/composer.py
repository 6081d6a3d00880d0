"""The offline answer, composed by question kind (pure).

Every claim is a whole unit (sentence, list item, table row, heading) of a retrieved passage, quoted
exactly; the composer adds only short template phrases (« D'après le guide « … » : »), which are
labels, never claims, and the glossary's definition, labelled as the glossary's.

- fact: the unit that carries the asked detail (amount, date, count…) and covers the focus, then at
  most two units that add what the first leaves out, and the unit each later clause asks for (« … et
  combien d'entreprises ? », « , budget total ? », « et où ? »), the answering units first;
- list (« Quels objectifs… »): the best units, a chosen item bringing the rest of its short list;
- funding / partners: the items of the sections that state them (« Budget et financements »,
  « Partenaires »), whole;
- precedent: one block per experience card (territory, what was done, lead, partners, results);
- how-to: steps and levers (headings of steps, list items, action sentences) gathered across
  documents, grouped by document, saying which are guides and which experiences;
- definition: the glossary's definition, then the corpus sentence that best defines the term.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import replace

from assistant.citations import Claim, Idf
from assistant.experiences.records import ExperienceCard
from assistant.generation.card_answers import compose_card_field, compose_precedents
from assistant.generation.howto import (
    STEP,
    compose_howto,
    document_candidates,
    is_link_label,
    is_title_line,
    list_siblings,
)
from assistant.generation.parts import (
    Candidate,
    Label,
    Part,
    antecedents,
    candidates,
    claim,
    coverage,
    line_tails,
    title_of,
)
from assistant.generation.question import FocusTerm, QuestionAnalysis, QuestionPart, analyse_question, covered
from assistant.generation.refusal import contains_kind, gives_detail
from assistant.generation.units import passage_units
from assistant.retrieval.french import analyze
from assistant.types import Passage

__all__ = ["Candidate", "Label", "compose", "document_candidates"]

_ACTION_START = re.compile(r"^[A-ZÉÀ][a-zéèêàâîôûç]+(er|ir|re)\b")
_EARNINGS = re.compile(r"\bchiffres? d['’]affaires\b|\brecettes\b", re.I)
_DEFINING = re.compile(r"\b(est|sont) (un|une|des|le|la|les)\b|\bd[ée]signe\b|\bconsiste\b|\bvise\b|\bpermet\b", re.I)


def score(analysis: QuestionAnalysis, candidate: Candidate, idf: Idf) -> float:
    """How well one unit answers the question, for its kind."""
    unit = candidate.unit
    own = coverage(analysis, candidate.words, idf)
    value = 0.7 * own + 0.3 * coverage(analysis, candidate.words | candidate.context, idf) + 0.15 / (candidate.rank + 1)
    words = len(unit.span.text.split())
    if unit.kind == "heading" and (analysis.kind != "howto" or not STEP.search(unit.span.text)):
        return -1.0
    if unit.span.text.rstrip(" »\"')").endswith("?"):
        return -1.0  # a question is never an answer
    if words < 3 or (unit.kind == "sentence" and words < 5):
        return -1.0
    if unit.kind == "sentence" and is_link_label(unit.span.text):
        return -1.0  # « Télécharger le rapport… »: the label of a link says where to read, not what
    if analysis.kind == "howto" and unit.kind == "sentence" and is_title_line(unit.span.text):
        return -1.0  # « Dossier de synthèse issu du séminaire du 4 octobre 2019 »: a title, no lever
    if words > 60:
        value -= 0.1
    if analysis.detail and analysis.detail != "name" and contains_kind(unit.span.text, _pattern(analysis.detail)):
        value += 0.3
    wanted = {analysis.kind} | set(analysis.also)
    if analysis.detail == "amount" and not _EARNINGS.search(analysis.text):
        wanted.add("funding")  # a budget is stated with its funders; what an activity earns is not
    if unit.section == "funding" and "funding" in wanted:
        value += 0.5
    if unit.section == "partners" and "partners" in wanted:
        value += 0.5
    if analysis.kind == "howto":
        if unit.kind in ("item", "heading") or _ACTION_START.match(unit.span.text):
            value += 0.2
        if unit.section is None and not unit.heading:
            value -= 0.1  # an introduction describes, a step or a lever acts
        if unit.kind == "heading" and STEP.search(unit.span.text):
            value += 0.2
    if analysis.kind == "definition" and _DEFINING.search(unit.span.text):
        value += 0.2
    if analysis.kind == "definition":
        # the glossary widens a term to the words of its definition, so every unit of the topic covers it:
        # a unit that names the term itself (« Les cités de l'emploi… »), best as its subject, or spells
        # out its acronym (« Les pôles territoriaux de coopération économique (PTCE) regroupent… ») defines it
        at = term_position(defined_term(analysis), unit.span.text)
        if at is not None:
            value += 0.3 + (0.2 if at == 0 else 0.0)
        if any(f"({t.lower()})" in unit.span.text.lower() for t in analysis.glossary_terms):
            value += 0.2
    if analysis.kind == "list" and unit.kind == "item":
        value += 0.2  # a list is answered by a list's items
    return value


def defined_term(analysis: QuestionAnalysis) -> tuple[str, ...]:
    """The analysed words of the term a definition question asks about: the glossary's term it names, else
    its focus words."""
    if analysis.glossary_terms:
        return tuple(analyze(analysis.glossary_terms[0]))
    return tuple(t.word for t in analysis.focus)


def term_position(term: Sequence[str], text: str) -> int | None:
    """Where a text names a term (its analysed words in a row, singular or plural alike), in analysed words
    from the start; None when it does not."""
    words = analyze(text)
    size = len(term)
    if not size:
        return None
    return next((i for i in range(len(words) - size + 1) if tuple(words[i : i + size]) == tuple(term)), None)


def _names(analysis: QuestionAnalysis, card: ExperienceCard) -> bool:
    """The card is about the places and bodies the question names (« Mob'Acacias », « Valbrune »)."""
    names = [a for a in analysis.anchors if not a.isdigit()]
    if not names:
        return True
    t = card.territory
    said = " ".join(v.value for v in (card.summary, t.commune, t.intercommunality, t.description) if v is not None)
    words = set(analyze(f"{card.title} {said}"))
    return all(a in words for a in names)


def _pattern(detail: str) -> str:
    return {"amount": "amount", "date": "date", "count": "count", "figure": "rate", "funding": "funding"}[detail]


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
    if analysis.kind == "precedent" and ranked:
        parts = compose_precedents(analysis, cards, idf, ranked, passages, pool)
        if parts:
            return parts
    if analysis.kind in ("funding", "partners"):
        # the experiences the question is about (within 60 % of the best unit), else the best section
        best_of: dict[str, float] = {}
        for value, candidate in ranked:
            best_of.setdefault(candidate.doc_id, value)
        top = ranked[0][0] if ranked else 0.0
        about = [
            (n, card) for n, card in cards if best_of.get(card.doc_id, 0.0) >= 0.6 * top and _names(analysis, card)
        ]
        parts = compose_card_field(analysis, about) or compose_section(analysis, ranked, passages)
        if parts:
            return parts
    if analysis.kind == "howto":
        return compose_howto(analysis, ranked, passages, documents, idf)
    if analysis.kind == "definition":
        # the units that name the term define it; the others only share its topic
        term = defined_term(analysis)
        naming = [(v, c) for v, c in ranked if term_position(term, c.unit.span.text) is not None]
        ranked = naming or ranked
    parts: list[Part] = []
    if analysis.kind == "definition" and definition:
        parts += [Label(f"Selon le glossaire de l'assistant : {definition}"), Label("Dans les documents :")]
    precise = analysis.kind == "fact" and analysis.detail not in (None, "name")
    limit = 3 if precise else {"definition": 2, "list": 6, "comparison": 5}.get(analysis.kind, 4)
    chosen = _complementary(analysis, ranked, idf, limit, pool)
    # a chosen sentence that continues another (« Il s'est construit sur… ») comes with it, just before
    placed = set(chosen)
    with_context: list[Candidate] = []
    for candidate in chosen:
        with_context += [c for c in antecedents(candidate, pool) if c not in placed]
        placed |= set(with_context)
        with_context.append(candidate)
    chosen = with_context
    if analysis.kind == "list":
        # a chosen item brings the rest of its short list, in document order
        siblings = list_siblings(chosen, pool)
        chosen = sorted([*chosen, *siblings], key=lambda c: (c.passage, c.unit.span.start))
        parts.append(Label("Les documents indiquent :"))
    return parts + [claim(c) for c in chosen]


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
    # the detail each clause asks: the question's own (« combien de séances ») when it names what is
    # counted, then those of its later clauses (« … et où ? »)
    asked = list(analysis.parts)
    if precise and analysis.head:
        # after a follow-up's own clause (« et combien vient du conseil départemental ? »), which leads
        follow_up = bool(asked) and asked[0].text == analysis.text
        asked.insert(1 if follow_up else 0, QuestionPart(analysis.text, analysis.detail, (), analysis.head))
    for part in asked:
        if not any(_answers_part(part, c) for c in chosen):
            fitting = [(_own_share(part, c), value, c) for value, c in ranked if _answers_part(part, c)]
            if fitting:
                chosen.append(max(fitting, key=lambda f: f[:2])[2])
    chosen += line_tails(chosen, pool)
    by_passage: dict[int, int] = {}
    for position, candidate in enumerate(chosen):
        by_passage.setdefault(candidate.passage, position)
    reading = sorted(chosen, key=lambda c: (by_passage[c.passage], c.unit.span.start))
    # a fact answer leads with the units that answer its clauses, in the question's order, then the rest
    leading = [next((c for c in reading if _answers_part(part, c)), None) for part in asked]
    first = list(dict.fromkeys(c for c in leading if c is not None))
    return [*first, *(c for c in reading if c not in first)]


# words that say which detail a clause asks (« budget total », « la part »), not what it is about
_DETAIL_WORDS = frozenset(analyze("budget annuel annuelle coût montant combien nombre taux part total prix met mis"))


def _own_terms(part: QuestionPart) -> list[FocusTerm]:
    """The clause's words about its subject; when it has none (« budget total ? »), its detail words."""
    return [t for t in part.focus if t.word not in _DETAIL_WORDS] or list(part.focus)


def _own_share(part: QuestionPart, candidate: Candidate) -> float:
    own = _own_terms(part)
    return sum(covered(t, candidate.words) for t in own) / len(own) if own else 1.0


def _answers_part(part: QuestionPart, candidate: Candidate) -> bool:
    """A unit answers a further clause of the question when it gives that clause's kind of detail, names
    what is counted (« entreprises » in « auprès de combien d'entreprises ? ») and speaks of at least half of
    the clause's own words."""
    return (
        gives_detail(candidate.unit.span.text, part.detail, part.head)
        and (not part.head or bool(part.head & candidate.words))
        and _own_share(part, candidate) >= 0.5
    )


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
    title = title_of(passages, best.passage)
    lead = "Financements" if key == "funding" else "Partenaires"
    return [Label(f"{lead} indiqués dans « {title} » :", strong=True), *(claim(c) for c in same[:10])]


def compose_claims(
    query: str,
    passages: Sequence[Passage],
    idf: Idf,
    *,
    kind: str | None = None,
    exclude: Collection[tuple[str, int]] = (),
    limit: int = 4,
) -> list[Claim]:
    """The composer's claims for a query over passages read on their own (a note section): ``kind``
    overrides the question's kind (« howto » for levers), ``exclude`` drops units already cited elsewhere,
    as (document id, start offset)."""
    analysis = analyse_question(query)
    if kind is not None:
        analysis = replace(analysis, kind=kind, detail=None)
    pool = [
        c
        for c in candidates(passages, {p.number: passage_units(p) for p in passages})
        if (c.doc_id, c.unit.span.start) not in exclude
    ]
    claims = [p for p in compose(analysis, pool, idf, passages=passages) if isinstance(p, Claim)]
    return claims[:limit]
