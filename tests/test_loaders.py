from datetime import datetime
from pathlib import Path

import pytest
from conftest import SEEDS
from files import write_docx, write_html, write_image_only_pdf, write_pdf

from assistant.corpus import LoadError
from ingest.documents import build_document
from ingest.loaders import load_file

FRENCH = (
    "L’économie sociale et solidaire crée des emplois « non délocalisables » : 120 000 € investis, œuvre collective."
)


def _document(path: Path):
    loaded = load_file(path.read_bytes(), path)
    return build_document("d", loaded, source=str(path), file_meta={}, sidecar={})


def test_pdf_keeps_page_numbers_and_title(tmp_path):
    path = write_pdf(
        tmp_path / "rapport.pdf",
        ["Page une : diagnostic du quartier des Tilleuls.", "Page deux : plan d'actions et partenaires."],
        title="Rapport d'étude",
    )
    document = _document(path)
    assert document.metadata["title"] == "Rapport d'étude"
    assert document.metadata["pages"] == 2
    pages = {s.page for s in document.sections}
    assert pages == {1, 2}
    second = [s for s in document.sections if s.page == 2][0]
    assert "plan d'actions" in document.text[second.start : second.end]


def test_docx_keeps_headings(tmp_path):
    path = write_docx(
        tmp_path / "fiche.docx",
        [("h1", "Fiche expérience"), ("p", "Introduction."), ("h2", "Partenaires"), ("p", "La Région et l'EPCI.")],
        title="Fiche Mobil'Emploi",
    )
    document = _document(path)
    headings = [(s.level, document.text[s.start : s.end]) for s in document.sections if s.kind == "heading"]
    assert headings == [(1, "Fiche expérience"), (2, "Partenaires")]
    assert document.metadata["title"] == "Fiche Mobil'Emploi"


@pytest.mark.parametrize(
    ("properties", "date", "organisation"),
    [
        ({}, None, None),  # the template as is
        ({"author": "Ville de Tarnac"}, None, "Ville de Tarnac"),  # author set, template date kept (our note export)
        ({"author": "Ville de Tarnac", "modified": datetime(2024, 5, 2)}, "2024-05-02", "Ville de Tarnac"),
        ({"created": datetime(2021, 3, 9), "modified": datetime(2024, 5, 2)}, "2021-03-09", None),
    ],
)
def test_docx_dates_never_come_from_python_docx_s_template(tmp_path, properties, date, organisation):
    path = write_docx(tmp_path / "note.docx", [("p", "Une note de travail.")], **properties)
    metadata = _document(path).metadata
    assert metadata.get("date") == date
    assert metadata.get("organisation") == organisation


def test_html_keeps_main_content_only(tmp_path):
    path = write_html(
        tmp_path / "page.html",
        "Plateforme mobilité de Valbrune",
        ["La plateforme accompagne 300 personnes par an vers l'emploi grâce à des solutions de transport adaptées."],
        heading="Résultats",
    )
    document = _document(path)
    assert "300 personnes" in document.text
    assert "Résultats" in [document.text[s.start : s.end] for s in document.sections if s.kind == "heading"]
    for noise in ("Vous êtes ici", "cookies", "Partager", "Mentions légales", "barre d'outils", "Agenda"):
        assert noise not in document.text


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16", "utf-16-le", "utf-16-be"])
def test_text_encodings(tmp_path, encoding):
    text = FRENCH if encoding != "latin-1" else FRENCH.replace("’", "'").replace("œ", "oe").replace("€", "EUR")
    path = tmp_path / "note.txt"
    path.write_bytes(f"Note de cadrage\n\n{text}\n".encode(encoding))
    assert text in _document(path).text


def test_markdown_front_matter_and_headings(tmp_path):
    path = tmp_path / "dossier.md"
    path.write_text(
        "---\ntitle: Dossier ESS\norganisation: Labo fictif\ndate: 2021-03-04\nthemes: [ESS, emploi]\n---\n"
        "# Dossier ESS\n\nIntro.\n\n## Enjeux\n\nTexte des enjeux.\n",
        encoding="utf-8",
    )
    document = _document(path)
    assert document.metadata["title"] == "Dossier ESS"
    assert document.metadata["organisation"] == "Labo fictif"
    assert document.metadata["date"] == "2021-03-04" and document.metadata["year"] == 2021
    assert document.metadata["themes"] == ["ESS", "emploi"]
    assert not document.text.startswith("---")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("vide.txt", b"", "vide"),
        ("binaire.txt", bytes(range(256)) * 20, "binaire"),
        ("image.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "non pris en charge"),
        ("casse.pdf", b"%PDF-1.4\n garbage garbage", "PDF illisible"),
        ("casse.docx", b"PK\x03\x04 not really a zip", "Word illisible"),
    ],
)
def test_bad_files_raise_french_reasons(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError, match=reason):
        load_file(content, path)


def test_encrypted_and_image_only_pdfs(tmp_path):
    locked = write_pdf(tmp_path / "protege.pdf", ["Contenu secret."], password="secret")
    with pytest.raises(LoadError, match="mot de passe"):
        load_file(locked.read_bytes(), locked)
    scanned = write_image_only_pdf(tmp_path / "scan.pdf")
    with pytest.raises(LoadError, match="OCR"):
        load_file(scanned.read_bytes(), scanned)


@pytest.mark.shared
def test_seed_pages_lose_their_navigation_noise():
    for path in sorted(SEEDS.glob("*.txt")):
        document = _document(path)
        for noise in ("Vous êtes ici", "Précédent\n", "Favoris", "Aller à la barre d’outils"):
            assert noise not in document.text, (path.name, noise)
        assert len(document.text) > 2000
    first = _document(SEEDS / "000_f602855969a8d652.txt")
    assert first.metadata["title"] == "Cycle 2015-2016 : Développement économique urbain"
    assert "Repères pour agir n°5" in first.text


def test_pdf_headings_come_from_bold_or_larger_type_and_footers_go(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    for style, size, text in [
        ("B", 17, "Guide du diagnostic économique"),
        ("", 11, "Avant d'agir, il faut savoir ce qui se passe dans le quartier : entreprises, locaux, flux."),
        ("B", 12, "Étape 1 : cadrer la commande"),
        ("", 11, "Clarifier qui commande le diagnostic et pour quoi faire."),
        ("", 11, "Page 1 / 1"),
    ]:
        pdf.set_font("helvetica", style, size)
        pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "guide.pdf"
    pdf.output(str(path))
    document = _document(path)
    headings = [(s.level, document.text[s.start : s.end]) for s in document.sections if s.kind == "heading"]
    assert headings == [(1, "Guide du diagnostic économique"), (2, "Étape 1 : cadrer la commande")]
    assert "Page 1 / 1" not in document.text
    assert document.metadata["title"] == "Guide du diagnostic économique"
