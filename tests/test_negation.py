"""Negations of a French text and whether two texts agree on them (pure, literal sentences)."""

from __future__ import annotations

from assistant.negation import Polarity, polarities_agree, read_polarity
from assistant.wording import clauses, term_of, tokenize


def polarity(text: str) -> Polarity:
    return read_polarity(clauses(tokenize(text)))


def agree(sentence: str, evidence: str) -> bool:
    terms = lambda text: frozenset(t.term for t in tokenize(text) if t.term)  # noqa: E731
    return polarities_agree(polarity(sentence), terms(sentence), polarity(evidence), terms(evidence))


def test_negation_reading():
    assert polarity("Il n'a pas de permis.").strong
    assert not polarity("Il ne s'est réuni que trois fois.").strong  # « ne … que » restricts
    assert polarity("Permanences sans rendez-vous.").negated == {term_of("rendez")}
    assert not agree("Les salariés sont embauchés.", "Les salariés ne sont pas embauchés.")
    assert agree("Ils ignoraient le dispositif.", "Ils ne connaissaient pas le dispositif.")
    # a word negated in one clause and affirmed, about the same thing, in another
    assert agree(
        "38 % occupaient un emploi durable.", "38 % occupaient un emploi durable, et 41 % étaient sans emploi."
    )
    assert not agree(
        "La direction avait des actions fléchées vers les quartiers.",
        "Les actions relevaient de l'insertion, tandis que la direction n'avait aucune action fléchée.",
    )


def test_negation_words_are_not_dropped_as_stopwords():
    assert polarity("Les activités ne concurrencent aucune entreprise.").strong
    assert polarity("Sans exclusivité.").negated == {term_of("exclusivité")}
    assert polarity("Personne n'a jamais vu ça.").strong
    assert not agree(
        "Les activités concurrencent les entreprises.", "Les activités ne concurrencent aucune entreprise."
    )
    assert agree(
        "Les activités ne font concurrence à aucune entreprise.", "Les activités ne concurrencent aucune entreprise."
    )
