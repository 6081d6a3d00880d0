"""How-to answers (pure): levers and steps gathered by section, paragraphs followed while on the subject."""

from __future__ import annotations

from composer_support import GUIDE, idf, passage, pool_of

from assistant.citations import Claim
from assistant.generation.composer import compose, document_candidates
from assistant.generation.parts import candidates, render_parts
from assistant.generation.question import analyse_question
from assistant.generation.units import (
    document_units,
    units_in,
)
from assistant.glossary import Glossary, GlossaryEntry


def test_howto_gathers_steps_and_items_and_says_they_come_from_a_guide() -> None:
    p, pool = pool_of(GUIDE, title="Mobiliser les entreprises", type="guide méthodologique")
    parts = compose(analyse_question("Comment mobiliser les entreprises du quartier ?"), pool, idf, passages=[p])
    text, claims = render_parts(parts, [p])
    assert text.splitlines()[0] == "Plusieurs leviers ressortent des documents :"
    assert "**D'après le guide « Mobiliser les entreprises » :**" in text
    assert "- Lister les entreprises de plus de dix salariés autour du quartier. [1]" in text
    assert all(GUIDE[c.span.start : c.span.end] == c.span.text for c in claims)


def test_a_section_that_says_what_to_do_counts_for_a_lever_one_that_describes_against() -> None:
    from assistant.generation.howto import heading_role

    assert heading_role("Plan d'actions proposé") > 0
    assert heading_role("Recommandations") > 0
    assert heading_role("Étape 2 : rassembler les données") > 0
    assert heading_role("Constats locaux") < 0
    assert heading_role("Contexte") < 0
    assert heading_role("") == 0


PAGE = (
    "Les plateformes de mobilité accompagnent les habitants vers l'emploi. "
    "Selon le CGET, une plateforme mobilité a deux missions : informer et coordonner. "
    "Le Grand Narbonne ouvre un équipement d'économie sociale.\n\n"
    "Une étude sur la RSE formule onze recommandations.\n"
)


def test_on_a_page_about_many_subjects_the_paragraph_about_the_subject_asked_goes_on() -> None:
    from assistant.generation.howto import continuation

    p, pool = pool_of(PAGE, title="Développement économique")
    analysis = analyse_question("Comment monter une plateforme mobilité ?")
    first = next(c for c in pool if c.unit.span.text.startswith("Les plateformes"))
    following = [c.unit.span.text for c in continuation(analysis, first, pool)]
    assert following == ["Selon le CGET, une plateforme mobilité a deux missions : informer et coordonner."]


def test_a_method_in_steps_is_answered_with_every_step() -> None:
    guide = GUIDE + "\nÉtape 3 — Désigner un interlocuteur unique\n\nUn seul contact, toujours le même, joignable.\n"
    p, pool = pool_of(guide, title="Mobiliser les entreprises", type="guide méthodologique")
    parts = compose(analyse_question("Comment mobiliser les entreprises du quartier ?"), pool, idf, passages=[p])
    text, _ = render_parts(parts, [p])
    assert "Étape 3 — Désigner un interlocuteur unique" in text


def test_a_short_line_that_ends_like_no_sentence_is_no_lever() -> None:
    from assistant.generation.howto import is_title_line

    assert is_title_line("Séminaire du 9 juillet 2019")
    assert is_title_line("Retrouver ici le rapport d'étude")
    assert is_title_line("Voir le communiqué de l’IRDSU à l’issue des journées : il faut dépasser les injonctions !")
    assert not is_title_line("Désigner un interlocuteur unique.")
    assert not is_title_line(
        "Mesurer l'image dès le départ permet de défendre la démarche lorsque les résultats tardent"
    )


LESSONS = (
    "Changer l'image du quartier\n\n"
    "Contexte\n\n"
    "Les agences immobilières déconseillaient le quartier aux entreprises.\n\n"
    "Enseignements\n\n"
    "- Les professionnels de l'immobilier sont une cible prioritaire et souvent négligée.\n"
    "- Mesurer l'image dès le départ permet de défendre la démarche.\n"
)


def test_howto_takes_the_lessons_of_a_second_document_not_only_its_best_sentence() -> None:
    first = passage(1, GUIDE, 0, len(GUIDE), doc_id="d1", title="Mobiliser les entreprises", type="guide")
    second = passage(2, LESSONS, 0, len(LESSONS), doc_id="d2", title="Changer l'image", type="dossier")
    units = {1: units_in(first, document_units(GUIDE)), 2: units_in(second, document_units(LESSONS))}
    pool = candidates([first, second], units)
    documents = document_candidates(
        [first, second], {"d1": tuple(document_units(GUIDE)), "d2": tuple(document_units(LESSONS))}
    )
    analysis = analyse_question("Comment mobiliser les entreprises et les agences immo pour changer l'image ?")
    parts = compose(analysis, pool, idf, passages=[first, second], documents=documents)
    claims = [x.text for x in parts if isinstance(x, Claim)]
    assert "Les professionnels de l'immobilier sont une cible prioritaire et souvent négligée." in claims
    assert "Mesurer l'image dès le départ permet de défendre la démarche." in claims


def test_a_howto_asking_for_examples_keeps_the_line_naming_one() -> None:
    from assistant.generation.howto import example_lines

    page = PAGE + "\nL'exemple de Mobil'Job, la plateforme mobilité d'Alès Agglomération\n\nVoir la vidéo.\n"
    p, pool = pool_of(page, title="Développement économique")
    analysis = analyse_question("Comment monter une plateforme mobilité pour l'emploi ? Des exemples ?")
    assert analysis.kind == "howto" and "precedent" in analysis.also
    assert [c.unit.span.text for c in example_lines(analysis, pool)] == [
        "L'exemple de Mobil'Job, la plateforme mobilité d'Alès Agglomération"
    ]
    assert example_lines(analyse_question("Comment monter une foncière commerciale ?"), pool) == []


ACCOUNT = (
    "Présentation de la formation action\n\n"
    "Les objectifs\n\n"
    "- Rapprocher les développeurs économiques et les équipes de la politique de la ville.\n\n"
    "Le public cible\n\n"
    "La formation action a réuni huit territoires, chacun en binôme : un chef de projet et un développeur.\n\n"
    "Le calendrier\n\n"
    "La formation action s'est déroulée en 5 séances de travail sur neuf mois.\n"
)


def test_a_document_presenting_what_the_question_sets_up_answers_with_how_it_was_set_up() -> None:
    from assistant.generation.question import setting_up

    assert setting_up("Comment organiser une formation-action qui rapproche les équipes ?") == {"format", "action"}
    assert setting_up("Comment renforcer le pilier économique ?") == frozenset()
    p, pool = pool_of(ACCOUNT, title="Présentation de la formation action", type="dossier")
    question = "Comment organiser une formation-action qui rapproche développeurs et équipes ?"
    documents = document_candidates([p], {"d1": tuple(document_units(ACCOUNT))})
    parts = compose(analyse_question(question), pool, idf, passages=[p], documents=documents)
    claims = [x.text for x in parts if isinstance(x, Claim)]
    assert "La formation action s'est déroulée en 5 séances de travail sur neuf mois." in claims
    assert any("binôme" in c for c in claims)


NUMERIC = (
    "Le forum a abordé le numérique sous plusieurs angles. "
    "La politique de la ville mobilise l'ensemble des politiques publiques. "
    "Concernant le numérique, il s'agit d'un outil à s'approprier pour répondre à un problème identifié. "
    "L'enjeu est de passer de la maîtrise d'ouvrage à la maîtrise d'usage des politiques publiques. "
    "Le déjeuner a réuni quarante participants.\n"
)


def test_a_paragraph_about_the_subject_goes_on_while_it_speaks_of_it_up_to_four_sentences() -> None:
    from assistant.generation.howto import continuation

    p, pool = pool_of(NUMERIC, title="Forum")
    analysis = analyse_question("Comment aborder le numérique dans les politiques de la ville ?")
    first = next(c for c in pool if c.unit.span.text.startswith("Le forum"))
    following = [c.unit.span.text for c in continuation(analysis, first, pool)]
    assert following[-1].startswith("L'enjeu est de passer") and len(following) == 3  # not the lunch


def test_a_link_label_is_never_quoted_and_a_title_line_is_no_lever() -> None:
    page = (
        "Télécharger le rapport sur les clauses d'insertion des marchés publics, édition 2014.\n"
        "Dossier de synthèse sur les clauses d'insertion\n"
        "Mutualiser le suivi des clauses d'insertion entre maîtres d'ouvrage avec un facilitateur unique.\n"
    )
    p, pool = pool_of(page, title="Clauses")
    analysis = analyse_question("Comment suivre les clauses d'insertion des marchés publics ?")
    claims = [x.text for x in compose(analysis, pool, idf, passages=[p]) if isinstance(x, Claim)]
    assert claims == [
        "Mutualiser le suivi des clauses d'insertion entre maîtres d'ouvrage avec un facilitateur unique."
    ]


def test_a_howto_setting_up_a_glossary_term_keeps_to_the_units_naming_the_whole_term() -> None:
    glossary = Glossary(
        [
            GlossaryEntry(
                term="plateforme mobilité",
                expansion="plateforme de mobilité",
                definition="Service qui aide les personnes sans moyen de transport à se déplacer vers l'emploi.",
            )
        ]
    )
    question = "Comment monter une plateforme mobilité pour lever les freins à l'emploi ?"
    analysis = analyse_question(question, glossary)
    assert analysis.subject == {"plateform", "mobilit"}
    assert analyse_question(question).subject == {"plateform"}  # no glossary: the head word only
    document = (
        "Mobilité et emploi\n\n"
        "La Plateforme RSE a analysé les stratégies des entreprises et les freins existants à l'emploi.\n\n"
        "Elle a aussi étudié les freins des petites entreprises à la coopération.\n\n"
        "Les missions d'une plateforme mobilité sont d'informer les habitants et de coordonner les acteurs.\n"
    )
    p, pool = pool_of(document, title="Développement économique")
    documents = document_candidates([p], {"d1": tuple(document_units(document))})
    claims = [x.text for x in compose(analysis, pool, idf, passages=[p], documents=documents) if isinstance(x, Claim)]
    assert (
        claims[0]
        == "Les missions d'une plateforme mobilité sont d'informer les habitants et de coordonner les acteurs."
    )
    assert not any("Plateforme RSE" in c for c in claims)
