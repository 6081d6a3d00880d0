"""Words as the checker compares them (pure, literal words)."""

from __future__ import annotations

from assistant.wording import contradicts, term_of, tokenize


def test_verb_forms_and_synonyms_meet():
    assert term_of("obtenus") == term_of("obtenir")
    assert term_of("résident") == term_of("résidaient")
    assert term_of("recrutés") == term_of("embauchés")
    assert term_of("versée") == term_of("apporte")


def test_negations_and_prepositions_are_not_terms_but_stay_tokens():
    assert term_of("sans") is None and term_of("aucun") is None and term_of("entre") is None
    assert term_of("entreprise") is not None  # « entre » does not hide it
    assert [t.text for t in tokenize("sans 312 000 €")] == ["sans", "312 000 €"]


def test_opposites_contradict():
    terms = lambda text: frozenset(t.term for t in tokenize(text) if t.term)  # noqa: E731
    assert contradicts(terms("Les impayés sont élevés."), terms("Les impayés restent faibles."))
    assert contradicts(terms("Un investisseur public s'engage."), terms("Aucun investisseur privé ne s'engage."))
    assert not contradicts(terms("Les impayés restent faibles."), terms("Les impayés restent faibles."))
