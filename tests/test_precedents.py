"""Precedent finder (ranking, filters, similar territories) and comparison tables with their exports."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.experiences.compare import MISSING, build_table, match_score, places_named, select_cards
from assistant.experiences.precedents import (
    PrecedentRequest,
    TerritoryProfile,
    card_passes,
    parse_period,
    similarity_reasons,
)
from assistant.experiences.records import Evidence, ExperienceCard, FieldValue, Territory
from assistant.notes.desk import ExperienceDesk
from assistant.notes.export import table_to_csv, table_to_markdown
from assistant.ui.precedents_tab import comparison_html

VALBRUNE = "a-fiche-plateforme-mobilite-valbrune.md"
VERGNOLLES = "b-fiche-plateforme-mobilite-vergnolles.html"
CRECHE = "a-fiche-sans-budget-creche-emploi-breviande.md"


def cited(value: str, start: int = 0, doc_id: str = "d1") -> FieldValue:
    return FieldValue(value, Evidence(doc_id, start, start + len(value), value))


def literal_card(doc_id: str, **fields) -> ExperienceCard:
    return ExperienceCard(
        doc_id=doc_id, content_hash="h", title=f"Expérience {doc_id}", source=f"/c/{doc_id}.md", **fields
    )


AGGLO = literal_card(
    "d1",
    territory=Territory(
        intercommunality=cited("Communauté d'agglomération du Val (fictif)"),
        region=FieldValue("Occitanie"),
        population=cited("52 000 habitants", 50),
        description=cited("Communauté d'agglomération du Val, 52 000 habitants, QPV en centre ancien.", 0),
    ),
    lead=cited("Association Mobilité", 100),
    partners=(cited("Région", 200), cited("Département", 210)),
    budget=cited("Budget 2022 : 100 000 euros", 300),
    budget_eur=100_000,
    start_year=2019,
    end_year=2022,
    themes=("mobilité", "emploi"),
)
METROPOLE = literal_card(
    "d2",
    territory=Territory(
        intercommunality=cited("Bréviande Métropole", 0, "d2"), population=cited("412 000 habitants", 30, "d2")
    ),
    lead=cited("Métropole", 60, "d2"),
    start_year=2023,
    themes=("insertion",),
)


# pure parts -------------------------------------------------------------------------------------------


def test_a_territory_description_is_parsed():
    profile = TerritoryProfile.parse("ville moyenne de 50 000 habitants en Occitanie, QPV en centre ancien")
    assert (profile.inhabitants, profile.region, profile.size_class) == (50_000, "Occitanie", "ville moyenne")
    assert profile.neighbourhoods == ("centre ancien",) and profile.kind is None
    assert TerritoryProfile.parse("une métropole de Bretagne").kind == "métropole"


def test_similarity_reasons_say_why():
    profile = TerritoryProfile.parse("agglomération de 50 000 habitants en Occitanie, QPV en centre ancien")
    assert similarity_reasons(profile, AGGLO) == [
        "même région (Occitanie)",
        "taille comparable (52 000 habitants)",
        "même type de territoire (agglomération)",
        "quartier comparable (centre ancien)",
    ]
    assert similarity_reasons(profile, METROPOLE) == []  # 412 000 is not comparable to 50 000
    by_words = TerritoryProfile.parse("ville moyenne")
    assert similarity_reasons(by_words, AGGLO) == ["taille comparable (ville moyenne, 52 000 habitants)"]


def test_filters_restrict_and_unknown_values_never_pass():
    assert card_passes(AGGLO, PrecedentRequest("x", regions=("occitanie",), themes=("Mobilite",)))
    assert not card_passes(METROPOLE, PrecedentRequest("x", regions=("Occitanie",)))  # no region known
    assert card_passes(METROPOLE, PrecedentRequest("x", territory_types=("métropole",)))
    assert not card_passes(AGGLO, PrecedentRequest("x", territory_types=("métropole",)))
    assert card_passes(AGGLO, PrecedentRequest("x", period=(2021, 2024)))
    assert not card_passes(AGGLO, PrecedentRequest("x", period=(2023, 2024)))
    assert card_passes(METROPOLE, PrecedentRequest("x", period=(2023, 2023)))  # start year only
    assert parse_period("2019-2024") == (2019, 2024) and parse_period("2021") == (2021, 2021)
    with pytest.raises(ValueError, match="période"):
        parse_period("depuis 2019")


def test_table_marks_missing_fields_and_cites_every_filled_cell():
    table = build_table([AGGLO, METROPOLE])
    rows = {row.label: row.cells for row in table.rows}
    assert rows["Budget"][0].text == "Budget 2022 : 100 000 euros" and rows["Budget"][1].text == MISSING
    assert rows["Budget (euros)"][0].text == "100 000"
    assert rows["Partenaires"][1].text == MISSING and rows["Région"][1].text == MISSING
    numbers = {f.number: f for f in table.footnotes}
    assert sorted(numbers) == list(range(1, len(numbers) + 1))
    for row in table.rows:
        for cell in row.cells:
            assert (cell.notes == ()) == cell.missing, row.label
            assert all(n in numbers for n in cell.notes)
    region_note = numbers[rows["Région"][0].notes[0]]
    assert region_note.from_metadata and region_note.quotes == ()
    partners_note = numbers[rows["Partenaires"][0].notes[0]]
    assert partners_note.quotes == ("Région", "Département")
    with pytest.raises(ValueError, match="de 2 à 6"):
        build_table([AGGLO])


def test_markdown_and_csv_exports_of_a_table():
    table = build_table([AGGLO, METROPOLE])
    note_of = {row.label: row.cells[0].notes[0] for row in table.rows if row.cells[0].notes}
    markdown = table_to_markdown(table)
    assert markdown.startswith("| Champ | Expérience d1 | Expérience d2 |")
    assert f"| Budget | Budget 2022 : 100 000 euros [{note_of['Budget']}] | {MISSING} |" in markdown
    assert f"[{note_of['Région']}] valeur déclarée dans les métadonnées du document" in markdown
    rows = list(csv.reader(io.StringIO(table_to_csv(table))))
    assert rows[0] == ["Champ", "Expérience d1", "Expérience d2"]
    assert ["Partenaires", f"Région ; Département [{note_of['Partenaires']}]", MISSING] in rows
    notes = rows[rows.index(["Note", "Document", "Emplacement", "Extrait"]) + 1 :]
    assert [n[0] for n in notes] == [f"[{f.number}]" for f in table.footnotes]
    assert notes[note_of["Partenaires"] - 1][3] == "Région / Département"


def test_exports_keep_every_value_of_a_long_list_and_only_the_screen_shortens_it():
    partners = tuple(cited(f"Partenaire {i}", 400 + 20 * i) for i in range(1, 9))  # 8, more than the 6 shown
    table = build_table([replace(AGGLO, partners=partners), METROPOLE])
    cell = next(row for row in table.rows if row.label == "Partenaires").cells[0]
    everyone = " ; ".join(f"Partenaire {i}" for i in range(1, 9))
    assert cell.text == everyone
    assert cell.shown == " ; ".join(f"Partenaire {i}" for i in range(1, 7)) + " (+ 2 autres)"
    note = next(f for f in table.footnotes if f.number == cell.notes[0])
    assert note.quotes == tuple(f"Partenaire {i}" for i in range(1, 9))  # every value keeps its extract
    markdown = table_to_markdown(table)
    csv_text = table_to_csv(table)
    for export in (markdown, csv_text):
        assert "autres)" not in export and "Partenaire 8" in export
    assert ["Partenaires", f"{everyone} [{cell.notes[0]}]", MISSING] in list(csv.reader(io.StringIO(csv_text)))
    html = comparison_html(table)
    assert "(+ 2 autres)" in html and f'title="{everyone}"' in html  # on screen: shortened, whole on hover
    one_more = build_table([replace(AGGLO, partners=partners[:7]), METROPOLE])
    assert next(r for r in one_more.rows if r.label == "Partenaires").cells[0].shown.endswith("(+ 1 autre)")


def test_selection_by_title_fragment_and_place_names():
    cards = [AGGLO, METROPOLE]
    assert match_score("expérience d2 métropole", METROPOLE) == 1.0
    assert select_cards(["d2", "Expérience d1"], cards) == [METROPOLE, AGGLO]
    with pytest.raises(ValueError, match="aucune expérience"):
        select_cards(["crèche Valbrune"], cards)
    assert places_named("compare le Val et Bréviande", cards) == ["breviande"]


# on the demo index ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def desk(demo_index) -> ExperienceDesk:
    return demo_index.desk


def names(precedents) -> list[str]:
    return [Path(p.card.source).name for p in precedents]


def test_known_needs_return_the_expected_experiences_first(desk):
    assert set(names(desk.precedents(PrecedentRequest("plateforme mobilité")))[:2]) == {VALBRUNE, VERGNOLLES}
    assert names(desk.precedents(PrecedentRequest("garde d'enfants des parents en recherche d'emploi")))[0] == CRECHE
    assert (
        names(desk.precedents(PrecedentRequest("ressourcerie réemploi")))[0]
        == "a-fiche-ressourcerie-combe-montclair.md"
    )


def test_filters_restrict_the_precedents(desk):
    in_region = desk.precedents(PrecedentRequest("insertion emploi", regions=("Occitanie",)))
    assert in_region and all(p.card.territory.region.value == "Occitanie" for p in in_region)
    mobility = desk.precedents(PrecedentRequest("emploi", themes=("mobilite",), limit=10))
    assert mobility and all("mobilité" in p.card.themes for p in mobility)
    early = desk.precedents(PrecedentRequest("locaux commerce", period=(2016, 2018), limit=10))
    assert early and all(p.card.start_year <= 2018 for p in early)
    assert "a-fiche-locaux-pied-immeuble-valbrune.md" in names(early)
    metropoles = desk.precedents(PrecedentRequest("emploi", territory_types=("métropole",), limit=10))
    assert metropoles and all(p.card.territory.kind == "métropole" for p in metropoles)


def test_similar_territories_are_preferred_and_explained(desk):
    territory = "ville moyenne de 50 000 habitants en Occitanie, QPV en centre ancien"
    found = desk.precedents(PrecedentRequest("plateforme mobilité emploi", territory=territory))
    assert names(found)[:2] == [VALBRUNE, VERGNOLLES]
    assert "taille comparable (118 000 habitants)" in found[0].reasons
    assert any(r.startswith("répond au besoin") for r in found[0].reasons)
    lussan = desk.precedents(PrecedentRequest("garage solidaire voiture", territory=territory))[0]
    assert "même région (Occitanie)" in lussan.reasons
    assert lussan.passage is not None and lussan.passage.quote in desk.store.document_text(lussan.card.doc_id)


def test_comparison_of_the_demo_mobility_platforms(desk, tmp_path):
    by_title = desk.compare(["plateforme mobilité Valbrune", "plateforme mobilité Vergnolles"])
    assert [Path(c.source).name for c in by_title.columns] == [VALBRUNE, VERGNOLLES]
    by_question = desk.compare(question="compare les plateformes mobilité de Valbrune et de Vergnolles")
    assert by_question.columns == by_title.columns
    with_creche = desk.compare(["Petits Mariniers crèche", "plateforme mobilité Vergnolles"])
    budget = next(r for r in with_creche.rows if r.label == "Budget")
    assert budget.cells[0].text == MISSING and budget.cells[1].text == "Budget 2021 : 412 000 €"
    for footnote in with_creche.footnotes:
        text = desk.store.document_text(footnote.doc_id)
        assert all(text[a:b] == q for (a, b), q in zip(footnote.spans, footnote.quotes, strict=True))
