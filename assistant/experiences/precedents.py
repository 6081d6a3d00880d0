"""Precedent finder: experience cards ranked for a need, filtered, and compared with the user's territory.

The need goes through the product's hybrid search, restricted to documents that have
a card; hits are summed per document, then cards whose own fields (title, actions,
public, lead, glossary terms…) contain the need's words, and cards from comparable
places, move up. Each precedent says why it was chosen, in French.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.experiences.records import Evidence, ExperienceCard
from assistant.experiences.sections import fold, sentences
from assistant.experiences.territory import canonical_region, french_number, inhabitants_in
from assistant.retrieval.filters import Filters
from assistant.retrieval.french import analyze
from assistant.retrieval.hybrid import Retriever
from assistant.sentences import reads_as_statement
from assistant.types import Hit, Span

Idf = Callable[[str], float]

# neighbourhood types a description may name -> words that show them in a card's territory or introduction
NEIGHBOURHOOD_TYPES: dict[str, tuple[str, ...]] = {
    "centre ancien": ("centre ancien", "centres anciens", "centre historique", "coeur de ville", "cœur de ville"),
    "grand ensemble": ("grand ensemble", "grands ensembles"),
    "territoire rural": ("rural", "rurale", "rurales", "ruraux", "villages"),
    "renouvellement urbain": ("npnru", "renouvellement urbain", "renovation urbaine"),
    "zone d'activités proche": ("zone d'activites", "zone industrielle", "zones d'activites"),
    "ville portuaire ou littorale": ("portuaire", "littoral", "littorale"),
}
TERRITORY_KINDS = {
    "métropole": ("metropole",),
    "communauté urbaine": ("communaute urbaine",),
    "agglomération": ("agglomeration", "agglo"),
    "communauté de communes": ("communaute de communes",),
}
SIZE_WORDS = {"petite ville": (0, 20_000), "ville moyenne": (20_000, 100_000), "grande ville": (100_000, 10**8)}
COMPARABLE_RATIO = 2.5  # sizes within a factor 2.5 of each other are "comparable"
_FIELD_NAMES = {
    "title": "titre",
    "summary": "présentation",
    "actions": "actions",
    "public": "public",
    "lead": "porteur",
    "dispositifs": "dispositifs",
    "themes": "thèmes",
    "results": "résultats",
}


@dataclass(frozen=True)
class TerritoryProfile:
    """A user's description of their territory, parsed ("ville moyenne de 50 000 habitants en Occitanie…")."""

    description: str
    inhabitants: int | None = None
    region: str | None = None
    kind: str | None = None
    size_class: str | None = None
    neighbourhoods: tuple[str, ...] = ()

    @classmethod
    def parse(cls, description: str) -> TerritoryProfile:
        folded = fold(description)
        kind = next((k for k, words in TERRITORY_KINDS.items() if any(w in folded for w in words)), None)
        size = next((s for s in SIZE_WORDS if s in folded), None)
        quarters = tuple(t for t, words in NEIGHBOURHOOD_TYPES.items() if any(fold(w) in folded for w in words))
        return cls(description, inhabitants_in(description), canonical_region(description), kind, size, quarters)


def similarity_reasons(profile: TerritoryProfile, card: ExperienceCard) -> list[str]:
    """Why the card's place resembles the profile's, in French; empty when nothing is comparable."""
    reasons = []
    territory = card.territory
    if profile.region and territory.region and canonical_region(territory.region.value) == profile.region:
        reasons.append(f"même région ({profile.region})")
    size = territory.inhabitants
    if size:
        if profile.inhabitants and 1 / COMPARABLE_RATIO <= size / profile.inhabitants <= COMPARABLE_RATIO:
            reasons.append(f"taille comparable ({french_number(size)} habitants)")
        elif not profile.inhabitants and profile.size_class:
            low, high = SIZE_WORDS[profile.size_class]
            if low <= size < high:
                reasons.append(f"taille comparable ({profile.size_class}, {french_number(size)} habitants)")
    if profile.kind and territory.kind == profile.kind:
        reasons.append(f"même type de territoire ({profile.kind})")
    described = fold(" ".join(v.value for v in (territory.description, card.summary) if v is not None))
    for quarter in profile.neighbourhoods:
        if any(fold(word) in described for word in NEIGHBOURHOOD_TYPES[quarter]):
            reasons.append(f"quartier comparable ({quarter})")
    return reasons


def parse_period(text: str) -> tuple[int, int]:
    """ "2019-2024" -> (2019, 2024); "2021" -> (2021, 2021)."""
    match = re.fullmatch(r"\s*(\d{4})\s*(?:[-–/à]\s*(\d{4}))?\s*", text)
    if not match:
        raise ValueError(f"période « {text} » invalide : attendu AAAA ou AAAA-AAAA, par exemple 2019-2024")
    start, end = int(match.group(1)), int(match.group(2) or match.group(1))
    return min(start, end), max(start, end)


@dataclass(frozen=True)
class PrecedentRequest:
    need: str
    territory: str | None = None  # the user's territory, for "similar territories"
    themes: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    territory_types: tuple[str, ...] = ()
    period: tuple[int, int] | None = None
    limit: int = 5


@dataclass(frozen=True)
class Precedent:
    card: ExperienceCard
    score: float
    reasons: tuple[str, ...]  # French, e.g. "même région (Occitanie)"
    passage: Evidence | None  # the retrieved sentence that best matches the need
    page: int | None = None


def card_passes(card: ExperienceCard, request: PrecedentRequest) -> bool:
    """The request's filters (themes, regions, territory types, period): an unknown value never passes."""
    if request.regions:
        wanted = {canonical_region(r) or r for r in request.regions}
        if card.territory.region is None or canonical_region(card.territory.region.value) not in wanted:
            return False
    if request.themes:
        labels = [fold(t) for t in card.themes] + [fold(d.value) for d in card.dispositifs]
        if not any(fold(theme) == label for theme in request.themes for label in labels):
            return False
    if request.territory_types:
        wanted_kinds = {_kind(t) for t in request.territory_types}
        if card.territory.kind not in wanted_kinds:
            return False
    if request.period:
        low, high = request.period
        if card.start_year is None or card.start_year > high or (card.end_year or card.start_year) < low:
            return False
    return True


def _kind(text: str) -> str:
    folded = fold(text)
    return next((k for k, words in TERRITORY_KINDS.items() if any(w in folded for w in words)), folded)


def field_matches(need: str, card: ExperienceCard, idf: Idf) -> tuple[float, dict[str, list[str]]]:
    """Share of the need's words (idf-weighted) found in the card's fields, and the need's words per field."""
    words = [w for w in re.findall(r"[\w'’-]+", need) if analyze(w)]
    terms = {t for w in words for t in analyze(w)}
    if not terms:
        return 0.0, {}
    texts = {
        "title": card.title,
        "summary": card.summary.value if card.summary else "",
        "actions": " ".join(a.value for a in card.actions),
        "public": card.public.value if card.public else "",
        "lead": card.lead.value if card.lead else "",
        "dispositifs": " ".join(d.value for d in card.dispositifs),
        "themes": " ".join(card.themes),
        "results": " ".join(r.value for r in card.results),
    }
    found: set[str] = set()
    per_field: dict[str, list[str]] = {}
    for name, text in texts.items():
        present = set(analyze(text)) & terms
        if present:
            found |= present
            per_field[_FIELD_NAMES[name]] = [w for w in words if set(analyze(w)) & present]
    total = sum(idf(t) for t in terms) or 1.0
    return sum(idf(t) for t in found) / total, per_field


def _need_reason(per_field: dict[str, list[str]]) -> str | None:
    if not per_field:
        return None
    words = list(dict.fromkeys(w for ws in per_field.values() for w in ws))
    shown = ", ".join(f"« {w} »" for w in words[:4])
    return f"répond au besoin : {shown} ({', '.join(list(per_field)[:3])})"


def _best_sentence(hit: Hit, need: str, idf: Idf) -> Evidence:
    chunk = hit.chunk
    terms = set(analyze(need))
    spans = sentences(Span(chunk.start, chunk.end, chunk.text))
    # a heading ("Porteur du projet") or a contact line says nothing about the experience
    statements = [s for s in spans if reads_as_statement(s.text) and len(s.text.split()) >= 6]
    candidates = statements or spans or [Span(chunk.start, chunk.end, chunk.text)]
    best = max(candidates, key=lambda s: (sum(idf(t) for t in set(analyze(s.text)) & terms), -s.start))
    return Evidence(chunk.doc_id, best.start, best.end, best.text)


class PrecedentFinder:
    """Ranks cards for a need with the hybrid searcher (``idf`` from its keyword index)."""

    def __init__(self, searcher: Retriever, cards: Sequence[ExperienceCard]) -> None:
        self.searcher = searcher
        self.cards = list(cards)

    def find(self, request: PrecedentRequest) -> list[Precedent]:
        """Best precedents first; empty when no card passes the filters or none matches the need."""
        eligible = {c.source: c for c in self.cards if card_passes(c, request)}
        if not eligible:
            return []
        hits = self.searcher.rank(request.need, Filters({"source": tuple(sorted(eligible))}))
        idf = self.searcher.keyword_index().idf  # one snapshot: each call reads the document registry
        per_doc: dict[str, list[Hit]] = {}
        for hit in hits:
            per_doc.setdefault(str(hit.chunk.metadata.get("source", "")), []).append(hit)
        if not per_doc:
            return []
        retrieval = {source: sum(h.score for h in doc_hits[:3]) for source, doc_hits in per_doc.items()}
        top = max(retrieval.values())
        profile = TerritoryProfile.parse(request.territory) if request.territory else None
        ranked = []
        for source, doc_hits in per_doc.items():
            card = eligible.get(source)
            if card is None:
                continue
            coverage, per_field = field_matches(request.need, card, idf)
            similar = similarity_reasons(profile, card) if profile else []
            score = retrieval[source] / top + 0.5 * coverage + 0.15 * len(similar)
            reasons = [r for r in (_need_reason(per_field), *similar) if r]
            best = doc_hits[0]
            ranked.append(
                Precedent(
                    card, round(score, 4), tuple(reasons), _best_sentence(best, request.need, idf), best.chunk.page
                )
            )
        ranked.sort(key=lambda p: (-p.score, p.card.title))
        return ranked[: request.limit]
