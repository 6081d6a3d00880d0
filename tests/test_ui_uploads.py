"""Uploads: safe file names, size limits, where the files land (French refusals)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from assistant.ui.uploads import UploadRejected, check_size, safe_filename, save_uploads


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
