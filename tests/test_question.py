"""Question analysis (pure), with literal questions written the way practitioners type."""

from __future__ import annotations

import pytest

from assistant.generation.question import analyse_question, covered, question_detail, question_kind
from assistant.glossary import Glossary, GlossaryEntry
from assistant.retrieval.french import analyze

KINDS = [
    # definitions
    ("Qu'est-ce qu'une Cité de l'emploi ?", "definition"),
    ("c'est quoi un PTCE", "definition"),
    ("Que signifie QPV ?", "definition"),
    ("que veut dire TZCLD", "definition"),
    ("Qu'appelle-t-on une entreprise à but d'emploi ?", "definition"),
    ("définition de l'insertion par l'activité économique", "definition"),
    ("Qu’est-ce que le NPNRU ?", "definition"),
    # how-to
    ("Comment renforcer le pilier développement économique d'un contrat de ville ?", "howto"),
    ("comment mobiliser les pme d'un territoire rural", "howto"),
    ("par où commencer pour monter une foncière commerciale ?", "howto"),
    ("Quelles étapes pour un diagnostic économique de quartier ?", "howto"),
    ("quels leviers pour attirer des commerces en pied d'immeuble", "howto"),
    ("Quels indicateurs suivre pour les clauses sociales ?", "howto"),
    ("que faire pour que les employeurs connaissent les emplois francs", "howto"),
    ("Dans une petite ville le pilier éco peine. Comment le relancer ?", "howto"),
    ("Comment monter une plateforme mobilité ? Des exemples ?", "howto"),
    ("la méthode pour évaluer une action emploi", "howto"),
    ("bonnes pratiques pour associer la Région au contrat de ville", "howto"),
    ("et comment on s'y prend avec les bailleurs ?", "howto"),
    # precedents
    ("Quelles communes ont monté une plateforme mobilité pour l'emploi, et avec quels partenaires ?", "precedent"),
    ("Y a-t-il un exemple de garage solidaire en milieu rural ?", "precedent"),
    ("retour d'expérience d'une ressourcerie dans un ancien supermarché", "precedent"),
    ("des formations au code qui marchent pour les jeunes des QPV ?", "precedent"),
    ("des clauses d'insertion qui ont fonctionné dans un petit marché public ?", "precedent"),
    ("un bailleur qui a reconverti ses locaux vides, ça existe ?", "precedent"),
    ("Quelqu'un a déjà monté une CAE pour des artisans ?", "precedent"),
    ("Des territoires ont-ils testé des places en crèche réservées ?", "precedent"),
    ("exemples de cité de l'emploi qui fait de l'aller-vers", "precedent"),
    ("Quelles villes ont créé une conciergerie solidaire ?", "precedent"),
    ("un cas documenté de SCIC de restauration créée par des habitantes ?", "precedent"),
    ("Y a-t-il eu un forum dans le Nord avec des entrepreneurs ?", "precedent"),
    ("Quels territoires ont mis en place une navette vers une zone logistique ?", "precedent"),
    ("Existe-t-il des expériences de couveuse couplée à une CAE ?", "precedent"),
    # funding and partners
    ("et qui finance ?", "funding"),
    ("Qui finance la plateforme Mob'Acacias ?", "funding"),
    ("quels financements pour une cité de l'emploi", "funding"),
    ("Quels sont les financeurs du PLIE ?", "funding"),
    ("la ressourcerie est financée par qui ?", "funding"),
    ("Quels sont les partenaires de la régie de quartier ?", "partners"),
    ("avec qui travaille le pôle mobilité de Vergnolles ?", "partners"),
    ("et les partenaires ?", "partners"),
    # comparison
    ("Quelle différence entre un ACI et une association intermédiaire ?", "comparison"),
    ("comparer les plateformes mobilité de Valbrune et de Vergnolles", "comparison"),
    ("emplois francs par rapport aux clauses d'insertion : que choisir ?", "comparison"),
    # lists
    ("Quels sont les dispositifs de la politique de la ville pour l'emploi ?", "list"),
    ("liste des structures d'insertion de Saint-Aurel", "list"),
    # facts
    ("Quel est le budget de la plateforme mobilité de Valbrune ?", "fact"),
    ("combien de salariés en CDI à l'Atelier des Forges fin 2023 ?", "fact"),
    ("Quand et où a été lancée la Coordination nationale citoyenne des quartiers ?", "fact"),
    ("Combien la Banque des Territoires a mis dans l'étude de la pépinière ?", "fact"),
    ("quel taux de chômage aux Garrigues ?", "fact"),
    ("Quelle publication a capitalisé le premier cycle de qualification ?", "fact"),
    ("Le forum Cités Cap, c'est organisé par qui ?", "fact"),
    ("tarif horaire de la main d'oeuvre au garage solidaire ?", "fact"),
    ("Combien a coûté le PLIE du Pays de Hautefort en 2020 ?", "fact"),
    ("À quelle date a été signée la convention NPNRU ?", "fact"),
    ("Enveloppe totale de l'appel à projets Quartiers actifs 2025 ?", "fact"),
    ("combien de personnes ont eu un diagnostic mobilité à Vergnolles en 2021 ?", "fact"),
    ("Qui porte la cité de l'emploi de Rivebelle ?", "fact"),
    ("Depuis quand existe le Club dev éco ?", "fact"),
    ("Quelle part du budget vient du FSE ?", "fact"),
    ("Combien de tonnes la ressourcerie a-t-elle revendues ?", "fact"),
]


@pytest.mark.parametrize(("question", "kind"), KINDS)
def test_question_kind(question: str, kind: str) -> None:
    assert question_kind(question) == kind


def test_at_least_sixty_literal_questions() -> None:
    assert len(KINDS) >= 60


@pytest.mark.parametrize(
    ("question", "detail"),
    [
        ("Quel est le budget de la plateforme mobilité de Valbrune ?", "amount"),
        ("combien de salariés en CDI à l'Atelier des Forges fin 2023 ?", "count"),
        ("À quelle date a été signée la convention NPNRU ?", "date"),
        ("Depuis quand existe le Club dev éco ?", "date"),
        ("quel taux de chômage aux Garrigues ?", "figure"),
        ("Quelle publication a capitalisé le premier cycle de qualification ?", "name"),
        ("Qui porte la cité de l'emploi de Rivebelle ?", "name"),
        ("Combien a coûté le PLIE du Pays de Hautefort en 2020 ?", "amount"),
        ("tarif horaire de la main d'oeuvre au garage solidaire ?", "amount"),
    ],
)
def test_fact_detail(question: str, detail: str) -> None:
    assert question_detail(question) == detail


def test_focus_leaves_out_asking_and_kind_words() -> None:
    analysis = analyse_question(
        "Quelles communes ont monté une plateforme mobilité pour l'emploi, et avec quels partenaires ?"
    )
    assert analysis.kind == "precedent"
    assert "partners" in analysis.also
    assert analysis.topic == {"plateform", "mobilit", "emploi"}


def test_focus_budget_is_covered_by_its_other_forms() -> None:
    (budget,) = [t for t in analyse_question("Quel est le budget de Mob'Acacias ?").focus if t.word == "budget"]
    assert {"financ", "cout", "euros"} <= budget.forms


def test_focus_acronym_is_covered_by_its_glossary_expansion() -> None:
    glossary = Glossary(
        [
            GlossaryEntry(
                "TZCLD", "Territoire zéro chômeur de longue durée", "Expérimentation…", ("territoires zéro chômeur",)
            )
        ]
    )
    analysis = analyse_question("Quels résultats pour TZCLD à Saint-Aurel ?", glossary)
    (acronym,) = [t for t in analysis.focus if t.word == "tzcld"]
    assert covered(acronym, frozenset(analyze("Les territoires zéro chômeur de Saint-Aurel")))
    assert not covered(acronym, frozenset(analyze("Un chômeur de Saint-Aurel")))  # one word of it is not it
    assert analysis.glossary_terms == ("TZCLD",)
    (written,) = [t for t in analyse_question("Des territoires zéro chômeur ?", glossary).focus if t.word == "chomeur"]
    assert covered(written, frozenset({"tzcld"}))  # and the acronym stands for each word written out


def test_a_question_naming_no_topic_has_no_focus() -> None:
    assert analyse_question("et qui finance ?").focus == ()


def test_what_a_count_or_a_rate_is_of() -> None:
    from assistant.generation.question import head_complement, head_word

    assert head_word("combien de personnes ont eu un diagnostic mobilité et avec quel budget ?") == "personnes"
    assert head_word("Quel loyer paie la coopérative ?") == "loyer"
    assert head_word("Combien a coûté le PLIE en 2020 et quelle part vient du FSE ?") is None
    assert head_complement("quel est le taux de chômage à Port-Ravel ?") == "chômage"
    assert head_complement("Quel est le budget 2022 de la cité de l'emploi ?") is None


def test_a_later_clause_asks_a_detail_of_its_own() -> None:
    from assistant.generation.question import question_parts

    (boxes,) = question_parts("Combien Bpifrance met dans « Ose ta boîte » et combien de boites créées en 2021 ?")
    assert (boxes.detail, {"boit", "entrepris"} <= boxes.head) == ("count", True)
    (total,) = question_parts("combien la Région finance Mob'Acacias, budget total ?")
    assert (total.text, total.detail) == ("budget total", "amount")
    (where,) = question_parts("Combien de séances pour la formation-action, et où ?")
    assert where.detail == "place" and where.focus == ()
    (firms,) = question_parts("Combien le fonds a-t-il collecté et auprès de combien d'entreprises ?")
    assert firms.text == "combien d'entreprises" and "entrepris" in firms.head
    assert question_parts("Quel est le loyer des locaux rénovés dans les quartiers, en pied d'immeuble ?") == ()
    assert analyse_question("Combien de séances, et où ?").parts[0].detail == "place"
    assert analyse_question("Comment monter une foncière, et avec qui ?").parts == ()  # how-to: no fact parts


@pytest.mark.parametrize(
    ("question", "detail"),
    [
        ("Combien Bpifrance met dans « Ose ta boîte » ?", "amount"),
        ("Combien le fonds de dotation a-t-il collecté en 2021 ?", "amount"),
        ("Combien de personnes ont été financées ?", "count"),
    ],
)
def test_how_much_someone_puts_in_is_an_amount(question: str, detail: str) -> None:
    assert question_detail(question) == detail


def test_short_forms_practitioners_type_are_covered_by_the_words_documents_write() -> None:
    focus = {t.word: t.forms for t in analyse_question("changer l'image auprès des agences immo et de la comcom").focus}
    assert "immobili" in focus["immo"] and "communaut" in focus["comcom"]
    assert "aupr" not in focus


def test_what_an_activity_earns_is_an_amount_of_its_own() -> None:
    analysis = analyse_question("Quel est le chiffre d'affaires 2023 de la boutique à l'essai ?")
    assert (analysis.detail, analysis.head) == ("amount", frozenset({"chiffr", "affair"}))


def test_how_much_comes_from_a_funder_asks_an_amount() -> None:
    assert question_detail("et combien vient du conseil départemental ?") == "amount"
    assert question_detail("combien provient de la Région ?") == "amount"
    assert question_detail("combien de personnes viennent du quartier ?") == "count"


def test_set_phrases_say_how_the_question_is_asked_not_what_it_is_about() -> None:
    focus = analyse_question("Comment aborder le numérique dans les projets sans en faire une fin en soi ?").focus
    assert [t.word for t in focus] == ["abord", "numer", "projet"]
    assert [t.word for t in analyse_question("Comment relancer le commerce concrètement, pas à pas ?").focus] == [
        "relanc",
        "commerc",
    ]
    # « fin » is a subject when it is not in the set phrase
    assert "fin" in [t.word for t in analyse_question("Quand prend fin le contrat de ville ?").focus]


@pytest.mark.parametrize(
    ("question", "areas"),
    [
        ("Y a-t-il eu un forum dans le Nord pour les entrepreneurs ?", ("Nord",)),
        ("une plateforme mobilité en Bretagne, ça existe ?", ("Bretagne",)),
        ("Des exemples dans les Hauts-de-France ou en Île-de-France ?", ("Hauts-de-France", "Île-de-France")),
        ("En Seine-Saint-Denis, des chantiers d'insertion ?", ("Seine-Saint-Denis",)),
        ("une régie de quartier en QPV à Lyon ?", ()),  # an acronym, a town: no area
        ("Quel budget en 2021 dans le quartier des Acacias ?", ()),
    ],
)
def test_the_area_a_question_names_as_its_scope(question: str, areas: tuple[str, ...]) -> None:
    assert analyse_question(question).areas == areas


def test_the_words_of_a_term_written_out_do_not_cover_one_another() -> None:
    glossary = Glossary(
        [
            GlossaryEntry(
                "pilier développement économique",
                "pilier « développement économique » des contrats de ville",
                "L'un des trois piliers…",
                ("PDE",),
            )
        ]
    )
    analysis = analyse_question("Comment renforcer le pilier développement économique ?", glossary)
    (pillar,) = [t for t in analysis.focus if t.word == "pili"]
    assert "vill" not in pillar.forms and "contrat" not in pillar.forms
    assert "pde" in pillar.forms  # the acronym still stands for each word, and each word for it
