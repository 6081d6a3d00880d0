"""The attach rule (pure, literal passages): meaning read where words differ, refused where one fact differs."""

from __future__ import annotations

import numpy as np

from assistant.claims import (
    best_passage_support,
    embedding_similarity,
    support_in_passage,
)
from assistant.glossary import Glossary, GlossaryEntry
from assistant.types import Chunk, Hit, Passage

GLOSSARY = Glossary(
    [
        GlossaryEntry("FSE", "Fonds social européen", "Fonds européen."),
        GlossaryEntry(
            "QPV", "quartier prioritaire de la politique de la ville", "Quartier.", ("quartier prioritaire",)
        ),
    ]
)


def idf(term: str) -> float:
    return 1.0


def passage(number: int, text: str, title: str = "Mob'Acacias : une plateforme mobilité") -> Passage:
    metadata = {"title": title, "territory": "Valbrune-sur-Loire", "source": "x.md"}
    chunk = Chunk(f"c{number}", f"d{number}", 0, text, 0, len(text), None, (), metadata)
    return Passage(number, Hit(chunk, 1.0), text, 0, len(text))


RESULTS = passage(
    1,
    "## Résultats\n\nEn 2022, 486 personnes ont été accompagnées, dont 61 % résident dans un quartier prioritaire. "
    "La plateforme a conduit 212 diagnostics mobilité et 74 permis B ont été obtenus.",
)
BUDGET = passage(
    2,
    "## Budget et financements\n\nBudget 2022 : 312 000 euros.\n\n- Valbrune Loire Agglomération : 98 000 €\n"
    "- Conseil départemental : 40 000 €\n- Fonds social européen : 35 000 €",
)
SHARES = passage(
    3,
    "La chargée d'études a présenté un état des lieux : l'ESS représente 11 % de l'emploi salarié de "
    "l'agglomération, mais 19 % des emplois salariés localisés dans les quartiers prioritaires.",
    title="L'ESS dans les quartiers",
)
RULES = passage(
    4,
    "Les activités ont été choisies pour répondre à un besoin du territoire non couvert et ne concurrencer aucune "
    "entreprise existante. Les salariés sont embauchés en CDI, au SMIC.",
    title="Entreprise à but d'emploi",
)


def attached(sentence: str, *passages: Passage) -> int | None:
    support = best_passage_support(sentence, passages or (RESULTS, BUDGET, SHARES, RULES), idf, glossary=GLOSSARY)
    return support.passage if support else None


def test_faithful_paraphrases_are_attached_to_their_passage():
    assert attached("Le budget 2022 de la plateforme s'élève à 312 k€.") == 2
    assert attached("En 2022, la plateforme disposait d'un budget de 312\u202f000 €.") == 2
    assert attached("En 2022, 61 % des 486 personnes accompagnées résidaient en QPV.") == 1
    assert attached("Le FSE a apporté 35 000 euros.") == 2
    assert attached("Dans les quartiers prioritaires, l'ESS pèse 19 % des emplois salariés.") == 3
    assert attached("Les salariés sont recrutés en CDI au SMIC.") == 4


def test_a_changed_number_date_or_amount_is_refused():
    assert attached("Le budget 2022 de la plateforme s'élève à 321 000 euros.") is None
    assert attached("En 2021, 486 personnes ont été accompagnées.") is None
    assert attached("En 2022, 468 personnes ont été accompagnées.") is None


def test_a_value_is_never_rescued_by_another_sentence_or_another_quantity():
    # 74 exists in the passage, but as permits, not as a share of residents
    assert (
        attached("En 2022, 486 personnes ont été accompagnées, dont 74 % résident dans un quartier prioritaire.")
        is None
    )
    assert attached("La plateforme a conduit 212 diagnostics mobilité et 486 permis B ont été obtenus.") is None
    # 19 % is the quarters' share, 11 % the agglomeration's
    assert attached("L'ESS représente 19 % de l'emploi salarié de l'agglomération.") is None


def test_a_changed_organisation_or_territory_is_refused():
    assert attached("Le Conseil départemental a apporté 98 000 € au budget.") is None
    assert attached("La Région Occitanie a apporté 98 000 € au budget.") is None
    assert attached("Valbrune Loire Agglomération a apporté 98 000 € au budget.") == 2


def test_negations_must_agree():
    assert (
        attached("Les activités répondent à un besoin non couvert sans concurrencer les entreprises existantes.") == 4
    )
    assert (
        attached("Les activités répondent à un besoin non couvert, quitte à concurrencer des entreprises existantes.")
        is None
    )
    assert attached("Les salariés ne sont pas embauchés en CDI.") is None


def test_an_unrelated_sentence_is_left_without_source():
    assert attached("La plateforme propose un service de covoiturage le dimanche.") is None


def test_similarity_can_confirm_a_loosely_worded_paraphrase_but_never_a_changed_value():
    sentence = "Deux cent douze bilans de mobilité ont été menés par la structure."
    assert support_in_passage(sentence, RESULTS, idf) is None
    always = embedding_similarity(lambda texts: np.array([[1.0, 0.0]] * len(texts)))
    assert support_in_passage(sentence, RESULTS, idf, similarity=lambda s, e: [0.99]) is not None
    assert always("a", ["b"]) == [1.0]
    changed = "Deux cent vingt bilans de mobilité ont été menés par la structure."
    assert support_in_passage(changed, RESULTS, idf, similarity=lambda s, e: [0.99]) is None
