"""Precedent answers (pure): experiences from cards and pages, with their actions, partners and figures."""

from __future__ import annotations

from composer_support import FICHE, idf, pool_of

from assistant.citations import Claim
from assistant.experiences.records import Evidence, ExperienceCard, FieldValue, Territory
from assistant.generation.composer import compose
from assistant.generation.parts import render_parts
from assistant.generation.question import analyse_question


def test_precedent_answer_names_territory_and_partners_from_the_card() -> None:
    def field(text: str) -> FieldValue:
        start = FICHE.index(text)
        return FieldValue(text, Evidence("d1", start, start + len(text), text))

    card = ExperienceCard(
        doc_id="d1",
        content_hash="",
        title="Mob'Acacias",
        source="f.md",
        territory=Territory(commune=FieldValue("Valbrune-sur-Loire")),
        summary=field("La plateforme accompagne les habitants vers l'emploi."),
        partners=(field("Pôle emploi et Mission locale de Valbrune"),),
    )
    p, pool = pool_of(FICHE, title="Mob'Acacias")
    analysis = analyse_question("Quelles communes ont monté une plateforme mobilité, avec quels partenaires ?")
    text, claims = render_parts(compose(analysis, pool, idf, passages=[p], cards=[(1, card)]), [p])
    assert text.splitlines()[0] == "**Valbrune-sur-Loire — « Mob'Acacias » :**"
    assert "- Pôle emploi et Mission locale de Valbrune [1]" in text
    assert "[1]\n\nPartenaires :\n- " in text  # a label after a list item opens a new paragraph (Markdown)
    assert [c.passage for c in claims] == [1, 1]


def test_a_precedent_from_a_page_keeps_the_line_naming_it_and_its_line_tail() -> None:
    from assistant.generation.parts import line_tails, title_line

    page = (
        "POP-UP dev éco le 16 octobre à Tourcoing,\n"
        "Stands et ateliers : l'objectif est de faire coproduire les entreprises et les habitants du quartier. "
        "Six parcours proposés.\n"
    )
    p, pool = pool_of(page, title="Les acteurs")
    best = next(c for c in pool if c.unit.span.text.startswith("Stands"))
    head = title_line(best, pool)
    assert head is not None and head.unit.span.text.startswith("POP-UP dev éco le 16 octobre à Tourcoing")
    assert [c.unit.span.text for c in line_tails([best], pool)] == ["Six parcours proposés."]
    assert title_line(head, pool) is None
    report = "Introduction : des chiffres et une question\nLa chargée d'études a présenté un état des lieux de l'ESS.\n"
    p, pool = pool_of(report, title="Compte rendu")
    best = next(c for c in pool if c.unit.span.text.startswith("La chargée"))
    assert title_line(best, pool) is None


ACTIONS = (
    "Actions menées\n\n"
    "- Diagnostic mobilité individuel.\n"
    "- Location de vélos à assistance électrique.\n"
    "- Auto-école sociale avec un code adapté.\n"
    "- Navettes vers la zone d'activités aux horaires décalés.\n"
    "- Ateliers collectifs pour lire un plan de réseau.\n"
    "- Permanence administrative le jeudi.\n"
)


def test_a_precedent_gives_up_to_five_actions_of_the_experience_in_document_order() -> None:
    def field(text: str) -> FieldValue:
        start = ACTIONS.index(text)
        return FieldValue(text, Evidence("d1", start, start + len(text), text))

    lines = [line[2:] for line in ACTIONS.splitlines() if line.startswith("- ")]
    card = ExperienceCard(
        doc_id="d1",
        content_hash="",
        title="Pôle mobilité",
        source="f.md",
        territory=Territory(commune=FieldValue("Vergnolles")),
        actions=tuple(field(line) for line in lines),
    )
    p, pool = pool_of(ACTIONS, title="Pôle mobilité")
    analysis = analyse_question("Un exemple de navettes aux horaires décalés pour aller travailler ?")
    parts = compose(analysis, pool, idf, passages=[p], cards=[(1, card)])
    quoted = [x.text for x in parts if isinstance(x, Claim)]
    # the navette action is among them (the one the question asks about), in the document's order
    assert len(quoted) == 5 and "Navettes vers la zone d'activités aux horaires décalés." in quoted
    assert quoted == [line for line in lines if line in quoted]


def test_a_precedent_from_a_report_goes_on_with_the_figures_of_its_paragraph() -> None:
    from assistant.generation.card_answers import figures_after

    report = (
        "La responsable de l'école a présenté sa formation de développeur web de sept mois. "
        "Le recrutement se fait sur la motivation. "
        "Six mois après la fin de la formation, 70 % étaient en emploi. "
        "Trois promotions ont été formées depuis 2022. "
        "Une quatrième est prévue en 2025.\n"
        "En 2023, le séminaire a réuni 40 personnes.\n"
    )
    p, pool = pool_of(report, title="Compte rendu")
    best = next(c for c in pool if c.unit.span.text.startswith("La responsable"))
    # what came of it (figures), two at most, never past the paragraph
    assert [c.unit.span.text for c in figures_after(best, pool, [p])] == [
        "Six mois après la fin de la formation, 70 % étaient en emploi.",
        "Trois promotions ont été formées depuis 2022.",
    ]
    last = next(c for c in pool if c.unit.span.text.startswith("Une quatrième"))
    assert figures_after(last, pool, [p]) == []


def test_a_precedent_from_a_report_brings_the_rest_of_a_chosen_items_short_list() -> None:
    from assistant.generation.card_answers import compose_precedents

    report = (
        "Le témoignage de Valbrune\n\n"
        "La cité de l'emploi de Valbrune a été labellisée fin 2020.\n\n"
        "- **Trois médiateurs emploi** chargés de l'aller-vers dans les quartiers.\n"
        "- **Une cohorte de 320 personnes**, repérées par les partenaires.\n"
        "- **Une réunion hebdomadaire de coordination**, le mardi matin.\n"
    )
    p, pool = pool_of(report, title="Compte rendu")
    analysis = analyse_question("Un exemple de médiateurs emploi qui font de l'aller-vers ?")
    ranked = sorted(((1.0 if "médiateurs" in c.unit.span.text else 0.5, c) for c in pool), key=lambda vc: -vc[0])
    parts = compose_precedents(analysis, [], idf, ranked[:1], [p], pool)
    quoted = [x.text for x in parts if isinstance(x, Claim)]
    assert "**Une cohorte de 320 personnes**, repérées par les partenaires." in quoted
    assert "**Une réunion hebdomadaire de coordination**, le mardi matin." in quoted


def test_a_sentence_found_in_a_passage_and_in_its_whole_document_is_claimed_once() -> None:
    from dataclasses import replace

    report = (
        "Trois expériences présentées\n\n"
        "**Le Comptoir (fictif).** Cette coopérative de traiteur a été créée en 2016 par des femmes du quartier. "
        "Elle emploie 12 salariées.\n\n"
        "**La Fabrique.** Ce tiers-lieu associatif combine un atelier et une cantine.\n"
    )
    p, pool = pool_of(report, title="Compte rendu")
    # the pipeline adds the units of the whole document after the retrieved ones, ranked after them
    pool = [*pool, *(replace(c, rank=6) for c in pool)]
    analysis = analyse_question("Un exemple de coopérative de traiteur créée par des femmes d'un quartier ?")
    text, _ = render_parts(compose(analysis, pool, idf, passages=[p]), [p])
    assert text.count("Cette coopérative de traiteur") == 1
    assert "12 salariées" in text
