"""Negations of a French text (pure): which words are said negatively, which affirmatively.

Read clause by clause (a clause ends at punctuation or « mais »). « ne … pas / jamais / rien / plus / aucun », « ni »,
« nullement », « faute de » and words such as « ignorer », « méconnu », « inutile » make a clause negative;
« sans », « non », « rarement », « mal », « peu » negate what follows them in the clause. « ne … que » restricts and
does not negate. The checker compares the two sides of a citation with ``polarities_agree``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

STRONG = {"ne", "n", "pas", "jamais", "rien", "aucun", "aucune", "ni", "guere", "nullement", "faute"}
LOCAL = {"sans", "non", "rarement", "mal", "peu"}
_CLOSERS = {"pas", "jamais", "rien", "aucun", "aucune", "ni", "guere", "plus", "nullement"}
_LEXICAL_NEGATIVE = re.compile(r"^(ignor|mecon|inconn|inutil|impossib)")

Clause = Sequence[tuple[str, str | None]]  # (folded word, compared term or None) of each word of a clause


@dataclass(frozen=True)
class Polarity:
    """How a text says its words: ``negated`` are the first words after a negation, ``negative`` every word said
    negatively, ``affirmed_clauses`` the words of each clause (or clause part) said without negation."""

    negated: frozenset[str]
    negative: frozenset[str]
    affirmed_clauses: tuple[frozenset[str], ...]
    strong: bool  # a « ne … pas »-like negation somewhere


def read_polarity(clauses: Sequence[Clause]) -> Polarity:
    """The polarity of a text given as clauses of (folded word, term) pairs."""
    negated: set[str] = set()
    negative: set[str] = set()
    affirmed: list[frozenset[str]] = []
    strong = False
    for clause in clauses:
        words = [word for word, _ in clause]
        has_ne = "ne" in words or "n" in words
        restrictive = has_ne and ("que" in words or "qu" in words) and not set(words) & (_CLOSERS - {"plus"})
        first_negation = len(clause)
        clause_strong = False
        for i, (word, term) in enumerate(clause):
            if (
                (word in STRONG and not (word in ("ne", "n") and restrictive))
                or (term is not None and _LEXICAL_NEGATIVE.match(word))
                or (word == "plus" and has_ne and not restrictive)
            ):
                clause_strong = True
            elif word not in LOCAL:
                continue
            first_negation = min(first_negation, i)
            following = next((t for _, t in clause[i + 1 :] if t), None)
            if following:
                negated.add(following)
            # what follows a negation in its clause is said negatively (« sans concurrencer les entreprises »)
            negative.update(t for _, t in clause[i + 1 :] if t)
        if clause_strong:
            strong = True
            negative.update(t for _, t in clause if t)
        else:
            affirmed.append(frozenset(t for _, t in clause[:first_negation] if t))
    return Polarity(frozenset(negated), frozenset(negative), tuple(affirmed), strong)


def polarities_agree(
    sentence: Polarity, sentence_terms: frozenset[str], evidence: Polarity, evidence_terms: frozenset[str]
) -> bool:
    """No word negated on one side and affirmed on the other; a negative sentence needs a negative source."""
    if sentence.strong and not evidence.strong:
        return False
    for this, other, other_terms in ((sentence, evidence, evidence_terms), (evidence, sentence, sentence_terms)):
        for term in this.negated & other_terms:
            if term in other.negated or term in other.negative:
                continue
            # also said affirmatively, about the same thing (« un emploi durable … 41 % sans emploi »)
            if any(term in clause and (clause - {term}) & other_terms for clause in this.affirmed_clauses):
                continue
            return False
    return True
