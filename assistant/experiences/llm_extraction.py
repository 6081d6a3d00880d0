"""Experience cards by the rules, then a chat model for the fields they left empty, every value checked.

Rules win where they found a value (exact slices by construction). The model gets one short French
prompt per document: the empty comparison-table fields, the introduction and the sections they come
from (the whole text if one is missing), within a token budget. Its values are kept only where the
document supports them (``find_support``), shown in the document's own words; unsupported ones are
dropped and counted. Invalid JSON or an unavailable model leave the rules' card (logged).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from assistant.backends.llm import ChatModel, LLMUnavailable, Message
from assistant.citations import support_score
from assistant.experiences.cards import CardExtractor, RuleCardExtractor, amount_in_euros
from assistant.experiences.records import Evidence, ExperienceCard, FieldValue, IndexedDocument
from assistant.experiences.sections import blocks, display, find_sections, fold, preamble, sentences
from assistant.glossary import Glossary
from assistant.types import Span

log = logging.getLogger(__name__)

PROMPT_VERSION = 1  # in the extractor's name: a new prompt re-extracts the stored cards
LONG_VALUE_WORDS = 6  # shorter values must be copied exactly; longer ones may be matched by their words
LONG_VALUE_THRESHOLD = 0.75  # share of a long value's words its sentence must hold (numbers: all of them)
_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
_NOT_STATED = re.compile(r"^(non (communique|precise|renseigne|connu|disponible)|inconnue?|aucune?|null|none|n a|nc)?$")
_THOUSANDS = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?!\d))")
_BULLET = re.compile(r"^[-*•–]\s+")
# "Valbrune Loire" in "Valbrune Loire Agglomération", "Saint-Jean" in "Crêts-Saint-Jean": pieces of a longer name
_PIECE_BEFORE, _PIECE_AFTER = re.compile(r"\w-$"), re.compile(r"-\w| [A-ZÀ-ÖØ-Þ]")


@dataclass(frozen=True)
class CardField:
    key: str  # the JSON key asked of the model
    attribute: str  # on the card ("territory.x" for the territory's)
    section: str  # the fiche section it comes from (sections.SECTION_LABELS values)
    hint: str  # what the prompt says about it
    many: bool = False
    accepts: str = ""  # a pattern its source span must contain


_DIGIT, _AMOUNT = r"\d", r"\d\s*(?:€|euros?\b|EUR\b)"
# the comparison table's fields
FIELDS: tuple[CardField, ...] = (
    CardField("commune", "territory.commune", "territory", "nom de la commune"),
    CardField("intercommunalite", "territory.intercommunality", "territory", "nom de l'intercommunalité"),
    CardField("region", "territory.region", "territory", "région"),
    CardField("population", "territory.population", "territory", "habitants de la commune", accepts=_DIGIT),
    CardField("quartiers", "territory.qpv", "territory", "noms des quartiers prioritaires", many=True),
    CardField("periode", "period", "period", "années de l'action", accepts=_YEAR.pattern),
    CardField("porteur", "lead", "lead", "structure qui porte le projet"),
    CardField("partenaires", "partners", "partners", "partenaires", many=True),
    CardField("public", "public", "public", "public visé"),
    CardField("actions", "actions", "actions", "actions menées", many=True),
    CardField("budget", "budget", "funding", "budget total en euros", accepts=_AMOUNT),
    CardField("financeurs", "funders", "funding", "« financeur : montant en euros »", many=True, accepts=_AMOUNT),
    CardField("resultats", "results", "results", "résultats chiffrés", many=True),
)
SYSTEM = (
    "Tu extrais les informations d'une fiche d'expérience. Réponds uniquement par un objet JSON. "
    "Recopie chaque valeur mot pour mot depuis le texte. Si le texte ne donne pas une information, "
    "mets null (ou [] pour une liste) : n'invente jamais."
)


@dataclass
class ExtractionStats:
    calls: int = 0  # documents sent to the model
    filled: int = 0  # values kept (supported by a span)
    dropped: int = 0  # values nothing supports, or that another field already holds
    fallbacks: int = 0  # documents left to the rules (invalid JSON, model unavailable)
    seconds: float = 0.0  # spent waiting for the model


class LLMCardExtractor:
    """Rules first, then ``model`` for the fields they left empty; only supported values are kept."""

    def __init__(
        self,
        model: ChatModel,
        *,
        count_tokens: Callable[[str], int],
        rules: RuleCardExtractor | None = None,
        max_document_tokens: int = 900,
    ) -> None:
        self.model, self.count_tokens, self.max_document_tokens = model, count_tokens, max_document_tokens
        self.rules = rules or RuleCardExtractor()
        self.name = f"{self.rules.name}+llm-{PROMPT_VERSION}:{model.name}"
        self.available = True  # turned off at the first failure: the rules do the rest
        self.stats = ExtractionStats()

    def extract(self, document: IndexedDocument) -> ExperienceCard | None:
        """The rules' card with its empty fields filled where the model's values are supported.

        Its ``extractor`` is this extractor's name when the model answered (or had nothing to fill),
        the rules' name when the model failed."""
        card = self.rules.extract(document)
        if card is None:
            return None
        wanted = [f for f in FIELDS if not _values(card, f.attribute)]
        if not wanted:
            return replace(card, extractor=self.name)
        if not self.available:
            return card
        self.stats.calls += 1
        started = time.perf_counter()
        budget = min(600, 40 + sum(120 if f.many else 40 for f in wanted))  # answer tokens
        try:
            reply = "".join(self.model.stream(self.messages(document, wanted), max_tokens=budget, temperature=0.0))
        except LLMUnavailable as exc:
            self.available = False
            self.stats.fallbacks += 1
            log.warning("chat model unavailable (%s): cards by the rules alone from now on", exc)
            return card
        finally:
            self.stats.seconds += time.perf_counter() - started
        answer = parse_json_object(reply)
        if answer is None:
            self.stats.fallbacks += 1
            log.warning("%s: no JSON object in the model's reply, card by the rules: %r", document.doc_id, reply[:120])
            return card
        return self._merge(card, document.text, wanted, answer)

    def messages(self, document: IndexedDocument, wanted: list[CardField]) -> list[Message]:
        text = _truncate(_context(document, {f.section for f in wanted}), self.count_tokens, self.max_document_tokens)
        listed = "\n".join(f"- {f.key} : {f.hint}{' (liste)' if f.many else ''}" for f in wanted)
        user = f"Titre : {document.metadata.get('title', '')}\n\n{text}\n\nChamps à remplir :\n{listed}"
        return [Message("system", SYSTEM), Message("user", user)]

    def _merge(self, card: ExperienceCard, text: str, wanted: list[CardField], answer: dict) -> ExperienceCard:
        found = [v for a in [f.attribute for f in FIELDS] + ["territory.qpv_population"] for v in _values(card, a)]
        taken = {_identity(v.value) for v in found}
        updates: dict[str, Any] = {}
        dropped: list[str] = []
        for field in wanted:
            raw = answer.get(field.key)
            kept: list[FieldValue] = []
            for item in raw if isinstance(raw, list) else [raw]:
                if isinstance(item, bool) or not isinstance(item, (str, int, float)):
                    continue
                value = str(item).strip()
                if _NOT_STATED.match(_normalise(value)[0]):
                    continue
                span = find_support(text, value)
                if span is None or not re.search(field.accepts, span.text) or _identity(span.text) in taken:
                    dropped.append(f"{field.key}={value!r}")
                    continue
                taken.add(_identity(span.text))
                kept.append(FieldValue(display(span.text), Evidence(card.doc_id, span.start, span.end, span.text)))
                if not field.many:
                    break
            if kept:
                updates[field.attribute] = tuple(kept) if field.many else kept[0]
        self.stats.filled += len(updates)
        self.stats.dropped += len(dropped)
        log.info("%s: %d field(s) filled by the model; unsupported, dropped: %s", card.doc_id, len(updates), dropped)
        return _with(replace(card, extractor=self.name), updates)


def card_extractor_for(
    glossary: Glossary | None, chat_model: Callable[[], ChatModel | None], count_tokens: Callable[[str], int]
) -> CardExtractor:
    """The rules alone when no chat model is configured, else rules then the model (starts the local one)."""
    rules = RuleCardExtractor(glossary)
    model = chat_model()
    if model is None:
        return rules
    return LLMCardExtractor(model, count_tokens=count_tokens, rules=rules)


def parse_json_object(reply: str) -> dict | None:
    """The first JSON object of a reply (code fences and text around it tolerated); None when there is none."""
    text = re.sub(r"```(?:json)?", "", reply)
    start = text.find("{")
    try:
        found, _ = json.JSONDecoder().raw_decode(text[start:]) if start >= 0 else (None, 0)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def find_support(text: str, value: str) -> Span | None:
    """The span of ``text`` supporting ``value``: where it is copied (whole, not a piece of a longer name), else,
    for a long value, the sentence (or two) holding most of its words and all its numbers."""
    haystack, offsets = _normalise(text)
    needle = _normalise(value)[0]  # "20 000 €" is one word: "20000"
    position = f" {haystack} ".find(f" {needle} ") if needle else -1
    while position >= 0:
        start, end = offsets[position], offsets[position + len(needle) - 1] + 1
        if text[start:end].count("(") > text[start:end].count(")") and text[end : end + 1] == ")":
            end += 1
        if not _PIECE_BEFORE.search(text[max(0, start - 2) : start]) and not _PIECE_AFTER.match(text[end : end + 2]):
            return Span(start, end, text[start:end])
        position = f" {haystack} ".find(f" {needle} ", position + 1)
    if len(needle.split()) < LONG_VALUE_WORDS:
        return None
    singles: list[Span] = []
    pairs: list[Span] = []
    for block in blocks(text):
        spans = [_unbulleted(s) for s in sentences(block)]
        singles += spans
        pairs += [Span(a.start, b.end, text[a.start : b.end]) for a, b in zip(spans, spans[1:], strict=False)]
    for candidates in (singles, pairs):  # a single sentence when one suffices, as the citation checker does
        best = max(candidates, key=lambda s: support_score(value, s.text, _uniform), default=None)
        if best is not None and support_score(value, best.text, _uniform) >= LONG_VALUE_THRESHOLD:
            return best
    return None


def _uniform(term: str) -> float:
    # every word weighs the same: a card must not change with the rest of the corpus
    return 1.0


def _normalise(text: str) -> tuple[str, list[int]]:
    """Lower case, no accents, letters and digits between single spaces ("6 300" -> "6300"), with the offset
    in ``text`` of every character kept."""
    joined = {m.start() for m in _THOUSANDS.finditer(text)}
    chars: list[str] = []
    offsets: list[int] = []
    for i, c in enumerate(fold(text)):
        if c.isalnum():
            chars.append(c)
            offsets.append(i)
        elif i not in joined and chars and chars[-1] != " ":
            chars.append(" ")
            offsets.append(i)
    if chars and chars[-1] == " ":
        chars.pop()
        offsets.pop()
    return "".join(chars), offsets


def _identity(value: str) -> str:
    """Two values are the same when they state the same numbers ("6 300" and "6 300 habitants") or words."""
    normalised = _normalise(value)[0]
    numbers = sorted(re.findall(r"\d+", normalised))
    return " ".join(numbers) if numbers else normalised


def _unbulleted(span: Span) -> Span:
    bullet = _BULLET.match(span.text)
    return Span(span.start + bullet.end(), span.end, span.text[bullet.end() :]) if bullet else span


def _context(document: IndexedDocument, wanted_sections: set[str]) -> str:
    """The introduction and the sections the wanted fields come from; the whole text if one is missing."""
    sections = find_sections(document.text, document.headings)
    if not wanted_sections <= {s.key for s in sections if s.key}:
        return document.text
    parts = [b.text for b in preamble(document.text, sections)]
    parts += [f"{s.heading.text}\n{s.body.text}" for s in sections if s.key in wanted_sections]
    return "\n\n".join(parts)


def _truncate(text: str, count_tokens: Callable[[str], int], budget: int) -> str:
    """The longest run of whole words from the start of ``text`` within ``budget`` tokens."""
    if count_tokens(text) <= budget:
        return text
    ends = [m.end() for m in re.finditer(r"\S+", text)]
    low, high = 0, len(ends)
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if count_tokens(text[: ends[middle - 1]]) <= budget else (low, middle - 1)
    return text[: ends[low - 1]] if low else ""


def _values(card: ExperienceCard, attribute: str) -> tuple[FieldValue, ...]:
    found: Any = card
    for part in attribute.split("."):
        found = getattr(found, part)
    return found if isinstance(found, tuple) else ((found,) if found is not None else ())


def _with(card: ExperienceCard, updates: dict[str, Any]) -> ExperienceCard:
    """The card with ``updates`` (attribute -> value) and the numbers read from them (amount, years)."""
    territory = {a.removeprefix("territory."): v for a, v in updates.items() if a.startswith("territory.")}
    fields = {a: v for a, v in updates.items() if not a.startswith("territory.")}
    if "budget" in fields:
        fields["budget_eur"] = amount_in_euros(fields["budget"].value)
    if "period" in fields:
        years = [int(y) for y in _YEAR.findall(fields["period"].value)]
        fields["start_year"], fields["end_year"] = min(years), max(years)
    return replace(card, territory=replace(card.territory, **territory), **fields)
