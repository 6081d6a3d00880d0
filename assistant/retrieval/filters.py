"""Metadata filters (pure): one record, translated to a Chroma ``where`` and to a predicate.

Keys are document metadata keys (organisation, type, territory, region, format,
themes, or any key of a front matter or sidecar); several values for one key
mean "any of them"; ``year_min`` / ``year_max`` bound the document's year.
``recent_first`` filters nothing: it asks the search to rank recent sources first (the user's option).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# metadata given as lists in front matter or sidecars ("themes: [emploi, ESS]")
LIST_KEYS = frozenset({"themes"})


@dataclass(frozen=True)
class Filters:
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    year_min: int | None = None
    year_max: int | None = None
    recent_first: bool = False  # a ranking option, not a filter: it narrows nothing, so __bool__ ignores it

    def __bool__(self) -> bool:
        return bool(self.values) or self.year_min is not None or self.year_max is not None

    @classmethod
    def parse(cls, pairs: list[str]) -> Filters:
        """From CLI ``key=value`` strings; ``year=2019-2023``, ``year=2020``, ``year>=2019`` bound the year."""
        values: dict[str, list[str]] = {}
        year_min = year_max = None
        for pair in pairs:
            if ">=" in pair and pair.split(">=")[0].strip() == "year":
                year_min = int(pair.split(">=")[1])
                continue
            if "<=" in pair and pair.split("<=")[0].strip() == "year":
                year_max = int(pair.split("<=")[1])
                continue
            key, sep, value = pair.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise ValueError(f"filtre « {pair} » invalide : attendu clé=valeur, par exemple organisation=ANCT")
            key, value = key.strip().lower(), value.strip()
            if key == "year":
                low, _, high = value.partition("-")
                year_min, year_max = int(low), int(high or low)
            else:
                values.setdefault(key, []).append(value)
        return cls({k: tuple(v) for k, v in values.items()}, year_min, year_max)

    def describe(self) -> str:
        """French one-liner for the user: which filters are active."""
        parts = [f"{k} : {' ou '.join(v)}" for k, v in self.values.items()]
        if self.year_min is not None or self.year_max is not None:
            parts.append(f"années {self.year_min or '…'}–{self.year_max or '…'}")
        if self.recent_first:
            parts.append("sources récentes d'abord")
        return " · ".join(parts)


def _coerce(value: str) -> str | int | bool:
    # metadata keeps YAML types: "fictional=true" must compare with True, "year=2020" with 2020
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    return int(value) if value.isdigit() else value


def _clause(key: str, raw: tuple[str, ...]) -> dict[str, Any]:
    options = [_coerce(v) for v in raw]
    if key in LIST_KEYS:
        ors = [{key: {"$contains": v}} for v in options]
        return ors[0] if len(ors) == 1 else {"$or": ors}
    return {key: options[0]} if len(options) == 1 else {key: {"$in": options}}


def to_where(filters: Filters) -> dict[str, Any] | None:
    """Chroma ``where`` clause, or None when nothing is filtered."""
    clauses = [_clause(k, v) for k, v in filters.values.items() if v]
    if filters.year_min is not None:
        clauses.append({"year": {"$gte": filters.year_min}})
    if filters.year_max is not None:
        clauses.append({"year": {"$lte": filters.year_max}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def matches(filters: Filters, metadata: Mapping[str, Any]) -> bool:
    """The same rule as ``to_where``, for rankings that cannot filter themselves (keyword index)."""
    for key, raw in filters.values.items():
        options = [_coerce(v) for v in raw]
        value = metadata.get(key)
        if isinstance(value, list):
            if not any(v in value for v in options):
                return False
        elif value not in options:
            return False
    year = metadata.get("year")
    if filters.year_min is not None and (year is None or year < filters.year_min):
        return False
    return not (filters.year_max is not None and (year is None or year > filters.year_max))
