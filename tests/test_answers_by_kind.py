"""End to end on the demo corpus: the chat answers the question asked (offline answerer)."""

from __future__ import annotations

import re

import pytest

from assistant.types import Turn

pytestmark = pytest.mark.slow

MOBILITY = "Quelles communes ont monté une plateforme mobilité pour l'emploi, et avec quels partenaires ?"


def test_precedent_question_names_the_territories_and_their_partners(demo_index) -> None:
    answer = demo_index.assistant.ask(MOBILITY)
    assert not answer.refused
    assert "Valbrune" in answer.text and "Vergnolles" in answer.text
    assert "Mission locale de Valbrune" in answer.text
    assert "Garage associatif Les Mécanos du Crêt" in answer.text
    for citation in answer.citations:
        passage = next(p for p in answer.passages if p.chunk.chunk_id == citation.chunk_id)
        assert citation.quote in passage.text


def test_follow_up_who_funds_gives_the_funders(demo_index) -> None:
    answer = demo_index.assistant.ask("et qui finance ?", [Turn(MOBILITY)])
    assert not answer.refused
    assert "Région Centre-Val de Loire : 55 000 €" in answer.text


def test_new_topic_after_a_mobility_thread_answers_the_new_topic(demo_index) -> None:
    history = [Turn(MOBILITY), Turn("et qui finance ?")]
    answer = demo_index.assistant.ask("Qu'est-ce qu'une Cité de l'emploi ?", history)
    assert not answer.refused
    # singular or plural, as the passage ranked first words it
    assert re.search(r"cités? de l'emploi", answer.text.lower())
    assert "mobilité" not in answer.text.lower()


def test_budget_question_is_answered(demo_index) -> None:
    answer = demo_index.assistant.ask("Quel est le budget de la plateforme mobilité de Valbrune ?")
    assert not answer.refused
    assert answer.text.startswith("Budget 2022 : 312 000 euros.")


def test_a_precedent_in_an_area_no_document_names_gives_the_nearest_and_says_so(demo_index) -> None:
    answer = demo_index.assistant.ask("Un exemple de plateforme mobilité pour l'emploi dans le Morbihan ?")
    assert not answer.refused
    assert answer.text.startswith("Aucun document ne mentionne « Morbihan » ; voici les plus proches :")


def test_a_fact_about_an_area_no_document_names_is_refused(demo_index) -> None:
    assert demo_index.assistant.ask("Quel est le budget de la plateforme mobilité dans le Morbihan ?").refused


def test_follow_up_how_much_comes_from_a_funder_gives_its_line_or_refuses(demo_index) -> None:
    thread = [Turn("Quel est le budget de la plateforme Mob'Acacias ?")]
    answer = demo_index.assistant.ask("et combien vient de la Région ?", thread)
    assert not answer.refused and answer.text.startswith("Région Centre-Val de Loire : 55 000 €")
    assert demo_index.assistant.ask("et combien vient de la Caisse des dépôts ?", thread).refused


def test_an_experience_a_report_presents_past_the_retrieved_passage_is_found(demo_index) -> None:
    answer = demo_index.assistant.ask("Des habitantes qui ont créé une SCIC dans la restauration : un exemple ?")
    assert not answer.refused
    assert "Le Comptoir Champ-Fleuri" in answer.text and "12 salariées" in answer.text


def test_an_acronym_is_answered_by_what_names_it_not_by_a_word_of_its_expansion(demo_index) -> None:
    answer = demo_index.assistant.ask("Quel rôle joue Bpifrance auprès des entreprises des quartiers ?")
    assert not answer.refused
    first_sentence = answer.text.split("[1]")[0]
    assert "Bpifrance" in first_sentence, answer.text[:300]  # not « La Banque des Territoires… » (« banque »)


def test_a_budget_given_in_the_sentence_after_the_one_naming_the_programme_is_answered(demo_index) -> None:
    answer = demo_index.assistant.ask("Quel était le budget du dispositif Ville Vie Vacances à Fontvieille en 2008 ?")
    assert not answer.refused
    assert "41 000 euros" in answer.text
