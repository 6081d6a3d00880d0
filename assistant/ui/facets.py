"""Filter choices from the indexed documents, and the Filters a selection means (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from assistant.retrieval.filters import Filters
from assistant.ui.safe_text import escape_markdown

# metadata keys offered as filters, with their French labels, in display order
FACETS: dict[str, str] = {
    "organisation": "Organisation",
    "type": "Type de document",
    "territory": "Territoire",
    "region": "Région",
    "themes": "Thèmes",
    "format": "Format",
}


def facet_choices(metadatas: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """For each facet, the values the index holds, sorted; list values (themes) count each item."""
    choices: dict[str, set[str]] = {key: set() for key in FACETS}
    for meta in metadatas:
        for key in FACETS:
            value = meta.get(key)
            items = value if isinstance(value, list) else [value] if value not in (None, "") else []
            choices[key].update(str(v) for v in items)
    return {key: sorted(values, key=str.casefold) for key, values in choices.items()}


def year_choices(metadatas: Sequence[Mapping[str, Any]]) -> list[str]:
    """The years documents are dated, in order (the choices of the year bounds)."""
    return [str(y) for y in sorted({int(m["year"]) for m in metadatas if isinstance(m.get("year"), int)})]


def build_filters(
    selected: Mapping[str, Sequence[str] | None],
    year_from: str | int | None,
    year_to: str | int | None,
    *,
    recent_first: bool = False,
) -> Filters:
    """The Filters of a form: empty facets and empty years are no filter; reversed years are swapped;
    ``recent_first`` (the « Sources récentes d'abord » box) travels with them."""
    values = {key: tuple(v) for key, v in selected.items() if v}
    low = int(year_from) if year_from not in (None, "") else None
    high = int(year_to) if year_to not in (None, "") else None
    if low is not None and high is not None and low > high:
        low, high = high, low
    return Filters(values, low, high, recent_first=bool(recent_first))


def describe_filters(filters: Filters) -> str:
    """French markdown for the "active filters" line."""
    order = " · sources récentes d'abord" if filters.recent_first else ""
    if not filters:
        return "**Filtres actifs :** aucun — toute la base documentaire" + (order or ".")
    # values are document metadata (an organisation's name…): shown as written, never as markup
    parts = [
        f"{FACETS.get(key, key)} : {escape_markdown(' ou '.join(map(str, values)))}"
        for key, values in filters.values.items()
    ]
    if filters.year_min is not None and filters.year_max is not None:
        parts.append(f"années {filters.year_min}–{filters.year_max}")
    elif filters.year_min is not None:
        parts.append(f"à partir de {filters.year_min}")
    elif filters.year_max is not None:
        parts.append(f"jusqu'à {filters.year_max}")
    return "**Filtres actifs :** " + " · ".join(parts) + order
