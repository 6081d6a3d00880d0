"""The « Note » tab: a pillar-note draft written section by section into editable boxes, then exported.

The drafter (``ExperienceDesk.draft_note``) yields one event per section; each is shown as
it comes. Every section is a text box the user edits; the export rebuilds the note from the
edited texts (``assistant.experiences.editing``: uncited references dropped, the rest
renumbered by first citation) and writes it to Word and Markdown.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import gradio as gr

from assistant.experiences.editing import note_from_edited_sections, renumbering_summary, section_text
from assistant.experiences.export import ExportFolder, reference_text
from assistant.experiences.note import (
    DRAFT_NOTICE,
    SECTIONS,
    Note,
    NoteReady,
    NoteSection,
    SectionStarted,
    SectionWritten,
)
from assistant.experiences.service import ExperienceDesk
from assistant.ui.safe_text import escape_markdown

log = logging.getLogger(__name__)

DEFAULT_TOPIC = "pilier développement économique"
WRITERS = [("Extraits cités (hors ligne)", "extraits"), ("Modèle de langue, vérifié phrase à phrase", "llm")]
PENDING = "En attente de rédaction…"
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


class DraftView:
    """The streamed part of the Note tab while a draft is written: plain values only (see ``NoteTab.draft``)."""

    def __init__(self, boxes: int) -> None:
        self.progress = progress_markdown([], SECTIONS[0].heading, len(SECTIONS))
        self.texts = [""] * boxes
        self.references = ""
        self.notice = notice_markdown()
        self.note: Note | None = None
        self.done: list[tuple[str, int]] = []

    def started(self, heading: str, total: int) -> None:
        self.progress = progress_markdown(self.done, heading, total)

    def written(self, index: int, section: NoteSection, total: int) -> None:
        self.done.append((section.heading, sum(1 for p in section.paragraphs if p.refs)))
        self.texts[index - 1] = section_text(section)
        self.progress = progress_markdown(self.done, None, total)

    def ready(self, note: Note) -> None:
        self.note = note
        self.notice = notice_markdown(note)
        self.references = references_markdown(note)

    def outputs(self) -> tuple[Any, ...]:
        """progress, boxes, references, note, notice."""
        return (self.progress, *self.texts, self.references, self.note, self.notice)


class NoteTab:
    """Event handlers; the drafted note of each session lives in its ``gr.State``.

    « Rédiger » runs two events. ``open_draft`` (one answer, no stream) shows the section boxes, empty, and
    hides the previous export; then ``draft`` streams the sections into the boxes as plain values, and every
    step carries every box's text. Nothing streamed changes a component's visibility or skips an output:
    Gradio's page client rebuilds each streamed step by applying its diff *in place* to the objects of the
    steps it has not rendered yet, so on a busy page a step that skipped a box turned the previous step's
    "show section 5" into "no change" before it was rendered (the progress said ✓ 6/6, the box stayed
    hidden), and streamed visibility changes re-mounted boxes that then lost their text.
    """

    def __init__(self, desk: ExperienceDesk, boxes: int, exports: ExportFolder) -> None:
        self.desk = desk
        self.boxes = boxes
        self.exports = exports

    def _refusal(self, territory: str, writer_kind: str) -> str | None:
        """Why no draft can be written (French), or None."""
        if not (territory or "").strip():
            return "Décrivez d'abord le territoire (par exemple « ville moyenne de 50 000 habitants en Occitanie »)."
        try:
            self.desk.section_writer(writer_kind or "extraits")
        except ValueError as exc:
            return f"✗ {exc}"
        return None

    def open_draft(self, territory: str, writer_kind: str) -> tuple[Any, ...]:
        """Outputs: notice, progress, sections column, boxes, references, export status, DOCX, Markdown."""
        refusal = self._refusal(territory, writer_kind)
        if refusal is not None:
            return gr.skip(), refusal, gr.skip(), *[gr.skip()] * self.boxes, *[gr.skip()] * 4
        hidden = gr.update(value=None, visible=False)
        return (
            gr.update(value=notice_markdown(), visible=True),
            progress_markdown([], SECTIONS[0].heading, len(SECTIONS)),
            gr.update(visible=True),
            *[""] * self.boxes,
            "",
            EDIT_HINT,
            hidden,
            hidden,
        )

    def draft(self, territory: str, topic: str, writer_kind: str) -> Iterator[tuple[Any, ...]]:
        """Stream the sections into their boxes (after ``open_draft``); outputs: progress, boxes, references,
        note, notice."""
        if self._refusal(territory, writer_kind) is not None:  # open_draft said why
            yield gr.skip(), *[gr.skip()] * self.boxes, gr.skip(), gr.skip(), gr.skip()
            return
        territory, topic = territory.strip(), (topic or "").strip() or DEFAULT_TOPIC
        writer = self.desk.section_writer(writer_kind or "extraits")
        self.desk.refresh()
        view = DraftView(self.boxes)
        yield view.outputs()
        for event in self.desk.draft_note(territory=territory, topic=topic, writer=writer):
            if isinstance(event, SectionStarted):
                view.started(event.heading, event.total)
            elif isinstance(event, SectionWritten):
                if event.index > self.boxes:
                    raise RuntimeError(f"{event.total} parties rédigées pour {self.boxes} zones d'édition")
                view.written(event.index, event.section, event.total)
            elif isinstance(event, NoteReady):
                log.info(
                    "note drafted from the interface: %s, %d references", event.note.topic, len(event.note.references)
                )
                view.ready(event.note)
            yield view.outputs()

    def export(self, note: Note | None, *texts: str) -> tuple[Any, ...]:
        """The note rebuilt from the edited texts, written to DOCX and Markdown; outputs: status, DOCX, Markdown."""
        if note is None:
            return "Rédigez d'abord une note avec « Rédiger ».", gr.skip(), gr.skip()
        try:
            edited = note_from_edited_sections(note, texts[: len(note.sections)])
        except ValueError as exc:
            return f"✗ Export impossible : {exc}.", gr.update(visible=False), gr.update(visible=False)
        docx_path, md_path = self.exports.note(edited.note)
        changes = renumbering_summary(edited)
        status = f"Note exportée avec {len(edited.note.references)} références" + (f" ; {changes}." if changes else ".")
        return status, gr.update(value=str(docx_path), visible=True), gr.update(value=str(md_path), visible=True)


def build_note_tab(desk: ExperienceDesk, exports: ExportFolder) -> None:
    """The tab's components and events (call inside ``gr.Tabs``); one edit box per section of the plan."""
    tab = NoteTab(desk, boxes=len(SECTIONS), exports=exports)
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
                with gr.Column(visible=False, elem_id="note-sections") as sections:
                    boxes = [
                        gr.Textbox(
                            label=f"{i}. {plan.heading}",
                            placeholder=PENDING,
                            lines=5,
                            max_lines=24,
                            elem_id=f"note-section-{i}",
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
    opened = [notice, progress, sections, *boxes, references, export_status, docx_file, md_file]
    streamed = [progress, *boxes, references, note, notice]
    write.click(tab.open_draft, [territory, writer], opened, show_progress="hidden").then(
        tab.draft, [territory, topic, writer], streamed, show_progress="hidden"
    )
    # hidden: Gradio's overlay would write « processing | 0.0/0.8s » in English over the export status
    export.click(tab.export, [note, *boxes], [export_status, docx_file, md_file], show_progress="hidden")
