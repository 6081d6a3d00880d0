"""French text analysis for the keyword index: fold accents, drop stopwords, stem.

Accents are folded *before* stemming so that a query typed without accents
("developpement economique") yields exactly the stems of the accented text. Folding
turns the feminine participle "-ée(s)" into "-ee(s)", which the stemmer does not
know ("financee" -> "finance" but "finance" -> "financ"): it is shortened to "-e(s)"
first, so "financée", "financé" and "finance" meet.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_FRENCH

_WORD = re.compile(r"\w\w+", re.UNICODE)
_FOLDED_FEMININE = re.compile(r"ee(s?)$")
# saved with keyword indexes: an index analysed differently is rebuilt, not searched with other terms
# (3: each chunk is indexed with its neighbours, see retrieval/windows.py)
ANALYZER_VERSION = 3
# Elided articles ("l'", "d'", "qu'") are dropped by the 2-letter minimum, except "qu".
_EXTRA_STOPWORDS = {"qu", "cette", "ces", "cet", "dont", "comme", "ainsi", "aussi", "tres", "plus"}


def fold_accents(text: str) -> str:
    """Lower-case and strip diacritics: "Économie" -> "economie"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("œ", "oe").replace("æ", "ae")


_STOPWORDS = frozenset(fold_accents(w) for w in STOPWORDS_FRENCH) | _EXTRA_STOPWORDS


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("french")


def analyze(text: str) -> list[str]:
    """Return the index terms of a French text, in order (duplicates kept for term frequency)."""
    words = [_FOLDED_FEMININE.sub(r"e\1", w) for w in _WORD.findall(fold_accents(text)) if w not in _STOPWORDS]
    return _stemmer().stemWords(words)
