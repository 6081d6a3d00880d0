"""Text comparison for answer metrics (pure): ignore case, accents and apostrophe style."""

from __future__ import annotations

import re
import unicodedata


def normalize_for_match(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'").replace("œ", "oe")
    return re.sub(r"\s+", " ", text).strip()


def contains_fact(text: str, fact: str) -> bool:
    """True when ``fact`` occurs in ``text``, ignoring case, accents, apostrophe style and spacing."""
    return normalize_for_match(fact) in normalize_for_match(text)
