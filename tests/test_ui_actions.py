"""The Documents page's handlers over a real index: uploads, server folders, failures in French."""

from __future__ import annotations

from pathlib import Path

import pytest
from files import write_docx_bomb, write_malformed_docx

from assistant.factory import build_services
from assistant.feedback import FeedbackStore
from assistant.ui.actions import Actions


def _no_progress(*args, **kwargs) -> None:
    pass


@pytest.fixture
def actions(settings, hashing_embedder, tmp_path) -> Actions:
    settings.ui.max_upload_mb = 1
    settings.ingest.allowed_folders = [tmp_path / "partage"]
    services = build_services(settings, embedder=hashing_embedder)
    yield Actions(
        services.assistant,
        services.indexer,
        services.store,
        FeedbackStore(settings.data_dir / "feedback.sqlite3"),
        settings,
        answerer_kind=services.answerer_kind,
    )
    services.close()


def _sent(folder: Path, name: str, content: bytes) -> str:
    """A file as the web server hands it over: a temporary copy under its original name."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    return str(folder / name)


def _upload(actions: Actions, *files: str) -> str:
    return actions.ingest_uploads(list(files), progress=_no_progress).message


def test_two_names_that_clean_alike_stay_two_documents(actions, tmp_path):
    message = _upload(
        actions,
        _sent(tmp_path / "t1", "Bilan ★ Tarnac.md", b"# Bilan\n\nLa laverie solidaire de Tarnac ouvre.\n"),
        _sent(tmp_path / "t2", "Bilan ☆ Tarnac.md", b"# Bilan\n\nLa ressourcerie de Tarnac recrute.\n"),
    )
    assert "Ajoutés : 2 " in message
    searcher = actions.assistant.searcher
    assert "laverie" in searcher.search("laverie solidaire", k=1)[0].chunk.text
    assert "ressourcerie" in searcher.search("ressourcerie recrute", k=1)[0].chunk.text
    again = _upload(
        actions,
        _sent(tmp_path / "t3", "Bilan ★ Tarnac.md", b"# Bilan\n\nLa laverie solidaire de Tarnac ouvre.\n"),
    )
    assert "inchangés : 1 " in again and len(actions.store.documents()) == 2
    assert not any(list((tmp_path / t).iterdir()) for t in ("t1", "t2", "t3"))  # temporary copies removed


def test_a_bomb_is_refused_in_french_and_the_file_sent_after_it_is_indexed(actions, tmp_path):
    (tmp_path / "t").mkdir()
    write_docx_bomb(tmp_path / "t" / "rapport.docx", 30)
    message = _upload(
        actions,
        str(tmp_path / "t" / "rapport.docx"),
        _sent(tmp_path / "t", "casse.docx", b""),
        _sent(tmp_path / "t", "note.md", "# Note\n\nLa régie de quartier recrute.\n".encode()),
    )
    assert "Ajoutés : 1 " in message and "en échec : 2" in message
    assert "rapport-" in message and "bombe de décompression possible" in message
    assert actions.assistant.searcher.search("régie de quartier", k=1)[0].chunk.metadata["filename"].startswith("note-")
    assert list((tmp_path / "t").iterdir()) == []


def test_a_malformed_docx_gets_its_french_reason_in_the_message(actions, tmp_path):
    (tmp_path / "t").mkdir()
    write_malformed_docx(tmp_path / "t" / "abime.docx")
    message = _upload(actions, str(tmp_path / "t" / "abime.docx"))
    assert "fichier Word illisible ou corrompu (XML invalide)" in message and "error" not in message


def test_server_folders_outside_the_allowed_list_are_refused(actions, tmp_path):
    message = actions.ingest_folder("/etc", progress=_no_progress).message
    assert message.startswith("✗ Dossier non autorisé : « /etc »")
    assert actions.store.documents() == {}
    shared = tmp_path / "partage" / "fiches"
    shared.mkdir(parents=True)
    (shared / "fiche.md").write_text("# Fiche\n\nUne épicerie solidaire.\n", "utf-8")
    (shared / "hote.txt").symlink_to("/etc/hostname")
    message = actions.ingest_folder(str(shared), progress=_no_progress).message
    assert message.startswith("1 lien(s) ignoré(s) : ils mènent hors des dossiers autorisés\nAjoutés : 1 ")
    assert [r.metadata["filename"] for r in actions.store.documents().values()] == ["fiche.md"]


def test_an_internal_failure_during_indexing_is_reported_in_french(actions, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("store unavailable")

    monkeypatch.setattr(actions.indexer.synchronizer, "sync", fail)
    message = _upload(actions, _sent(tmp_path / "t", "note.md", b"# Note\n\nTexte.\n"))
    assert "l'indexation s'est interrompue (erreur interne)" in message
