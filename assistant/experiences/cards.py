"""Experience cards from indexed documents, by rules (pure).

An experience document is a "fiche expérience" (``type`` metadata) or any document
with at least three of the usual fiche sections (Territoire, Porteur du projet,
Partenaires, Public cible, Actions menées, Budget et financements, Résultats,
Période, Contact). Each field is read from its section; without sections only the
budget is looked for in the whole text. A value is always an exact slice of the
text (its ``Evidence``) or a metadata declaration; a field nothing states stays empty
("Non communiqué." gives no budget).

``CardExtractor`` is the extension point for an LLM extractor: it must return the
same records, with evidence that is an exact slice (check it with ``quote_is_exact``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Protocol

from assistant.experiences.records import Evidence, ExperienceCard, FieldValue, IndexedDocument
from assistant.experiences.sections import (
    FicheSection,
    Span,
    blocks,
    display,
    find_sections,
    fold,
    preamble,
    sentences,
    split_items,
)
from assistant.experiences.territory import parse_territory
from assistant.glossary import Glossary

MIN_SECTIONS = 3
# builds a field from a text span (value shown: the span made readable, unless given)
ValueOf = Callable[..., FieldValue]
_AMOUNT = re.compile(r"(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:,\d+)?\s*(?:€|euros?\b|EUR\b)")
_FUNDER = re.compile(r"^(?P<name>[^:]{2,160}?)\s*:\s*" + _AMOUNT.pattern)
_BUDGET_WORDS = re.compile(r"\b(?:budget|coût|investissement|montant|total|enveloppe)\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
# after the lead's name, a comma then one of these starts its description
_LEAD_DESCRIPTION = re.compile(
    r",\s+(?=(?:qui|dont|où|association|structure|société|entreprise|gestionnaire|bailleur|créée?|conventionnée?"
    r"|présidée?|spécialisée?|agréée?|membre|porteuse?|labellisée?|en charge)\b)"
)
_BUDGET_TAIL = re.compile(r",?\s*(?:dont|ainsi réparti|répartis ainsi|réparti comme suit|répartis comme suit)?\s*:?$")


class CardExtractor(Protocol):
    """Turns an indexed document into an experience card (None: the document describes no experience)."""

    name: str  # stored with the cards: a new name re-extracts every document

    def extract(self, document: IndexedDocument) -> ExperienceCard | None: ...


def amount_in_euros(text: str) -> int | None:
    """ "1 260 000 euros" -> 1260000; the amount after "soit" when there is one (a total)."""
    total = re.search(r"soit (?:un total de )?" + _AMOUNT.pattern, text)
    match = total or _AMOUNT.search(text)
    return int(re.sub(r"\D", "", match.group(1))) if match else None


def is_experience(metadata: dict, sections: Sequence[FicheSection]) -> bool:
    kinds = {s.key for s in sections if s.key}
    return "experience" in fold(str(metadata.get("type", ""))) or len(kinds) >= MIN_SECTIONS


def quote_is_exact(card: ExperienceCard, text: str) -> bool:
    """Every evidence of the card is the exact slice of ``text`` it claims to be."""
    return all(text[e.start : e.end] == e.quote and e.doc_id == card.doc_id for e in card.evidence())


class RuleCardExtractor:
    """Offline extraction: fiche sections, list items, amounts, years and glossary terms."""

    name = "règles-1"  # change it with the rules: stored cards are read again only when the name changes

    def __init__(self, glossary: Glossary | None = None) -> None:
        self.glossary = glossary

    def extract(self, document: IndexedDocument) -> ExperienceCard | None:
        text, meta, doc_id = document.text, document.metadata, document.doc_id
        sections = find_sections(text, document.headings)
        if not is_experience(meta, sections):
            return None
        by_key: dict[str, Span] = {}
        for section in sections:
            if section.key and section.key not in by_key and section.body.text:
                by_key[section.key] = section.body

        def value(span: Span, shown: str | None = None) -> FieldValue:
            return FieldValue(shown if shown is not None else display(span.text), Evidence(doc_id, *_slice(span)))

        intro = _introduction(text, sections)
        budget, budget_eur, funders = _funding(by_key.get("funding"), text if "funding" not in by_key else "", value)
        period, start_year, end_year = _period(by_key.get("period"), value)
        return ExperienceCard(
            doc_id=doc_id,
            content_hash=document.content_hash,
            title=str(meta.get("title", "")),
            source=str(meta.get("source", "")),
            url=meta.get("url"),
            organisation=meta.get("organisation"),
            date=meta.get("date"),
            fictional=meta.get("fictional") is True,
            themes=tuple(meta["themes"]) if isinstance(meta.get("themes"), list) else (),
            summary=value(intro) if intro else None,
            territory=parse_territory(
                doc_id,
                by_key.get("territory"),
                preamble=intro.text if intro else "",
                preamble_offset=intro.start if intro else 0,
                region=meta.get("region"),
            ),
            period=period,
            start_year=start_year,
            end_year=end_year,
            lead=_lead(by_key.get("lead"), value),
            partners=tuple(value(i.span) for i in split_items(by_key["partners"])) if "partners" in by_key else (),
            public=_first_sentence(by_key.get("public"), value),
            actions=_actions(by_key.get("actions"), value),
            budget=budget,
            budget_eur=budget_eur,
            funders=funders,
            results=_results(by_key.get("results"), value),
            dispositifs=self._dispositifs(doc_id, text),
            contact=_first_paragraph(by_key.get("contact"), value),
            extractor=self.name,
        )

    def _dispositifs(self, doc_id: str, text: str) -> tuple[FieldValue, ...]:
        """Glossary terms the document uses, each with the sentence where it first appears."""
        if self.glossary is None:
            return ()
        found = []
        for entry in self.glossary.find_terms(text)[:15]:
            for spelling in (entry.term, entry.expansion, *entry.synonyms):
                flags = 0 if len(spelling) <= 3 and spelling.isupper() else re.IGNORECASE
                match = re.search(rf"(?<!\w){re.escape(spelling)}(?!\w)", text, flags)
                if match:
                    sentence = _sentence_around(text, match.start())
                    found.append(FieldValue(entry.term, Evidence(doc_id, *_slice(sentence))))
                    break
        return tuple(found)


def _slice(span: Span) -> tuple[int, int, str]:
    return span.start, span.end, span.text


def _sentence_around(text: str, position: int) -> Span:
    block = next(b for b in blocks(text) if b.start <= position < b.end)
    return next((s for s in sentences(block) if s.start <= position < s.end), block)


def _introduction(text: str, sections: Sequence[FicheSection]) -> Span | None:
    """The first substantial paragraph before the sections (not the disclaimer, not the title)."""
    for block in preamble(text, list(sections)):
        if "document fictif" in fold(block.text[:40]) or len(block.text.split()) < 25:
            continue
        return block
    return None


def _first_sentence(body: Span | None, value: ValueOf) -> FieldValue | None:
    if body is None:
        return None
    found = sentences(blocks(body.text, body.start)[0])
    return value(found[0]) if found else None


def _first_paragraph(body: Span | None, value: ValueOf) -> FieldValue | None:
    return value(blocks(body.text, body.start)[0]) if body is not None else None


def _lead(body: Span | None, value: ValueOf) -> FieldValue | None:
    """The lead organisation: the first sentence's name, before its description ("X (fictif), association …")."""
    if body is None:
        return None
    sentence = sentences(blocks(body.text, body.start)[0])[0]
    cut = _LEAD_DESCRIPTION.search(sentence.text)
    name = sentence.text[: cut.start()] if cut else sentence.text
    return value(sentence, display(name))


def _actions(body: Span | None, value: ValueOf) -> tuple[FieldValue, ...]:
    """List items; sentences of plain paragraphs, except those introducing a list ("… solutions :")."""
    if body is None:
        return ()
    actions = []
    for item in split_items(body):
        if item.bullet:
            actions.append(value(item.span))
        else:
            actions += [value(s) for s in sentences(item.span) if not s.text.rstrip().endswith(":")]
    return tuple(actions)


def _results(body: Span | None, value: ValueOf) -> tuple[FieldValue, ...]:
    """Sentences stating figures (all sentences when none does)."""
    if body is None:
        return ()
    spans = [s for item in split_items(body) for s in sentences(item.span)]
    figures = [s for s in spans if re.search(r"\d", s.text)]
    return tuple(value(s) for s in (figures or spans))


def _funding(body: Span | None, whole_text: str, value: ValueOf) -> tuple[FieldValue | None, int | None, tuple]:
    """The budget (its sentence and amount) and the funders' lines "Financeur : montant"."""
    if body is None:
        # no "Budget" section: a sentence that states a budget with an amount, anywhere
        for block in blocks(whole_text):
            for sentence in sentences(block):
                if _BUDGET_WORDS.search(sentence.text) and _AMOUNT.search(sentence.text):
                    return value(sentence, _budget_value(sentence.text)), amount_in_euros(sentence.text), ()
        return None, None, ()
    budget = budget_eur = None
    funders = []
    for item in split_items(body):
        funder = _FUNDER.match(item.span.text)
        if funder and not _BUDGET_WORDS.match(funder.group("name")):
            funders.append(value(item.span))
            continue
        if budget is None:
            for sentence in sentences(item.span):
                if _AMOUNT.search(sentence.text) and (_BUDGET_WORDS.search(sentence.text) or not funders):
                    budget, budget_eur = value(sentence, _budget_value(sentence.text)), amount_in_euros(sentence.text)
                    break
    return budget, budget_eur, tuple(funders)


def _budget_value(sentence: str) -> str:
    return _BUDGET_TAIL.sub("", display(sentence)).strip()


def _period(body: Span | None, value: ValueOf) -> tuple[FieldValue | None, int | None, int | None]:
    if body is None:
        return None, None, None
    paragraph = blocks(body.text, body.start)[0]
    years = [int(y) for y in _YEAR.findall(paragraph.text)]
    return value(paragraph), (min(years) if years else None), (max(years) if years else None)
