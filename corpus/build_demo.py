"""Build the DOCX and PDF files of the demo corpus from their Markdown sources.

Why this exists: the demo corpus must exercise the DOCX and PDF loaders of the
RAG pipeline, but binary files are awkward to review and edit. Their text lives
in ``corpus/demo-src/*.md`` (YAML front matter with a ``format`` key, then a
Markdown subset: ``#``/``##`` headings, ``- `` bullets, ``*italic paragraph*``,
``| a | b |`` table rows (the first is the header), ``<!-- pagebreak -->`` for the PDF) and this
script renders each one into ``corpus/demo/<stem>.docx|.pdf`` plus a ``<stem>.<ext>.meta.yaml`` sidecar.
``format`` may list several formats (the same document in two files, a copy the ingest indexes once);
``scan`` makes a PDF of page images only, like a scanner: the typeset pages are rasterised (150 dpi,
grey, a slight tilt and speckles drawn from a generator seeded by the file name) and only the pictures kept.

Output is byte-reproducible: DOCX core-property dates, ZIP entry timestamps and
PDF dates all derive from the document's ``date``. The PDF uses fpdf2's core
Helvetica font (Latin-1 only), so a few characters are normalised in the PDF
alone, see ``PDF_REPLACEMENTS``. Usage: ``python corpus/build_demo.py``.
"""

import io
import logging
import random
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from docx import Document
from fpdf import FPDF

HERE = Path(__file__).resolve().parent
SRC_DIR = HERE / "demo-src"
OUT_DIR = HERE / "demo"
META_KEYS = ("title", "organisation", "type", "date", "territory", "region", "themes", "fictional")
PAGEBREAK = "<!-- pagebreak -->"
PDF_REPLACEMENTS = {
    "\u2019": "'",
    "\u2018": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u0153": "oe",
    "\u0152": "OE",
    "\u2026": "...",
    "\u2013": "-",
    "\u2014": "-",
    "\u202f": " ",
    "\u20ac": "EUR",
}

log = logging.getLogger("build_demo")
Block = tuple[str, str]  # (kind, text) with kind in h1, h2, p, em, li, table (rows joined by "\n"), break
SCAN_DPI = 150


def parse_source(path: Path) -> tuple[dict[str, Any], list[Block]]:
    """Split a source file into its front matter and a list of blocks."""
    text = path.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S)
    if not match:
        raise ValueError(f"{path.name}: missing YAML front matter")
    meta = yaml.safe_load(match.group(1))
    missing = [k for k in (*META_KEYS, "format") if k not in meta]
    if missing:
        raise ValueError(f"{path.name}: missing front matter keys {missing}")
    blocks: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            joined = " ".join(para)
            if len(joined) > 2 and joined.startswith("*") and joined.endswith("*"):
                blocks.append(("em", joined[1:-1]))
            else:
                blocks.append(("p", joined))
            para.clear()

    for raw in match.group(2).splitlines():
        line = raw.strip()
        if line.startswith("|"):
            flush()
            if blocks and blocks[-1][0] == "table":
                blocks[-1] = ("table", f"{blocks[-1][1]}\n{line}")
            else:
                blocks.append(("table", line))
            continue
        kind = next((k for p, k in (("## ", "h2"), ("# ", "h1"), ("- ", "li")) if line.startswith(p)), "")
        if not line or kind or line == PAGEBREAK:
            flush()
        if kind:
            blocks.append((kind, line.split(" ", 1)[1].strip()))
        elif line == PAGEBREAK:
            blocks.append(("break", ""))
        elif line:
            para.append(line)
    flush()
    return meta, blocks


def table_cells(text: str) -> list[list[str]]:
    """Rows of a ``| a | b |`` table block, cells stripped."""
    return [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in text.split("\n")]


def fixed_datetime(meta: dict[str, Any]) -> datetime:
    """A stable timestamp (document date, 09:00 UTC) used for all file dates."""
    day = datetime.fromisoformat(str(meta["date"]))
    return day.replace(hour=9, tzinfo=UTC)


def build_docx(meta: dict[str, Any], blocks: list[Block], out: Path) -> None:
    """Render blocks to a Word document with real Heading styles."""
    doc = Document()
    stamp = fixed_datetime(meta).replace(tzinfo=None)
    props = doc.core_properties
    props.title, props.author = meta["title"], meta["organisation"]
    props.last_modified_by, props.revision = meta["organisation"], 1
    props.created, props.modified, props.last_printed = stamp, stamp, stamp
    props.subject, props.keywords = meta["type"], ", ".join(meta["themes"])
    for kind, text in blocks:
        if kind in ("h1", "h2"):
            doc.add_heading(text, level=int(kind[1]))
        elif kind == "li":
            doc.add_paragraph(text, style="List Bullet")
        elif kind == "em":
            doc.add_paragraph().add_run(text).italic = True
        elif kind == "table":
            rows = table_cells(text)
            table = doc.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
        elif kind == "p":
            doc.add_paragraph(text)
    buffer = io.BytesIO()
    doc.save(buffer)
    # Re-write the ZIP with fixed entry timestamps so that builds are identical.
    date_time = stamp.timetuple()[:6]
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w") as dst:
        for name in sorted(src.namelist(), key=lambda n: (n != "[Content_Types].xml", n)):
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            dst.writestr(info, src.read(name))


def pdf_text(text: str) -> str:
    """Normalise text to Latin-1 for fpdf2's core fonts."""
    for char, repl in PDF_REPLACEMENTS.items():
        text = text.replace(char, repl)
    bad = sorted({c for c in text if ord(c) > 255})
    if bad:
        raise ValueError(f"characters not representable in Latin-1: {bad}")
    return text


class DemoPDF(FPDF):
    """FPDF with a page-number footer."""

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", "", 9)
        self.cell(0, 10, f"Page {self.page_no()} / {{nb}}", align="C")


def build_pdf(meta: dict[str, Any], blocks: list[Block], out: Path | None) -> int | bytes:
    """Render blocks to a PDF; returns the number of pages (or, without ``out``, the PDF's bytes)."""
    pdf = DemoPDF(format="A4")
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(True, margin=22)
    pdf.set_title(pdf_text(meta["title"]))
    pdf.set_author(pdf_text(meta["organisation"]))
    pdf.set_subject(pdf_text(meta["type"]))
    pdf.set_keywords(pdf_text(", ".join(meta["themes"])))
    pdf.set_creator("corpus/build_demo.py")
    pdf.set_lang("fr-FR")
    pdf.set_creation_date(fixed_datetime(meta))
    pdf.add_page()
    width = pdf.epw
    for kind, raw in blocks:
        text = pdf_text(raw)
        if kind == "break":
            pdf.add_page()
        elif kind == "h1":
            pdf.set_font("Helvetica", "B", 17)
            pdf.multi_cell(width, 8, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        elif kind == "h2":
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 13)
            pdf.multi_cell(width, 7, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif kind == "table":
            pdf.set_font("Helvetica", "", 10)
            with pdf.table(line_height=6) as table:
                for values in table_cells(text):
                    row = table.row()
                    for value in values:
                        row.cell(value)
            pdf.ln(3)
        elif kind == "li":
            pdf.set_font("Helvetica", "", 11)
            pdf.cell(6, 6, "-")
            pdf.multi_cell(width - 6, 6, text, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.set_font("Helvetica", "I" if kind == "em" else "", 11)
            pdf.multi_cell(width, 6, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
    if out is None:
        return bytes(pdf.output())
    pdf.output(str(out))
    return pdf.page_no()


def build_scan(meta: dict[str, Any], blocks: list[Block], out: Path) -> int:
    """A PDF of page pictures only (no text layer), made reproducibly from the typeset document."""
    import pypdfium2
    from PIL import Image

    typeset = pypdfium2.PdfDocument(build_pdf(meta, blocks, None))
    rng = random.Random(out.name)
    scan = FPDF(format="A4")
    scan.set_creator("corpus/build_demo.py (numérisation simulée)")
    scan.set_creation_date(fixed_datetime(meta))
    for page in typeset:
        image = page.render(scale=SCAN_DPI / 72, grayscale=True).to_pil().convert("L")
        image = image.rotate(rng.uniform(-0.5, 0.5), resample=Image.Resampling.BICUBIC, fillcolor=255)
        pixels = image.load()
        for _ in range(image.width * image.height // 400):  # photocopier speckles
            pixels[rng.randrange(image.width), rng.randrange(image.height)] = rng.randrange(90, 200)
        scan.add_page()
        scan.image(image, x=0, y=0, w=scan.w, h=scan.h)
    scan.output(str(out))
    return len(typeset)


def write_sidecar(meta: dict[str, Any], out: Path) -> None:
    """Write ``<file>.meta.yaml`` with the metadata keys (without ``format``)."""
    data = {key: meta[key] for key in META_KEYS}
    data["date"] = str(data["date"])
    sidecar = out.with_name(out.name + ".meta.yaml")
    sidecar.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    sources = sorted(SRC_DIR.glob("*.md"))
    for source in sources:
        meta, blocks = parse_source(source)
        formats = meta["format"] if isinstance(meta["format"], list) else [meta["format"]]
        for fmt in formats:
            out = OUT_DIR / f"{source.stem}.{'pdf' if fmt == 'scan' else fmt}"
            if fmt == "docx":
                build_docx(meta, blocks, out)
                log.info("built %s", out.relative_to(HERE))
            elif fmt in ("pdf", "scan"):
                pages = (build_scan if fmt == "scan" else build_pdf)(meta, blocks, out)
                log.info("built %s (%d pages%s)", out.relative_to(HERE), pages, ", scanned" if fmt == "scan" else "")
                if pages < 2:
                    log.warning("%s has a single page", out.name)
            else:
                raise ValueError(f"{source.name}: unknown format {fmt!r}")
            write_sidecar(meta, out)
    log.info("%d documents built into %s", len(sources), OUT_DIR)


if __name__ == "__main__":
    main()
