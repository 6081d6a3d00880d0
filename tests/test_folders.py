"""Server folders the interface may index: allowed roots only, no link out of them, supported formats only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.corpus import FolderRefused
from ingest.folders import select_folder


@pytest.fixture
def roots(tmp_path: Path) -> dict[str, Path]:
    allowed = tmp_path / "partage" / "documents"
    (allowed / "2024").mkdir(parents=True)
    (allowed / "fiche.md").write_text("# Fiche\n\nTexte.", "utf-8")
    (allowed / "2024" / "bilan.pdf").write_bytes(b"%PDF-1.4")
    (allowed / "photo.jpg").write_bytes(b"\xff\xd8")
    (allowed / "script.sh").write_text("echo", "utf-8")
    outside = tmp_path / "prive"
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret", "utf-8")
    return {"allowed": allowed, "outside": outside, "uploads": tmp_path / "data" / "uploads"}


def _names(selection) -> list[str]:
    return sorted(s.path.name for s in selection.sources)


def test_an_allowed_folder_and_its_subfolders_give_their_supported_files(roots):
    selection = select_folder(str(roots["allowed"]), [roots["allowed"], roots["uploads"]])
    assert _names(selection) == ["bilan.pdf", "fiche.md"]
    assert selection.unsupported == 2 and selection.outside_links == 0
    assert selection.notes() == "2 fichier(s) ignoré(s) : format non pris en charge"
    assert _names(select_folder(f"  {roots['allowed'] / '2024'}  ", [roots["allowed"]])) == ["bilan.pdf"]


@pytest.mark.parametrize("folder", ["/etc", "/proc/self", "/", "/tmp"])
def test_system_folders_are_refused_in_french(roots, folder):
    with pytest.raises(FolderRefused, match=f"^✗ Dossier non autorisé : « {folder} »"):
        select_folder(folder, [roots["allowed"], roots["uploads"]])


def test_with_no_allowed_folder_only_the_uploads_folder_may_be_indexed(roots):
    roots["uploads"].mkdir(parents=True)
    (roots["uploads"] / "envoi.md").write_text("# Envoi", "utf-8")
    with pytest.raises(FolderRefused, match="ingest.allowed_folders"):
        select_folder(str(roots["allowed"]), [roots["uploads"]])
    assert _names(select_folder(str(roots["uploads"]), [roots["uploads"]])) == ["envoi.md"]


def test_dot_dot_and_links_do_not_lead_out_of_an_allowed_folder(roots):
    allowed, outside = roots["allowed"], roots["outside"]
    with pytest.raises(FolderRefused, match="non autorisé"):
        select_folder(f"{allowed}/../../prive", [allowed])
    os.symlink(outside, allowed / "raccourci")  # a link to a folder outside
    with pytest.raises(FolderRefused, match="non autorisé"):
        select_folder(str(allowed / "raccourci"), [allowed])
    os.symlink(outside / "secret.md", allowed / "secret.md")  # a link to a file outside
    os.symlink("/etc/hostname", allowed / "hote.txt")
    os.symlink(allowed / "fiche.md", allowed / "2024" / "copie.md")  # a link inside stays usable
    selection = select_folder(str(allowed), [allowed])
    assert _names(selection) == ["bilan.pdf", "fiche.md"]  # the inside link is its target, indexed once
    assert selection.outside_links == 2
    assert "2 lien(s) ignoré(s)" in selection.notes()
    assert all(s.key == str(s.path) and not s.path.is_symlink() for s in selection.sources)


@pytest.mark.parametrize(
    ("folder", "message"),
    [
        ("", "Indiquez le chemin d'un dossier du serveur."),
        ("documents", "✗ « documents » : indiquez un chemin complet (commençant par /)."),
    ],
)
def test_empty_and_relative_paths_are_refused(roots, folder, message):
    with pytest.raises(FolderRefused) as refused:
        select_folder(folder, [roots["allowed"]])
    assert str(refused.value) == message


def test_a_missing_folder_under_an_allowed_root_is_reported(roots):
    with pytest.raises(FolderRefused, match="^✗ Dossier introuvable sur le serveur : «"):
        select_folder(str(roots["allowed"] / "absent"), [roots["allowed"]])
