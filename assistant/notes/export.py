"""Exports: comparison tables to Markdown and CSV, notes to Markdown and DOCX (python-docx)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

from assistant.experiences.bibliography import Reference
from assistant.experiences.compare import ComparisonTable, Footnote
from assistant.notes.note import Note

METADATA_NOTE = "valeur déclarée dans les métadonnées du document"


def display_location(location: str) -> str:
    """A URL as is; a file path relative to the working directory when it lies under it."""
    if "://" in location:
        return location
    try:
        return str(Path(location).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return location


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _marks(notes: tuple[int, ...]) -> str:
    return "".join(f"[{n}]" for n in notes)


def footnote_text(note: Footnote) -> str:
    where = f"« {note.title} », {display_location(note.location)}"
    if note.from_metadata:
        return f"{METADATA_NOTE} — {where}"
    return " / ".join(f"« {_one_line(q)} »" for q in note.quotes) + f" — {where}"


def _md_text(text: str) -> str:
    """Document text for a Markdown file: no HTML tag (``\\<``), no inline link or image (``]\\(``)."""
    return _one_line(text).replace("<", "\\<").replace("](", "]\\(")


def _md_cell(text: str) -> str:
    return _md_text(text).replace("|", "\\|")


def table_to_markdown(table: ComparisonTable) -> str:
    header = ["Champ", *(f"{c.title}{' (fictif)' if c.fictional else ''}" for c in table.columns)]
    lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    for row in table.rows:
        cells = [f"{cell.text} {_marks(cell.notes)}".strip() for cell in row.cells]
        lines.append("| " + " | ".join(_md_cell(c) for c in [row.label, *cells]) + " |")
    lines += ["", "Sources :", ""]
    lines += [f"[{n.number}] {_md_cell(footnote_text(n))}" + "  " for n in table.footnotes]
    return "\n".join(lines).rstrip() + "\n"


def table_to_csv(table: ComparisonTable) -> str:
    """One row per field (cells keep their [n] marks), then one row per footnote."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Champ", *(c.title for c in table.columns)])
    for row in table.rows:
        writer.writerow([row.label, *(f"{cell.text} {_marks(cell.notes)}".strip() for cell in row.cells)])
    writer.writerow([])
    writer.writerow(["Note", "Document", "Emplacement", "Extrait"])
    for n in table.footnotes:
        writer.writerow(
            [
                f"[{n.number}]",
                n.title,
                display_location(n.location),
                " / ".join(_one_line(q) for q in n.quotes) or METADATA_NOTE,
            ]
        )
    return out.getvalue()


def reference_text(reference: Reference) -> str:
    parts = [f"« {reference.title} »"]
    parts += [p for p in (reference.organisation, reference.date) if p]
    if reference.pages:
        parts.append(("p. " if len(reference.pages) == 1 else "pp. ") + ", ".join(map(str, reference.pages)))
    text = ", ".join(parts) + f". {display_location(reference.location)}"
    return text + (" (document fictif)" if reference.fictional else "")


def note_to_markdown(note: Note) -> str:
    lines = [f"# {note.title}", "", f"**{note.notice}**", ""]
    if note.warning:
        lines += [f"> ⚠ {note.warning}", ""]
    lines += [f"*Territoire : {note.territory} · Sujet : {note.topic} · Date : {note.date}*", ""]
    for number, section in enumerate(note.sections, 1):
        lines += [f"## {number}. {section.heading}", ""]
        for paragraph in section.paragraphs:
            bullet = "- " if paragraph.kind == "extract" else ""
            lines += [bullet + _md_text(paragraph.text), ""]
    lines += ["## Références", ""]
    lines += [f"[{r.number}] {_md_text(reference_text(r))}" + "  " for r in note.references]
    return "\n".join(lines).rstrip() + "\n"


def note_to_docx(note: Note, path: Path) -> Path:
    """A Word document (opens in Word and LibreOffice): title, draft notice, numbered sections, references."""
    from docx import Document as DocxDocument
    from docx.shared import Pt, RGBColor

    document = DocxDocument()
    document.core_properties.title = note.title
    document.core_properties.subject = note.topic
    document.core_properties.author = "Assistant politique de la ville (projet à relire)"
    document.add_heading(note.title, level=0)
    notice = document.add_paragraph().add_run(note.notice)
    notice.bold = True
    notice.font.color.rgb = RGBColor(0xB0, 0x00, 0x20)
    if note.warning:
        warning = document.add_paragraph().add_run(note.warning)  # no ⚠: common Word fonts lack it
        warning.italic = True
    meta = document.add_paragraph().add_run(
        f"Territoire : {note.territory} · Sujet : {note.topic} · Date : {note.date}"
    )
    meta.font.size = Pt(9)
    for number, section in enumerate(note.sections, 1):
        document.add_heading(f"{number}. {section.heading}", level=1)
        for paragraph in section.paragraphs:
            style = "List Bullet" if paragraph.kind == "extract" else None
            document.add_paragraph(_one_line(paragraph.text), style=style)
    document.add_heading("Références", level=1)
    for reference in note.references:
        document.add_paragraph(f"[{reference.number}] {reference_text(reference)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


class ExportFolder:
    """Where the interface writes the files people download: one pair per export, time-stamped to the
    microsecond so that two sessions never overwrite each other's."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _stamped(self, stem: str) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        return self.directory / f"{stem}-{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}"

    def comparison(self, table: ComparisonTable) -> tuple[Path, Path]:
        """The table as CSV (with a BOM, so Excel reads the accents) and Markdown: (csv, markdown)."""
        base = self._stamped("comparaison")
        csv_path, md_path = base.with_name(base.name + ".csv"), base.with_name(base.name + ".md")
        csv_path.write_text(table_to_csv(table), encoding="utf-8-sig")
        md_path.write_text(table_to_markdown(table), encoding="utf-8")
        return csv_path, md_path

    def note(self, note: Note) -> tuple[Path, Path]:
        """The note as Word and Markdown: (docx, markdown)."""
        base = self._stamped("projet-de-note")
        docx_path = note_to_docx(note, base.with_name(base.name + ".docx"))
        md_path = base.with_name(base.name + ".md")
        md_path.write_text(note_to_markdown(note), encoding="utf-8")
        return docx_path, md_path
