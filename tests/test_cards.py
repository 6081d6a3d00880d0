"""Experience cards: section finding and field rules (pure, on literals), extraction on the demo fiches
(known values, exact quotes, field-level precision and recall) and the incremental card store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import REPO

from assistant.corpus import DocumentRecord
from assistant.experiences.cards import RuleCardExtractor, amount_in_euros, quote_is_exact
from assistant.experiences.departments import DEPARTMENTS, find_departments
from assistant.experiences.records import ExperienceCard, IndexedDocument, card_from_dict, card_to_dict
from assistant.experiences.sections import display, find_sections, fold, split_items
from assistant.experiences.store import CardStore
from assistant.experiences.territory import canonical_region, parse_territory
from assistant.types import Chunk, Span

EXPECTED = REPO / "tests" / "fixtures" / "experience_cards_expected.json"

FICHE = """*Document fictif.*

Le garage de la Plaine

À Lussan, on ne va pas travailler sans voiture et les bus sont rares le matin.

Territoire

Commune de Lussan-la-Plaine (fictif), 9 400 habitants, au sein de la Communauté de communes Plaine et Coteaux du Lussanais (fictif). Le quartier prioritaire des Garrigues compte environ 1 900 habitants.

Porteur du projet

Association Garage Solidaire de la Plaine (fictif), conventionnée atelier et chantier d'insertion (ACI) par l'État depuis 2018.

Partenaires

- Conseil départemental (insertion des allocataires du RSA)
- Région Occitanie

Budget et financements

Non communiqué.

Période

Ouverture de l'atelier en mars 2018 ; bilan 2020."""


# pure parts, on literals -------------------------------------------------------------------------


def test_sections_are_found_as_blocks_and_as_pdf_inline_headings():
    sections = find_sections(FICHE)
    assert [s.key for s in sections] == ["territory", "lead", "partners", "funding", "period"]
    for section in sections:
        assert FICHE[section.body.start : section.body.end] == section.body.text
    assert sections[3].body.text == "Non communiqué."

    pdf = "Intro.\n\nTerritoire Ville de Rivebelle (PACA).\n\nPartenaires - A (association) - B Page 1 / 3\n\nRésultats En 2022, 12 emplois."
    keys = {s.key: s.body.text for s in find_sections(pdf)}
    assert keys == {
        "territory": "Ville de Rivebelle (PACA).",
        "partners": "- A (association) - B",
        "results": "En 2022, 12 emplois.",
    }


def test_headings_seen_by_the_chunker_end_a_section():
    text = "Territoire\n\nVille de Rivebelle.\n\nLes suites envisagées\n\nUne seconde phase."
    assert find_sections(text)[0].body.text.endswith("Une seconde phase.")
    bounded = find_sections(text, headings=["Territoire", "Les suites envisagées"])
    assert bounded[0].body.text == "Ville de Rivebelle." and bounded[1].key is None


def test_list_items_from_bullets_paragraphs_and_inline_dashes():
    body = "- A : 10 000 € ;\n- B : 5 000 €.\n\nUn paragraphe.\n\n- C ; - D ; - E Page 2 / 3"
    items = split_items(Span(100, 100 + len(body), body))
    assert [i.span.text for i in items] == ["A : 10 000 €", "B : 5 000 €.", "Un paragraphe.", "C", "D", "E"]
    assert [i.bullet for i in items] == [True, True, False, True, True, True]
    for item in items:
        assert body[item.span.start - 100 : item.span.end - 100] == item.span.text


def test_amounts_values_and_regions():
    assert amount_in_euros("Budget 2023 de l'EBE : 1 260 000 euros.") == 1_260_000
    assert (
        amount_in_euros("Investissement de 410 000 euros et animation de 38 000 euros, soit 448 000 euros.") == 448_000
    )
    assert amount_in_euros("Non communiqué.") is None
    assert display("- **Douze places réservées** sur les 45 ;") == "- Douze places réservées sur les 45"
    assert canonical_region("ville moyenne en occitanie") == "Occitanie"
    assert canonical_region("QPV en Provence Alpes Cote d'Azur") == "Provence-Alpes-Côte d'Azur"
    assert canonical_region("à Lyon") is None
    assert fold("Énergie") == "energie"


def test_territory_of_a_literal_section():
    section = find_sections(FICHE)[0].body
    territory = parse_territory("d", section, region="Occitanie")
    assert territory.commune.value == "Lussan-la-Plaine (fictif)"
    assert territory.intercommunality.value == "Communauté de communes Plaine et Coteaux du Lussanais (fictif)"
    assert [q.value for q in territory.qpv] == ["Garrigues"]
    assert territory.inhabitants == 9400 and territory.kind == "communauté de communes"
    assert territory.region.value == "Occitanie" and territory.region.from_metadata
    listed = "Agglomération du Val (fictif), 118 000 habitants, trois quartiers prioritaires : les Acacias, les Grands Prés et la Sablière."
    territory = parse_territory("d", Span(0, len(listed), listed))
    assert [q.value for q in territory.qpv] == ["Acacias", "Grands Prés", "Sablière"]
    quarter = (
        "Quartier prioritaire du Canal, Bréviande (fictif), 6 300 habitants, au sein de Bréviande Métropole (fictif)."
    )
    territory = parse_territory("d", Span(0, len(quarter), quarter))
    assert territory.population is None and territory.qpv_population.value == "6 300 habitants"
    assert territory.commune.value == "Bréviande (fictif)" and territory.kind == "métropole"


def test_departments_are_the_101_of_the_official_list_and_are_found_in_context():
    assert len(DEPARTMENTS) == 101 and len({d.code for d in DEPARTMENTS}) == 101
    assert sum(d.region == "Île-de-France" for d in DEPARTMENTS) == 8
    found = lambda text: [(d.name, text[a:b]) for d, a, b in find_departments(text)]  # noqa: E731
    assert found("Commune de Bobigny (93), quartier de l'Abreuvoir") == [("Seine-Saint-Denis", "93")]
    assert found("Ajaccio (2A) et Saint-Pierre (974)") == [("Corse-du-Sud", "2A"), ("La Réunion", "974")]
    assert found("dans le Nord, en Loire-Atlantique") == [("Nord", "Nord"), ("Loire-Atlantique", "Loire-Atlantique")]
    # a bare name needs a preposition; region names and counts are not départements
    assert found("quartier Nord, ateliers (12), Pays de la Loire, Val-de-Marne") == [("Val-de-Marne", "Val-de-Marne")]


def test_the_region_of_a_territory_comes_from_its_department_when_the_text_names_none():
    text = "Commune de Bobigny (93), quartier prioritaire de l'Abreuvoir, 4 200 habitants."
    territory = parse_territory("d", Span(100, 100 + len(text), text), region="Occitanie")
    assert territory.department.value == "Seine-Saint-Denis" and territory.department.evidence.quote == "93"
    assert territory.region.value == "Île-de-France" and territory.region.evidence.start == 100 + text.index("93")
    named = "Ville de Lormont, en Gironde, Nouvelle-Aquitaine."
    territory = parse_territory("d", Span(0, len(named), named))
    assert territory.department.value == "Gironde" and territory.region.evidence.quote == "Nouvelle-Aquitaine"


def test_a_literal_fiche_without_budget_gets_no_budget_and_round_trips():
    card = RuleCardExtractor().extract(IndexedDocument("d", "h1", FICHE, {"type": "fiche expérience", "title": "T"}))
    assert card is not None and quote_is_exact(card, FICHE)
    assert card.budget is None and card.budget_eur is None and card.funders == ()
    assert card.lead.value == "Association Garage Solidaire de la Plaine (fictif)"
    assert [p.value for p in card.partners] == [
        "Conseil départemental (insertion des allocataires du RSA)",
        "Région Occitanie",
    ]
    assert (card.start_year, card.end_year) == (2018, 2020)
    assert card.public is None and card.actions == ()  # no such section: left empty
    assert card_from_dict(json.loads(json.dumps(card_to_dict(card)))) == card


def test_a_document_without_fiche_sections_is_not_an_experience():
    text = "Guide\n\nUne méthode en six étapes pour le diagnostic, avec un budget de 12 000 euros."
    assert RuleCardExtractor().extract(IndexedDocument("d", "h", text, {"type": "guide méthodologique"})) is None
    card = RuleCardExtractor().extract(IndexedDocument("d", "h", text, {"type": "fiche expérience"}))
    assert card.budget_eur == 12_000 and card.lead is None and card.territory.commune is None


# the demo fiches -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_cards(demo_index) -> dict[str, ExperienceCard]:
    desk = demo_index.desk
    return {Path(c.source).name: c for c in desk.cards()}


def test_every_demo_fiche_has_a_card_and_nothing_else(demo_cards, demo_index):
    fiches = {
        Path(r.source).name
        for r in demo_index.store.documents().values()
        if r.metadata.get("type") == "fiche expérience"
    }
    assert set(demo_cards) == fiches and len(fiches) == 16


def test_known_fields_of_demo_fiches(demo_cards):
    valbrune = demo_cards["a-fiche-plateforme-mobilite-valbrune.md"]
    assert (
        valbrune.territory.intercommunality.value == "Communauté d'agglomération Valbrune Loire Agglomération (fictif)"
    )
    assert valbrune.territory.inhabitants == 118_000
    assert valbrune.territory.region.value == "Centre-Val de Loire" and valbrune.territory.region.from_metadata
    assert valbrune.lead.value == "Association Mobilités Solidaires du Val (fictif)"
    assert len(valbrune.partners) == 6 and valbrune.partners[4].value == "Réseau de transport urbain Valbus (fictif)"
    assert valbrune.budget.value == "Budget 2022 : 312 000 euros" and valbrune.budget_eur == 312_000
    assert len(valbrune.funders) == 6 and (valbrune.start_year, valbrune.end_year) == (2019, 2025)

    vergnolles = demo_cards["b-fiche-plateforme-mobilite-vergnolles.html"]
    assert (
        vergnolles.territory.region.value == "Bourgogne-Franche-Comté" and not vergnolles.territory.region.from_metadata
    )
    assert [q.value for q in vergnolles.territory.qpv] == ["Crêts-Saint-Jean", "Chaume-aux-Loups"]
    assert vergnolles.lead.value == "La régie de quartier Crêts-Chaume Services"
    assert vergnolles.budget_eur == 412_000 and len(vergnolles.funders) == 7

    ptce = demo_cards["b-fiche-ptce-reemploi-ormeaux.pdf"]  # PDF: headings inline, page footers in the text
    assert (
        ptce.partners[-1].value == "Bailleur social Ormeaux Habitat (mise à disposition de locaux en pied d'immeuble)"
    )
    assert ptce.budget_eur == 540_000 and len(ptce.funders) == 6

    chantier = demo_cards["b-fiche-chantier-insertion-sainte-gemme.docx"]  # DOCX: one paragraph per list item
    assert chantier.territory.commune.value == "Sainte-Gemme-en-Vaux" and chantier.territory.inhabitants == 14_500
    assert chantier.budget_eur == 486_000 and len(chantier.partners) == 6


def test_the_fiche_without_budget_gets_an_empty_budget(demo_cards):
    creche = demo_cards["a-fiche-sans-budget-creche-emploi-breviande.md"]
    assert creche.budget is None and creche.budget_eur is None and creche.funders == ()
    assert creche.lead.value == "Association Les Petits Mariniers (fictif)" and len(creche.partners) == 6


def test_every_quote_is_an_exact_slice_of_its_document(demo_cards, demo_index):
    for card in demo_cards.values():
        text = demo_index.store.document_text(card.doc_id)
        assert card.evidence() and quote_is_exact(card, text), card.title


# field-level precision and recall against the hand-made table ------------------------------------------


def _norm(text: str) -> str:
    text = re.sub(r"\(fictif\)", "", fold(str(text)))
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    return re.sub(r"^(l|la|le|les) ", "", text)


def _same(expected, found) -> bool:
    if isinstance(expected, int):
        return expected == found
    a, b = _norm(expected), _norm(found)
    return bool(b) and (a in b or b in a)


def extracted_fields(card: ExperienceCard) -> dict:
    t = card.territory
    return {
        "commune": t.commune.value if t.commune else None,
        "intercommunality": t.intercommunality.value if t.intercommunality else None,
        "region": t.region.value if t.region else None,
        "qpv": [q.value for q in t.qpv],
        "population": t.inhabitants,
        "lead": card.lead.value if card.lead else None,
        "partners": [p.value for p in card.partners],
        "public": card.public.value if card.public else None,
        "budget_eur": card.budget_eur,
        "funders": [amount_in_euros(f.value) for f in card.funders],
        "start_year": card.start_year,
        "end_year": card.end_year,
    }


def score_fields(expected: dict, found: dict) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives); list fields count per item."""
    tp = fp = fn = 0
    for name, want in expected.items():
        got = found[name]
        if isinstance(want, list):
            remaining = list(got)
            for item in want:
                match = next((g for g in remaining if _same(item, g)), None)
                if match is None:
                    fn += 1
                else:
                    tp += 1
                    remaining.remove(match)
            fp += len(remaining)
        elif want is None:
            fp += got is not None
        elif got is None:
            fn += 1
        elif _same(want, got):
            tp += 1
        else:
            fp, fn = fp + 1, fn + 1
    return tp, fp, fn


def test_score_fields_counts_items_and_wrong_values():
    expected = {"lead": "Association X", "partners": ["A", "B"], "budget_eur": None, "start_year": 2019}
    found = {"lead": "association X (fictif)", "partners": ["A", "C"], "budget_eur": 10, "start_year": 2020}
    assert score_fields(expected, found) == (2, 3, 2)


def test_field_precision_and_recall_on_the_hand_made_table(demo_cards):
    expected = {k: v for k, v in json.loads(EXPECTED.read_text(encoding="utf-8")).items() if not k.startswith("_")}
    totals = [0, 0, 0]
    for name, fields in expected.items():
        for i, n in enumerate(score_fields(fields, extracted_fields(demo_cards[name]))):
            totals[i] += n
    tp, fp, fn = totals
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(f"\n{len(expected)} fiches, {tp + fn} expected values: precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= 0.95 and recall >= 0.9


# the card store --------------------------------------------------------------------------------------


def test_second_build_on_the_demo_index_extracts_nothing(demo_index, tmp_path):
    store = CardStore(tmp_path / "cards")
    extractor = RuleCardExtractor(demo_index.searcher.glossary)
    first = store.sync(demo_index.store, extractor)
    assert len(first.extracted) == 42 and first.cards == 16
    again = CardStore(tmp_path / "cards").sync(demo_index.store, extractor)  # a new process reads the file
    assert again.extracted == [] and again.unchanged == 42 and again.cards == 16


class FakeStore:
    """The registry part of a ChunkStore, in memory."""

    def __init__(self, texts: dict[str, tuple[str, str]]) -> None:
        self.texts = texts  # doc_id -> (content_hash, text)

    def documents(self) -> dict[str, DocumentRecord]:
        meta = {"type": "fiche expérience", "title": "T", "source": "/x.md"}
        return {d: DocumentRecord(d, h, 1, {**meta, "source": f"/{d}.md"}) for d, (h, _) in self.texts.items()}

    def document_text(self, doc_id: str) -> str | None:
        return self.texts[doc_id][1]

    def iter_chunks(self):
        for doc_id, (_, text) in self.texts.items():
            yield Chunk(f"{doc_id}-0", doc_id, 0, text, 0, len(text), None, ("Territoire",))


def test_changed_documents_are_read_again_and_removed_ones_dropped(tmp_path):
    fake = FakeStore({"a": ("h1", FICHE), "b": ("h1", FICHE)})
    store = CardStore(tmp_path)
    assert sorted(store.sync(fake, RuleCardExtractor()).extracted) == ["a", "b"]
    fake.texts["a"] = ("h2", FICHE.replace("9 400", "9 500"))
    del fake.texts["b"]
    report = store.sync(fake, RuleCardExtractor())
    assert report.extracted == ["a"] and report.removed == ["b"] and report.cards == 1
    assert store.cards()[0].territory.inhabitants == 9500 and store.cards()[0].content_hash == "h2"

    class Renamed(RuleCardExtractor):
        name = "règles-2"

    assert CardStore(tmp_path).sync(fake, Renamed()).extracted == ["a"]  # new rules: everything read again
