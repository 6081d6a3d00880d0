"""Literal documents and passages shared by the composer tests."""

from __future__ import annotations

from assistant.generation.parts import candidates
from assistant.generation.units import (
    document_units,
    units_in,
)
from assistant.types import Chunk, Hit, Passage


def idf(term: str) -> float:
    return 1.0


def passage(number: int, document: str, start: int, end: int, *, doc_id: str = "d1", **meta: str) -> Passage:
    chunk = Chunk(f"{doc_id}-v-{number:04d}", doc_id, number, document[start:end], start, end, None, (), dict(meta))
    return Passage(number, Hit(chunk, 1.0), document[start:end], start, end)


FICHE = (
    "Mob'Acacias : une plateforme mobilité\n\n"
    "La plateforme accompagne les habitants vers l'emploi. Elle a ouvert en 2019.\n\n"
    "Partenaires\n\n"
    "- Valbrune Loire Agglomération (service développement économique)\n"
    "- Pôle emploi et Mission locale de Valbrune\n\n"
    "Budget et financements\n\n"
    "Budget 2022 : 312 000 euros.\n\n"
    "- Valbrune Loire Agglomération : 98 000 €\n"
    "- Région Centre-Val de Loire : 55 000 €\n"
)


GUIDE = (
    "TITLE: Mobiliser les entreprises\n"
    "SOURCE: https://exemple.org/guide\n\n"
    "Étape 1 — Cartographier les entreprises\n\n"
    "Lister les entreprises de plus de dix salariés autour du quartier.\n\n"
    "Étape 2 — Construire une offre d'engagement graduée\n\n"
    "- accueillir un collégien en stage d'observation de 3e ;\n"
    "- simuler des entretiens d'embauche avec les demandeurs d'emploi du quartier ;\n"
)


def pool_of(document: str, **meta: str):
    p = passage(1, document, 0, len(document), **meta)
    return p, candidates([p], {1: units_in(p, document_units(document))})
