"""Near misses: the asked detail (a count, a name in a role, a budget of a thing) must be given by a unit
about the subject asked, and a name of several words must be in the material as a whole."""

from __future__ import annotations

from refusal_support import assess_sentences

from assistant.generation.refusal import count_values, owner_word, role_forms


def _assess(question: str, documents: list[list[str]]):
    return assess_sentences(question, documents)


def test_a_count_is_a_number_that_counts_and_that_the_question_does_not_give() -> None:
    assert count_values("Le 15 mars 2018, pour 30 personnes ; 38 % des autres ; douze salariés") == ["30", "douze"]
    asked = "Combien des 30 personnes de la Passerelle sont en CDI ?"
    material = [["La Passerelle a accueilli 30 personnes, validée le 15 mars 2018."]]
    assert not _assess(asked, material).answerable
    answered = [["La Passerelle a accueilli 30 personnes ; 12 personnes sont en CDI."]]
    assert _assess(asked, answered).answerable


def test_who_holds_a_role_needs_a_unit_naming_the_role() -> None:
    assert {"directeur", "dirig"} <= role_forms("Qui dirige la régie de quartier ?")
    assert role_forms("Qui a écrit ce rapport ?") == frozenset()
    asked = "Qui dirige la régie de quartier Crêts Services ?"
    assert not _assess(asked, [["La régie de quartier Crêts Services emploie 46 salariés."]]).answerable
    named = [["La régie de quartier Crêts Services est dirigée par Mme Aline Durand."]]
    assert _assess(asked, named).answerable


def test_a_name_of_several_words_is_a_name_only_as_a_whole() -> None:
    asked = "Quels services propose un espace France Services ?"
    apart = [["France Travail accueille les demandeurs.", "Les services proposés dans un espace d'accueil."]]
    assert not _assess(asked, apart).answerable
    assert _assess(asked, [["Un espace France Services propose des services d'accueil."]]).answerable


def test_a_budget_is_the_budget_of_the_thing_asked_about() -> None:
    assert owner_word("Quel est le budget 2023 du garage solidaire de la Plaine ?") == "garag"
    assert owner_word("Combien de personnes accompagnées ?") is None
    asked = "Quel est le budget 2023 du garage solidaire de la Plaine ?"
    garage = ["Le garage solidaire de la Plaine répare les voitures.", "Budget de fonctionnement 2020 : 268 500 euros."]
    other = ["La conciergerie solidaire de la Plaine rend des services.", "Budget 2023 : 356 000 €."]
    assert not _assess(asked, [garage, other]).answerable
    assert _assess(asked, [[*garage, "Budget 2023 : 290 000 €."], other]).answerable


def test_an_amount_asked_per_unit_needs_a_unit_stating_it_per_that_unit() -> None:
    from assistant.generation.question import per_unit

    assert per_unit("combien a coûté le chantier-école par stagiaire ?") == "stagiaire"
    assert per_unit("Quel budget, financé par la Région ?") is None
    assert per_unit("Combien coûte la plateforme par an ?") is None  # a budget is yearly unless said otherwise
    asked = "combien a coûté le chantier-école isolation par stagiaire ?"
    total = [["Le chantier-école isolation a coûté 120 000 euros pour douze mois."]]
    assert not _assess(asked, total).answerable
    per = [["Le chantier-école isolation a coûté 120 000 euros, soit 10 000 euros par stagiaire."]]
    assert _assess(asked, per).answerable


def test_a_budget_asked_beside_who_funds_is_a_part_of_its_own() -> None:
    from assistant.generation.question import analyse_question

    analysis = analyse_question("quel est le budget annuel de la crèche Les Petits Mariniers et qui la finance ?")
    assert analysis.kind == "funding"
    assert [p.detail for p in analysis.parts] == ["amount"]
    assert analyse_question("Qui finance la crèche Les Petits Mariniers ?").parts == ()


def test_what_an_activity_earns_is_an_amount_that_must_be_stated() -> None:
    asked = "Quel est le chiffre d'affaires 2023 de la boutique à l'essai des Tilleuls ?"
    near = [["En 2023, la boutique à l'essai des Tilleuls a hébergé 7 créateurs du quartier."]]
    assert not _assess(asked, near).answerable
    stated = [["En 2023, le chiffre d'affaires de la boutique à l'essai des Tilleuls atteint 84 000 €."]]
    assert _assess(asked, stated).answerable
