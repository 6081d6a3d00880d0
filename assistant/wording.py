"""Words of a French text as the citation checker compares them (pure): tokens, terms, synonyms, fillers.

A term is a word's stem cut to five letters (the French stemmer leaves many verb forms apart); a few synonym
groups read as one word; values (``assistant.values``) are one token however they are written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from assistant.negation import LOCAL, STRONG, Clause
from assistant.retrieval.french import analyze, fold_accents
from assistant.values import Value, extract_values

_TOKEN = re.compile(r"\w+|[^\w\s]")
CLAUSE_END = set(',;:.!?()[]«»"—–') | {"mais"}
# prepositions the stopword list keeps (compared as whole words: « entre » must not hide « entreprise »)
_FUNCTION_WORDS = {
    "entre", "depuis", "avant", "apres", "pendant", "parmi", "vers", "selon", "environ", "chaque",
    "si", "bien", "donc", "car", "puisque", "afin", "cependant", "toutefois", "neanmoins", "pourtant",
}  # fmt: skip
# words a faithful paraphrase swaps freely; each group reads as its first word
_SYNONYMS = (
    ("recruter", "embaucher", "embauche", "recrutement", "recrutés", "embauchés"),
    ("habiter", "vivre", "habitent", "habitaient"),
    ("réaliser", "conduire", "mener", "effectuer"),
    ("apporter", "verser", "financer", "contribuer", "cofinancer", "financement", "contribution"),
    ("élever", "atteindre", "monter", "représenter", "totaliser"),
    ("réunir", "rassembler", "regrouper", "associer"),
    ("augmenter", "progresser", "croître", "hausse", "progression", "augmentation"),
    ("diminuer", "baisser", "tomber", "reculer", "baisse"),
    ("créer", "fonder", "création"),
    ("ouvrir", "ouverture", "ouvert"),
    ("obtenir", "décrocher", "obtention"),
    ("entreprise", "société"),
    ("estimer", "évaluer", "juger", "considérer"),
    ("budget", "coût", "coûter", "coûté", "dépense"),
)
# verbs and fillers a paraphrase adds or drops without changing the fact (« s'élève à », « à hauteur de »)
LIGHT = frozenset(
    analyze(word)[0][:5]
    for word in (
        "élever atteindre représenter compter disposer hauteur environ selon figurer devoir pouvoir total montant "
        "ensemble également notamment aujourd'hui rapporter dérouler opération projet dispositif démarche"
    ).split()
)


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    term: str | None = None  # analysed content word, None for stopwords and punctuation
    value: Value | None = None

    @property
    def clause_end(self) -> bool:
        return self.value is None and fold_accents(self.text) in CLAUSE_END


@lru_cache(maxsize=65536)
def term_of(word: str) -> str | None:
    """The compared form of one word: its stem cut to five letters (the French stemmer leaves many verb
    forms apart: « obtenus » / « obtenir », « résident » / « résidaient »), a synonym read as its group's
    first word; None for a stopword or a negation word (negations are compared apart)."""
    folded = fold_accents(word)
    if folded in STRONG or folded in LOCAL or folded in _FUNCTION_WORDS:
        return None
    terms = analyze(word)
    if not terms:
        return None
    term = terms[0][:5]
    return _synonym_table().get(term, term)


@lru_cache(maxsize=1)
def _synonym_table() -> dict[str, str]:
    table = {}
    for group in _SYNONYMS:
        head = analyze(group[0])[0][:5]
        for word in group:
            for term in analyze(word):
                table[term[:5]] = head
    return table


def tokenize(text: str) -> list[Token]:
    """Words, punctuation and values of ``text`` in order; a value is one token however it is written."""
    tokens: list[Token] = []
    position = 0
    for value in extract_values(text):
        tokens += _words(text, position, value.start)
        tokens.append(Token(text[value.start : value.end], value.start, value=value))
        position = value.end
    tokens += _words(text, position, len(text))
    return tokens


def _words(text: str, start: int, end: int) -> list[Token]:
    return [
        Token(m.group(0), start + m.start(), term_of(m.group(0)) if m.group(0)[0].isalnum() else None)
        for m in _TOKEN.finditer(text[start:end])
    ]


def clauses(tokens: Sequence[Token]) -> list[Clause]:
    """The (folded word, term) pairs of each clause of ``tokens``, for ``assistant.negation``."""
    found: list[list[tuple[str, str | None]]] = [[]]
    for token in tokens:
        if token.clause_end:
            found.append([])
        elif token.value is None:
            found[-1].append((fold_accents(token.text), token.term))
    return [c for c in found if c]


# words that say the opposite of each other: a sentence using one where its source uses the other contradicts it
_OPPOSITES = (
    ("augmenter", "diminuer"), ("élevé", "faible"), ("fort", "faible"), ("supérieur", "inférieur"),
    ("majoritaire", "minoritaire"), ("positif", "négatif"), ("réussite", "échec"),
    ("accepter", "refuser"), ("facile", "difficile"), ("public", "privé"),
    ("urbain", "rural"), ("gratuit", "payant"), ("homme", "femme"),
    ("salarié", "bénévole"), ("croissance", "recul"), ("excédent", "déficit"), ("amélioration", "dégradation"),
)  # fmt: skip


@lru_cache(maxsize=1)
def _opposite_terms() -> tuple[tuple[str, str], ...]:
    return tuple((a, b) for x, y in _OPPOSITES if (a := term_of(x)) and (b := term_of(y)) and a != b)


def contradicts(sentence_terms: frozenset[str], source_terms: frozenset[str]) -> bool:
    """Whether the sentence uses a word whose opposite the source uses instead (« élevés » for « faibles »)."""
    for a, b in _opposite_terms():
        for said, other in ((a, b), (b, a)):
            if said in sentence_terms and said not in source_terms and other in source_terms:
                return True
    return False
