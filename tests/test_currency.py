"""Currency of sources: periods found at ingest, the notice beside a superseded source, current sources
preferred for questions about the present and with the recent-first option. Claims are never rewritten."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from assistant.api.routes import parse_filters
from assistant.currency import (
    asks_about_the_present,
    currency_notice,
    rank_by_currency,
    without_present_markers,
)
from assistant.factory import build_services
from assistant.glossary import load_glossary
from assistant.periods import document_periods
from assistant.retrieval.filters import Filters
from assistant.types import Chunk, Hit
from assistant.ui.facets import build_filters, describe_filters
from ingest.sync import discover


@pytest.fixture(scope="module")
def glossary():
    return load_glossary(REPO / "assistant" / "glossary.yaml")


def test_periods_come_from_the_text_and_for_a_bare_contrat_de_ville_from_the_date():
    assert document_periods("Le contrat de ville 2015-2020 de l'agglomération et le NPNRU.", 2016) == [
        "contrat de ville 2015-2023",
        "NPNRU",
    ]
    assert document_periods("Le pilier emploi du contrat de ville.", 2017) == ["contrat de ville 2015-2023"]
    assert document_periods("Le pilier emploi du contrat de ville.", 2025) == ["Engagements Quartiers 2030"]
    assert document_periods("Les engagements Quartiers 2030 et le PNRU achevé.", 2024) == [
        "Engagements Quartiers 2030",
        "PNRU",
    ]
    assert document_periods("Une fiche sur la mobilité.", 2019) == []
    recall = "Le contrat de ville « Engagements Quartiers 2030 » succède au contrat de ville 2015-2023."
    assert document_periods(recall, 2024) == ["Engagements Quartiers 2030"]


def test_questions_about_the_present():
    for question in ("Aujourd'hui, qui pilote ?", "Quel cadre est actuellement en vigueur ?", "et en 2025 ?"):
        assert asks_about_the_present(question), question
    assert not asks_about_the_present("Combien d'heures d'insertion en 2019 ?")
    assert without_present_markers("Aujourd'hui, qui pilote ?") == "Qui pilote ?"
    assert without_present_markers("Qui pilote actuellement le pilier ?") == "Qui pilote le pilier ?"


def test_the_notice_says_what_replaced_the_frame_and_when(glossary):
    meta = {"year": 2016, "periods": ["contrat de ville 2015-2023"]}
    assert currency_notice(meta, "Le CGET finance la démarche.", glossary) == (
        "Source de 2016 : cadre « contrat de ville 2015-2023 », remplacé par les contrats de ville "
        "« Engagements Quartiers 2030 » en 2024 ; « CGET », remplacé par l'ANCT en 2020."
    )
    assert currency_notice({"year": 2022}, "Les habitants des ZUS et des QPV.", glossary) is None  # after 2015
    assert currency_notice({"year": 2024, "periods": ["Engagements Quartiers 2030"]}, "…", glossary) is None
    assert currency_notice({"year": 2019}, "…", glossary, newer_version="Étude 2023") == (
        "Source de 2019 : une version plus récente existe : Étude 2023."
    )


def test_a_closed_dispositif_gets_its_end_date_once_it_has_passed(glossary):
    zfu_te = "Les entreprises qui s'implantent en ZFU-TE sont exonérées d'impôt sur les bénéfices."
    notice = currency_notice({"year": 2019}, zfu_te, glossary, today=date(2026, 3, 1))
    assert notice is not None and notice.startswith("Source de 2019 : cadre « ZFU-TE », dispositif ouvert")
    assert "31 décembre 2025" in notice and "loi de finances" in notice
    assert currency_notice({"year": 2019}, zfu_te, glossary, today=date(2025, 6, 1)) is None  # still open then
    assert currency_notice({"year": 2026}, zfu_te, glossary, today=date(2026, 3, 1)) is None  # written after its end
    assert currency_notice({}, zfu_te, glossary, today=date(2026, 3, 1)) is None  # undated: only its periods count


def test_the_glossary_records_the_ended_frames_a_practitioner_meets(glossary):
    ended = {
        "CGET": ("l'ANCT", 2020),
        "Acsé": ("le CGET", 2016),
        "SG-CIV": ("le CGET", 2014),
        "DDCS": ("les DDETS", 2021),
        "ZUS": ("les QPV", 2015),
        "ZFU": ("les ZFU-TE", 2015),
        "CUCS": ("les contrats de ville", 2015),
        "DDU": ("la DPV", 2015),
        "emplois d'avenir": ("les parcours emploi compétences (PEC)", 2018),
    }
    for term, (successor, year) in ended.items():
        entry = glossary.lookup(term)
        assert entry is not None and (entry.replaced_by, entry.replaced_in) == (successor, year), term
    assert glossary.lookup("ZFU-TE").ends_on == "2025-12-31"
    passage = "En 2013, la DDCS et l'Acsé finançaient les emplois d'avenir des associations du quartier."
    notice = currency_notice({"year": 2013}, passage, glossary, today=date(2026, 3, 1))
    assert notice == (
        "Source de 2013 : cadre « DDCS », remplacé par les DDETS en 2021 ; « Acsé », remplacé par le CGET en 2016 ; "
        "« emplois d'avenir », remplacé par les parcours emploi compétences (PEC) en 2018."
    )


def test_a_former_name_in_an_older_source_gets_its_successor(glossary):
    passage = "Le comité réunit Pôle emploi et la mission locale, qui suit 40 jeunes en Garantie jeunes."
    assert currency_notice({"year": 2019}, passage, glossary) == (
        "Source de 2019 : cadre « Pôle emploi », remplacé par France Travail en 2024 ; "
        "« Garantie jeunes », remplacé par CEJ (contrat d'engagement jeune) en 2022."
    )
    assert currency_notice({"year": 2024}, "Le comité réunit France Travail et la mission locale.", glossary) is None
    assert currency_notice({"year": 2023}, "France Travail remplace Pôle emploi.", glossary) is not None
    assert glossary.expand_query("Pôle emploi") != "Pôle emploi"  # still a synonym, for the queries


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"ends_on": "2025-12-31"}, "va avec"),
        ({"ends_on": "fin 2025", "end_note": "fermé"}, "AAAA-MM-JJ"),
        ({"succeeds": {"ZY": 2020}}, "aussi dans synonyms"),
    ],
)
def test_an_end_date_needs_its_note_and_an_iso_date(tmp_path, extra, message):
    entry = {"term": "ZX", "expansion": "zone x", "definition": "Une zone.", **extra}
    path = tmp_path / "glossaire.yaml"
    path.write_text(yaml.safe_dump([entry], allow_unicode=True), "utf-8")
    with pytest.raises(ValueError, match=message):
        load_glossary(path)


def _hit(doc_id: str, score: float, year: int | None, text: str = "…", periods=()) -> Hit:
    meta = {"periods": list(periods)} | ({"year": year} if year else {})
    return Hit(Chunk(f"{doc_id}-0", doc_id, 0, text, 0, len(text), None, (), meta), score)


def test_ranking_prefers_current_sources_only_when_asked(glossary):
    hits = [
        _hit("old", 1.0, 2016, periods=["contrat de ville 2015-2023"]),
        _hit("undated", 0.9, None),
        _hit("new", 0.8, 2024, periods=["Engagements Quartiers 2030"]),
    ]
    kept = rank_by_currency(hits, glossary=glossary, present=False, recent_first=False)
    assert [h.chunk.doc_id for h in kept] == ["old", "undated", "new"]
    present = rank_by_currency(hits, glossary=glossary, present=True, recent_first=False)
    assert [h.chunk.doc_id for h in present] == ["undated", "old", "new"]  # a weight moves a source one place
    pair = rank_by_currency([hits[0], hits[2]], glossary=glossary, present=True, recent_first=False)
    assert [h.chunk.doc_id for h in pair] == ["new", "old"]
    recent = rank_by_currency(hits[:1] + hits[2:], glossary=glossary, present=False, recent_first=True)
    assert [h.chunk.doc_id for h in recent] == ["new", "old"] and recent[1].provenance["currency"] < 1
    versions = rank_by_currency(
        [_hit("v1", 1.0, 2023), _hit("v2", 0.9, 2023)],
        glossary=glossary,
        present=True,
        recent_first=False,
        superseded={"v1"},
    )
    assert [h.chunk.doc_id for h in versions] == ["v2", "v1"]


OLD = (
    "---\ntitle: Pilier emploi du contrat de ville de Valmont\ndate: 2016-05-10\n---\n"
    "# Pilier emploi du contrat de ville de Valmont\n\n"
    "Le contrat de ville 2015-2020 de Valmont consacre son pilier développement économique et emploi à l'accès "
    "des habitants des quartiers prioritaires aux offres d'emploi. Le comité de pilotage réunit l'État, le CGET, "
    "la communauté d'agglomération et Pôle emploi deux fois par an. L'animation du pilier emploi est confiée "
    "au chef de projet politique de la ville.\n"
)
NEW = (
    "---\ntitle: Engagements Quartiers 2030 à Valmont\ndate: 2024-09-02\n---\n"
    "# Engagements Quartiers 2030 à Valmont\n\n"
    "Le contrat de ville « Engagements Quartiers 2030 » de Valmont a été signé en 2024. Le comité de pilotage "
    "réunit l'État, l'ANCT, la communauté d'agglomération, France Travail et les conseils citoyens trois fois "
    "par an. L'animation du pilier emploi est confiée à une cheffe de projet emploi.\n"
)


def _index(services, tmp_path: Path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "valmont-2016.md").write_text(OLD, "utf-8")
    (folder / "valmont-2024.md").write_text(NEW, "utf-8")
    services.indexer.sync(discover([folder]))


def test_a_cited_superseded_source_carries_the_notice_and_the_present_prefers_current_sources(
    settings, services, tmp_path
):
    settings.generation.answerer = "offline"  # the extractive answerer: the same answer on every machine
    services = build_services(settings, embedder=services.embedder)
    _index(services, tmp_path)
    records = {Path(r.source).name: r for r in services.store.documents().values()}
    assert records["valmont-2016.md"].metadata["periods"] == ["contrat de ville 2015-2023"]
    assert records["valmont-2024.md"].metadata["periods"] == ["Engagements Quartiers 2030"]

    answer = services.assistant.ask("À Valmont, à quelle fréquence se réunissait le comité de pilotage avec le CGET ?")
    assert not answer.refused
    cited = answer.citations[0]
    assert cited.source.endswith("valmont-2016.md") and "deux fois par an" in answer.text
    assert cited.notice is not None and cited.notice.startswith("Source de 2016 : cadre « contrat de ville 2015-2023 »")
    assert "Engagements Quartiers 2030" in cited.notice and "l'ANCT en 2020" in cited.notice

    question = "Qui réunit aujourd'hui le comité de pilotage du pilier emploi à Valmont ?"
    hits = services.searcher.search(question, k=2)
    assert Path(hits[0].chunk.metadata["source"]).name == "valmont-2024.md"
    answer = services.assistant.ask(
        "Aujourd'hui, à Valmont, à quelle fréquence se réunit le comité de pilotage avec l'ANCT ?"
    )
    assert not answer.refused and "trois fois par an" in answer.text
    assert answer.citations[0].source.endswith("valmont-2024.md") and answer.citations[0].notice is None


def test_the_recent_first_option_ranks_the_newer_source_first(settings, services, tmp_path):
    _index(services, tmp_path)
    question = "Valmont comité de pilotage pilier emploi contrat de ville CGET Pôle emploi"
    default = services.searcher.search(question, k=2)
    assert Path(default[0].chunk.metadata["source"]).name == "valmont-2016.md"
    # the user's option for one question (chat tab, API) …
    asked = services.searcher.search(question, k=2, filters=Filters(recent_first=True))
    assert [Path(h.chunk.metadata["source"]).name for h in asked] == ["valmont-2024.md", "valmont-2016.md"]
    # … or the setting, for every question
    settings.retrieval.recent_first = True
    recent = build_services(settings, embedder=services.embedder).searcher.search(question, k=2)
    assert [Path(h.chunk.metadata["source"]).name for h in recent] == ["valmont-2024.md", "valmont-2016.md"]


def test_the_api_carries_the_recent_first_option_with_the_filters():
    assert parse_filters(None) is None
    assert parse_filters(None, recent_first=True) == Filters(recent_first=True)
    both = parse_filters({"year": "2019-2024"}, recent_first=True)
    assert (both.year_min, both.year_max, both.recent_first) == (2019, 2024, True)
    assert not Filters(recent_first=True)  # it ranks, it does not filter
    assert Filters(recent_first=True).describe() == "sources récentes d'abord"
    # the chat's box: the order is shown with the filters, and travels with them to the search
    assert build_filters({}, None, None, recent_first=True) == Filters(recent_first=True)
    assert describe_filters(Filters(recent_first=True)) == (
        "**Filtres actifs :** aucun — toute la base documentaire · sources récentes d'abord"
    )
    assert describe_filters(Filters(year_min=2020, recent_first=True)).endswith(
        "à partir de 2020 · sources récentes d'abord"
    )
