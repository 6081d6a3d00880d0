"""Programme periods a document speaks of (pure): read at ingest, stored as the ``periods`` metadata.

Each label is a glossary term: the glossary says what replaced it and when (``assistant/currency.py``
turns that into the notice beside a citation).
"""

from __future__ import annotations

import re

CURRENT_PERIOD = "Engagements Quartiers 2030"
CONTRATS_2015 = "contrat de ville 2015-2023"

# A period named by a text; each label is a glossary term (the glossary says what replaced it).
_PERIOD_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        CURRENT_PERIOD,
        re.compile(r"quartiers\s+2030|contrats?\s+de\s+ville\s+(?:2024|de\s+nouvelle\s+g[ée]n[ée]ration)", re.I),
    ),
    (
        CONTRATS_2015,
        re.compile(
            r"contrats?\s+de\s+ville\s+(?:\(?\s*)?2015\s*[-–à/]\s*(?:20)?(?:20|22|23)|contrats?\s+de\s+ville\s+de\s+2015",
            re.I,
        ),
    ),
    (
        "NPNRU",
        re.compile(r"\bNPNRU\b|nouveau\s+programme\s+national\s+de\s+re(?:nouvellement|novation)\s+urbaine", re.I),
    ),
    ("PNRU", re.compile(r"(?<![\w-])PNRU\b|(?<!nouveau )programme\s+national\s+de\s+rénovation\s+urbaine", re.I)),
    ("CUCS", re.compile(r"\bCUCS\b|contrats?\s+urbains?\s+de\s+coh[ée]sion\s+sociale", re.I)),
)
_CONTRAT_DE_VILLE = re.compile(r"contrats?\s+de\s+ville", re.I)
PRESENT_FROM = 2024  # the first year of the current frame (Engagements Quartiers 2030)


def document_periods(text: str, year: int | None) -> list[str]:
    """Programme periods a document speaks of, in a fixed order: those it names, and for a bare
    « contrat de ville », the generation of its date (2015-2023, or Quartiers 2030 from 2024).
    A Quartiers 2030 document of 2024 or later that names the 2015-2023 contracts only recalls them."""
    found = {label for label, pattern in _PERIOD_PATTERNS if pattern.search(text)}
    if _CONTRAT_DE_VILLE.search(text) and year is not None and CURRENT_PERIOD not in found:
        if 2015 <= year < PRESENT_FROM:
            found.add(CONTRATS_2015)
        elif year >= PRESENT_FROM:
            found.add(CURRENT_PERIOD)
    if CURRENT_PERIOD in found and year is not None and year >= PRESENT_FROM:
        found.discard(CONTRATS_2015)  # a current contract recalls the one it replaces: that is history
    return [label for label, _ in _PERIOD_PATTERNS if label in found]
