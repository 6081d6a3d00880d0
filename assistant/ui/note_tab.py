"""The « Note » tab: a pillar-note draft written section by section into editable boxes, then exported.

The drafter (``ExperienceDesk.draft_note``) yields one event per section; each is shown as
it comes. Every section is a text box the user edits; the export rebuilds the note from the
edited texts (``assistant.experiences.editing``: uncited references dropped, the rest
renumbered by first citation) and writes it to Word and Markdown.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import gradio as gr

from assistant.experiences.editing import note_from_edited_sections, renumbering_summary, section_text
from assistant.experiences.export import note_to_docx, note_to_markdown, reference_text
from assistant.experiences.note import DRAFT_NOTICE, SECTIONS, Note, NoteReady, SectionStarted, SectionWritten
from assistant.experiences.service import ExperienceDesk
from assistant.ui.precedents_tab import refresh_cards
from assistant.ui.safe_text import escape_markdown

log = logging.getLogger(__name__)

DEFAULT_TOPIC = "pilier développement économique"
WRITERS = [("Extraits cités (hors ligne)", "extraits"), ("Modèle de langue, vérifié phrase à phrase", "llm")]
EDIT_HINT = (
    "Modifiez librement chaque partie : un paragraphe par bloc séparé d'une ligne vide, les extraits en tirets, "
    "les renvois [n] tels quels. À l'export, les références plus citées sont retirées et les autres renumérotées."
)


def notice_markdown(note: Note | None = None) -> str:
    """The draft banner: always the draft notice, then the fictional-corpus warning and the note's subject."""
    lines = [f"### ⚠️ {DRAFT_NOTICE}"]
    if note is not None:
        if note.warning:
            lines.append(f"> {note.warning}")
        lines.append(f"*Territoire : {note.territory} · Sujet : {note.topic} · Date : {note.date}*")
    return "\n\n".join(lines)


def progress_markdown(done: Sequence[tuple[str, int]], current: str | None, total: int) -> str:
    """✓ for each written section (with its cited paragraphs), ⏳ for the one being written."""
    lines = [
        f"✓ {i}/{total} {heading} — {cited} paragraphe{'s' if cited > 1 else ''} cité{'s' if cited > 1 else ''}"
        for i, (heading, cited) in enumerate(done, 1)
    ]
    if current is not None:
        lines.append(f"⏳ {len(done) + 1}/{total} {current}…")
    elif len(done) == total:
        lines.append("Projet rédigé : relisez et complétez chaque partie, puis exportez.")
    return "  \n".join(lines)


def references_markdown(note: Note) -> str:
    if not note.references:
        return "#### Références\n\nAucune référence."
    return "#### Références\n\n" + "  \n".join(
        f"\\[{r.number}\\] {escape_markdown(reference_text(r))}" for r in note.references
    )


class NoteTab:
    """Event handlers; the drafted note of each session lives in its ``gr.State``."""

    def __init__(self, desk: ExperienceDesk, boxes: int) -> None:
        self.desk = desk
        self.boxes = boxes
        self.exports = desk.components.settings.data_dir / "exports"

    def draft(self, territory: str, topic: str, writer_kind: str) -> Iterator[tuple[Any, ...]]:
        """Stream the sections into their boxes; outputs: notice, progress, boxes, references, note, export
        status, DOCX, Markdown."""
        territory, topic = (territory or "").strip(), (topic or "").strip() or DEFAULT_TOPIC
        skip_boxes = [gr.skip()] * self.boxes
        if not territory:
            message = "Décrivez d'abord le territoire (par exemple « ville moyenne de 50 000 habitants en Occitanie »)."
            yield gr.skip(), message, *skip_boxes, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        try:
            writer = self.desk.section_writer(writer_kind or "extraits")
        except ValueError as exc:
            yield gr.skip(), f"✗ {exc}", *skip_boxes, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        refresh_cards(self.desk)
        hidden = gr.update(visible=False)
        cleared = [gr.update(value="", visible=False)] * self.boxes
        yield (
            gr.update(value=notice_markdown(), visible=True),
            progress_markdown([], SECTIONS[0].heading, len(SECTIONS)),
            *cleared,
            "",
            None,
            EDIT_HINT,
            hidden,
            hidden,
        )
        done: list[tuple[str, int]] = []
        for event in self.desk.draft_note(territory=territory, topic=topic, writer=writer):
            if isinstance(event, SectionStarted):
                yield gr.skip(), progress_markdown(done, event.heading, event.total), *skip_boxes, *[gr.skip()] * 5
            elif isinstance(event, SectionWritten):
                if event.index > self.boxes:
                    raise RuntimeError(f"{event.total} parties rédigées pour {self.boxes} zones d'édition")
                done.append((event.section.heading, sum(1 for p in event.section.paragraphs if p.refs)))
                boxes = list(skip_boxes)
                boxes[event.index - 1] = gr.update(
                    value=section_text(event.section), label=f"{event.index}. {event.section.heading}", visible=True
                )
                yield gr.skip(), progress_markdown(done, None, event.total), *boxes, *[gr.skip()] * 5
            elif isinstance(event, NoteReady):
                note = event.note
                log.info("note drafted from the interface: %s, %d references", note.topic, len(note.references))
                yield notice_markdown(note), gr.skip(), *skip_boxes, references_markdown(note), note, *[gr.skip()] * 3

    def export(self, note: Note | None, *texts: str) -> tuple[Any, ...]:
        """The note rebuilt from the edited texts, written to DOCX and Markdown; outputs: status, DOCX, Markdown."""
        if note is None:
            return "Rédigez d'abord une note avec « Rédiger ».", gr.skip(), gr.skip()
        try:
            edited = note_from_edited_sections(note, texts[: len(note.sections)])
        except ValueError as exc:
            return f"✗ Export impossible : {exc}.", gr.update(visible=False), gr.update(visible=False)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        docx_path = note_to_docx(edited.note, self.exports / f"projet-de-note-{stamp}.docx")
        md_path = self.exports / f"projet-de-note-{stamp}.md"
        md_path.write_text(note_to_markdown(edited.note), encoding="utf-8")
        changes = renumbering_summary(edited)
        status = f"Note exportée avec {len(edited.note.references)} références" + (f" ; {changes}." if changes else ".")
        return status, gr.update(value=str(docx_path), visible=True), gr.update(value=str(md_path), visible=True)


def build_note_tab(desk: ExperienceDesk) -> None:
    """The tab's components and events (call inside ``gr.Tabs``); one edit box per section of the plan."""
    tab = NoteTab(desk, boxes=len(SECTIONS))
    with gr.Tab("Note", id="note"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=260):
                territory = gr.Textbox(
                    label="Territoire",
                    placeholder="ville moyenne de 50 000 habitants en Occitanie, QPV en centre ancien",
                    lines=2,
                    elem_id="note-territory",
                )
                topic = gr.Textbox(label="Sujet", value=DEFAULT_TOPIC, elem_id="note-topic")
                writer = gr.Radio(label="Rédaction", choices=WRITERS, value="extraits", elem_id="note-writer")
                write = gr.Button("Rédiger", variant="primary", elem_id="note-draft")
                progress = gr.Markdown(elem_id="note-progress")
            with gr.Column(scale=3):
                notice = gr.Markdown(visible=False, elem_id="note-notice")
                boxes = [
                    gr.Textbox(
                        label=f"{i}. {plan.heading}", lines=5, max_lines=24, visible=False, elem_id=f"note-section-{i}"
                    )
                    for i, plan in enumerate(SECTIONS, 1)
                ]
                references = gr.Markdown(elem_id="note-references")
                export = gr.Button("Exporter (Word et Markdown)", elem_id="note-export")
                export_status = gr.Markdown(elem_id="note-export-status")
                with gr.Row():
                    docx_file = gr.File(label="Note (Word)", interactive=False, visible=False, elem_id="note-docx")
                    md_file = gr.File(label="Note (Markdown)", interactive=False, visible=False, elem_id="note-md")
        note = gr.State(None)  # this session's drafted note, as the drafter wrote it
    outputs = [notice, progress, *boxes, references, note, export_status, docx_file, md_file]
    write.click(tab.draft, [territory, topic, writer], outputs, show_progress="hidden")
    export.click(tab.export, [note, *boxes], [export_status, docx_file, md_file])
