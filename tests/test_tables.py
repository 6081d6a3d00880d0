"""Tables kept as tables: PDF (pdfplumber), DOCX and HTML tables become row blocks, passages keep them
whole or cut them between rows with the header carried along, and a table cell is answered as its row."""

from __future__ import annotations

from pathlib import Path

import docx
from fpdf import FPDF

from assistant.corpus import embedding_text
from assistant.types import Block
from ingest.chunking import ChunkSizes, chunk_document
from ingest.documents import build_document
from ingest.loaders import LoadedFile, load_file
from ingest.sync import discover
from ingest.tables import markdown_table_block, table_text

FUNDING = [
    ("Financeur", "Montant", "Part"),
    ("État (politique de la ville)", "120 000 €", "38 %"),
    ("Région Centre-Val de Loire", "55 000 €", "18 %"),
    ("Communauté d'agglomération", "137 000 €", "44 %"),
]
FUNDING_ROWS = (
    "| Financeur | Montant | Part |\n"
    "| État (politique de la ville) | 120 000 € | 38 % |\n"
    "| Région Centre-Val de Loire | 55 000 € | 18 % |\n"
    "| Communauté d'agglomération | 137 000 € | 44 % |"
)


def write_table_pdf(path: Path, rows=FUNDING) -> Path:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, "Plateforme mobilité des Acacias", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(0, 6, "Le plan de financement 2021 de la plateforme est le suivant.")
    with pdf.table() as table:
        for values in rows:
            row = table.row()
            for value in values:
                row.cell(value.replace("€", "EUR"))
    pdf.multi_cell(0, 6, "Le budget total atteint 312 000 euros.")
    pdf.output(str(path))
    return path


def test_table_text_is_one_line_per_row_and_pipes_inside_cells_are_escaped():
    assert table_text([["a", "b|c"], [None, ""], ["1", " 2\n3 "]]) == "| a | b/c |\n| 1 | 2 3 |"


def test_a_markdown_table_loses_its_separator_line():
    block = markdown_table_block("| Financeur | Montant |\n|---|---:|\n| État | 120 000 € |")
    assert block == Block(text="| Financeur | Montant |\n| État | 120 000 € |", kind="table")


def test_pdf_table_is_read_as_rows_between_its_paragraphs(tmp_path):
    path = write_table_pdf(tmp_path / "budget.pdf")
    blocks = load_file(path.read_bytes(), path).blocks
    assert [(b.kind, b.page) for b in blocks] == [("heading", 1), ("paragraph", 1), ("table", 1), ("paragraph", 1)]
    assert blocks[2].text == FUNDING_ROWS.replace("€", "EUR")


def test_docx_and_html_tables_are_table_blocks(tmp_path):
    document = docx.Document()
    document.add_paragraph("Plan de financement.")
    grid = document.add_table(rows=len(FUNDING), cols=3)
    for r, values in enumerate(FUNDING):
        for c, value in enumerate(values):
            grid.cell(r, c).text = value
    document.save(tmp_path / "budget.docx")
    blocks = load_file((tmp_path / "budget.docx").read_bytes(), tmp_path / "budget.docx").blocks
    assert blocks[-1] == Block(text=FUNDING_ROWS, kind="table")

    rows = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in values) + "</tr>" for values in FUNDING)
    html = (
        "<html><head><title>Budget</title></head><body><article><h1>Plateforme mobilité</h1>"
        "<p>Le plan de financement 2021 de la plateforme mobilité des Acacias est détaillé ci-dessous.</p>"
        f"<table>{rows}</table><p>Le budget total atteint 312 000 euros pour l'année.</p></article></body></html>"
    )
    (tmp_path / "budget.html").write_text(html, "utf-8")
    blocks = load_file((tmp_path / "budget.html").read_bytes(), tmp_path / "budget.html").blocks
    assert [b.text for b in blocks if b.kind == "table"] == [FUNDING_ROWS]


def test_a_table_stays_whole_in_a_passage_or_is_cut_between_rows_with_its_header():
    def count(text: str) -> int:
        return len(text.split())

    rows = [("Année", "Heures d'insertion")] + [(str(2000 + i), f"{1000 + i} heures réalisées") for i in range(30)]
    loaded = LoadedFile(blocks=[Block("Bilan", kind="heading", level=1), Block(table_text(rows), kind="table")])
    document = build_document("d1", loaded, source="/x/bilan.md", file_meta={}, sidecar={})
    whole = chunk_document(document, count_tokens=count, sizes=ChunkSizes(), chunk_prefix="d1")
    assert len(whole) == 1 and whole[0].text.endswith("| 2029 | 1029 heures réalisées |")

    small = ChunkSizes(target=30, maximum=40, minimum=5, overlap=0)
    pieces = chunk_document(document, count_tokens=count, sizes=small, chunk_prefix="d1")
    table_pieces = [c for c in pieces if "|" in c.text]
    assert len(table_pieces) > 2
    header = "| Année | Heures d'insertion |"
    assert table_pieces[0].text.startswith(header) and table_pieces[0].heading_path == ("Bilan",)
    for piece in table_pieces[1:]:
        assert piece.heading_path == ("Bilan", header) and piece.text.startswith("| 20")
        assert all(line.startswith("|") and line.endswith("|") for line in piece.text.split("\n"))
        assert header in embedding_text(piece)
    assert "\n".join(c.text for c in table_pieces) == table_text(rows)  # every row once, none cut


def test_a_question_whose_answer_is_a_table_cell_is_answered_by_its_row(services, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    write_table_pdf(folder / "budget-mobilite.pdf")
    (folder / "autre.md").write_text(
        "# Garage solidaire\n\nLe garage solidaire de la Plaine répare les voitures des ménages modestes.\n", "utf-8"
    )
    services.indexer.sync(discover([folder]))
    hits = services.searcher.search("Combien la Région Centre-Val de Loire finance-t-elle la plateforme ?", k=1)
    assert "| Région Centre-Val de Loire | 55 000 EUR | 18 % |" in hits[0].chunk.text
    answer = services.assistant.ask("Combien la Région Centre-Val de Loire finance-t-elle la plateforme mobilité ?")
    assert not answer.refused
    quotes = [c.quote for c in answer.citations]
    assert "| Région Centre-Val de Loire | 55 000 EUR | 18 % |" in quotes, quotes
