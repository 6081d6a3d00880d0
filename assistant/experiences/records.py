"""Experience cards: what an indexed document says about one concrete experience, field by field.

Every value read from the text keeps its ``Evidence``: ``quote == document text[start:end]``.
A value without evidence was declared in the document's metadata (front matter or sidecar),
never inferred. A field nothing supports is left empty (None or ``()``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Evidence:
    """Where a value was read: ``quote == document text[start:end]``."""

    doc_id: str
    start: int
    end: int
    quote: str


@dataclass(frozen=True)
class FieldValue:
    """One value of a card; ``evidence`` is None only for values declared in the document's metadata."""

    value: str
    evidence: Evidence | None = None

    @property
    def from_metadata(self) -> bool:
        return self.evidence is None


@dataclass(frozen=True)
class Territory:
    """Where the experience takes place, as the document names it."""

    commune: FieldValue | None = None
    intercommunality: FieldValue | None = None
    department: FieldValue | None = None
    region: FieldValue | None = None
    qpv: tuple[FieldValue, ...] = ()
    population: FieldValue | None = None  # of the commune or intercommunality, e.g. "118 000 habitants"
    qpv_population: FieldValue | None = None  # of the neighbourhood(s) concerned
    description: FieldValue | None = None  # the document's own description (first paragraph)

    @property
    def inhabitants(self) -> int | None:
        return count_inhabitants(self.population.value) if self.population else None

    @property
    def kind(self) -> str | None:
        """métropole, communauté urbaine, agglomération, communauté de communes, commune (None: unknown)."""
        if self.intercommunality is not None:
            name = self.intercommunality.value.lower()
            for marker, kind in (
                ("métropole", "métropole"),
                ("communauté urbaine", "communauté urbaine"),
                ("agglomération", "agglomération"),
                ("communauté de communes", "communauté de communes"),
            ):
                if marker in name:
                    return kind
            return "intercommunalité"
        return "commune" if self.commune is not None else None


def count_inhabitants(text: str) -> int | None:
    """ "118 000 habitants" -> 118000 (spaces, no-break spaces and dots group thousands)."""
    match = re.search(r"\d{1,3}(?:[\s\u00a0\u202f.]\d{3})+|\d+", text)
    return int(re.sub(r"\D", "", match.group(0))) if match else None


@dataclass(frozen=True)
class ExperienceCard:
    """A concrete experience described by one document. Empty fields mean: not stated in the document."""

    doc_id: str
    content_hash: str
    title: str
    source: str
    url: str | None = None
    organisation: str | None = None  # who published the document (not the lead of the experience)
    date: str | None = None
    fictional: bool = False
    themes: tuple[str, ...] = ()  # declared in metadata
    summary: FieldValue | None = None
    territory: Territory = field(default_factory=Territory)
    period: FieldValue | None = None
    start_year: int | None = None
    end_year: int | None = None
    lead: FieldValue | None = None
    partners: tuple[FieldValue, ...] = ()
    public: FieldValue | None = None
    actions: tuple[FieldValue, ...] = ()
    budget: FieldValue | None = None
    budget_eur: int | None = None
    funders: tuple[FieldValue, ...] = ()
    results: tuple[FieldValue, ...] = ()
    dispositifs: tuple[FieldValue, ...] = ()  # glossary terms the document mentions
    contact: FieldValue | None = None
    extractor: str = "règles"

    @property
    def location(self) -> str:
        """The URL when the document has one, else its file path."""
        return self.url or self.source

    def evidence(self) -> list[Evidence]:
        """Every passage this card was built from."""
        found: list[Evidence] = []
        for value in _field_values(self):
            if value.evidence is not None:
                found.append(value.evidence)
        return found


def _field_values(card: ExperienceCard) -> list[FieldValue]:
    t = card.territory
    single = [card.summary, card.period, card.lead, card.public, card.budget, card.contact]
    single += [t.commune, t.intercommunality, t.department, t.region, t.population, t.qpv_population, t.description]
    lists = [card.partners, card.actions, card.funders, card.results, card.dispositifs, t.qpv]
    return [v for v in single if v is not None] + [v for values in lists for v in values]


@dataclass(frozen=True)
class IndexedDocument:
    """What an extractor reads: the registry text, metadata and the headings the chunker saw."""

    doc_id: str
    content_hash: str
    text: str
    metadata: dict[str, Any]
    headings: tuple[str, ...] = ()


# JSON round trip (the card store) -------------------------------------------------------------


def card_to_dict(card: ExperienceCard) -> dict[str, Any]:
    return asdict(card)


def _value(raw: dict[str, Any] | None) -> FieldValue | None:
    if raw is None:
        return None
    evidence = raw.get("evidence")
    return FieldValue(raw["value"], Evidence(**evidence) if evidence else None)


def _values(raw: list[dict[str, Any]]) -> tuple[FieldValue, ...]:
    return tuple(v for v in (_value(item) for item in raw) if v is not None)


def card_from_dict(raw: dict[str, Any]) -> ExperienceCard:
    t = raw["territory"]
    territory = Territory(
        **{k: _value(t.get(k)) for k in ("commune", "intercommunality", "department", "region")},
        qpv=_values(t.get("qpv", [])),
        population=_value(t.get("population")),
        qpv_population=_value(t.get("qpv_population")),
        description=_value(t.get("description")),
    )
    singles = ("summary", "period", "lead", "public", "budget", "contact")
    lists = ("partners", "actions", "funders", "results", "dispositifs")
    plain = {k: v for k, v in raw.items() if k not in (*singles, *lists, "territory", "themes")}
    return ExperienceCard(
        **plain,
        themes=tuple(raw.get("themes", ())),
        territory=territory,
        **{k: _value(raw.get(k)) for k in singles},
        **{k: _values(raw.get(k, [])) for k in lists},
    )
