"""Real files of every supported format, generated for tests."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import docx
from fpdf import FPDF


def write_pdf(path: Path, pages: list[str], *, title: str | None = None, password: str | None = None) -> Path:
    """A text PDF, one string per page (Latin-1 text: fpdf2's core fonts)."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    if title:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    if password:
        pdf.set_encryption(owner_password="proprietaire", user_password=password)
    pdf.output(str(path))
    return path


def write_image_only_pdf(path: Path) -> Path:
    """A PDF whose only page holds a drawing and no text, like a scan."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_fill_color(80, 80, 80)
    for row in range(20):
        pdf.rect(10, 10 + row * 12, 150, 6, style="F")
    pdf.output(str(path))
    return path


def write_docx(path: Path, parts: list[tuple[str, str]], *, title: str | None = None, **properties: object) -> Path:
    """``parts`` are ("h1" | "h2" | "p", text) in order; ``properties`` set core properties (author, modified…).

    What is not set keeps python-docx's template values (author "python-docx", dated 2013-12-23).
    """
    document = docx.Document()
    if title:
        document.core_properties.title = title
    for name, value in properties.items():
        setattr(document.core_properties, name, value)
    for kind, text in parts:
        if kind == "p":
            document.add_paragraph(text)
        else:
            document.add_heading(text, level=int(kind[1]))
    document.save(str(path))
    return path


def rewrite_zip_member(path: Path, member: str, data: bytes) -> Path:
    """Replace one member of a zip-based file (DOCX) with ``data``, keeping the others."""
    with zipfile.ZipFile(path) as source:
        members = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, content in members:
            target.writestr(info.filename, data if info.filename == member else content)
    return path


def write_malformed_docx(path: Path) -> Path:
    """A DOCX whose body XML is cut in the middle of an element."""
    write_docx(path, [("p", "Un paragraphe qui ne sera jamais lu.")])
    with zipfile.ZipFile(path) as source:
        body = source.read("word/document.xml")
    return rewrite_zip_member(path, "word/document.xml", body[: len(body) // 2])


_BOMB_WORDS = (
    "quartier emploi insertion contrat ville partenaires mobilité commerce habitants bilan action "
    "financement région accompagnement jeunes entreprises diagnostic territoire projet"
).split()


def write_docx_bomb(path: Path, unpacked_mb: float, *, varied: bool = False) -> Path:
    """A real DOCX whose body XML unpacks to ``unpacked_mb`` MB of paragraphs.

    Repeated paragraphs compress about a thousand times (a small file, a huge XML);
    ``varied`` text compresses like real prose (about ten times), so only the size of
    what it holds gives it away.
    """
    write_docx(path, [("p", "Début du document.")])
    with zipfile.ZipFile(path) as source:
        body = source.read("word/document.xml").decode("utf-8")
    head, tail = body.split("<w:body>", 1)
    rng = random.Random(7)
    paragraphs = []
    for _ in range(2000 if varied else 1):
        words = " ".join(rng.choice(_BOMB_WORDS) for _ in range(40))
        paragraphs.append(f"<w:p><w:r><w:t>{words}.</w:t></w:r></w:p>")
    block = "".join(paragraphs)
    filler = block * max(1, int(unpacked_mb * 1024 * 1024 / len(block.encode("utf-8"))))
    return rewrite_zip_member(path, "word/document.xml", f"{head}<w:body>{filler}{tail}".encode())


NOISY_HTML = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{title}</title></head>
<body><header><div class="logo">Centre de ressources</div><nav><ul><li><a href="/">Accueil</a></li>
<li><a href="/ressources">Ressources</a></li><li><a href="/agenda">Agenda</a></li></ul></nav></header>
<div class="cookie-banner">Ce site utilise des cookies pour mesurer l'audience. <button>Accepter</button>
<button>Refuser</button></div>
<p class="breadcrumb">Vous êtes ici : Accueil &gt; Ressources &gt; Fiches</p>
<main><article><h1>{title}</h1>{body}</article></main>
<div class="share"><a>Partager sur Facebook</a> <a>Partager sur LinkedIn</a> <a>Imprimer</a></div>
<footer><a>Mentions légales</a> <a>Plan du site</a> <a>Aller à la barre d'outils</a></footer></body></html>"""


def write_html(path: Path, title: str, paragraphs: list[str], *, heading: str | None = None) -> Path:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    if heading:
        body += f"<h2>{heading}</h2><p>Une section ajoutée pour vérifier les intertitres de la page.</p>"
    path.write_text(NOISY_HTML.format(title=title, body=body), encoding="utf-8")
    return path


TOPICS = [
    (
        "mobilite",
        "La plateforme mobilité de Valbrune prête des scooters aux demandeurs d'emploi du quartier des Acacias.",
    ),
    ("commerce", "La foncière commerce a racheté six locaux en pied d'immeuble pour y installer une boulangerie."),
    ("insertion", "Les clauses sociales d'insertion du chantier de rénovation ont produit 14 000 heures de travail."),
]


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, sentence in TOPICS:
        (folder / f"{name}.md").write_text(
            f"# Fiche {name}\n\n{sentence}\n\n## Suite\n\n{sentence} Bilan positif.\n", "utf-8"
        )
    return folder
