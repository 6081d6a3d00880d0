"""The « Note » tab: a pillar-note draft written section by section into editable boxes, then exported.

The drafter (``ExperienceDesk.draft_note``) yields one event per section; each is shown as
it comes. Every section is a text box the user edits; the export rebuilds the note from the
edited texts (``assistant.notes.editing``: uncited references dropped, the rest
renumbered by first citation) and writes it to Word and Markdown.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.notes.desk import ExperienceDesk
from assistant.notes.editing import note_from_edited_sections, renumbering_summary, section_text
from assistant.notes.export import ExportFolder, reference_text
from assistant.notes.note import (
    DRAFT_NOTICE,
    SECTIONS,
    Note,
    NoteReady,
    NoteSection,
    SectionStarted,
    SectionWritten,
)
from assistant.ui.safe_text import escape_markdown
from assistant.ui.updates import KEEP, Outputs

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


@dataclass(frozen=True)
class DraftOpening:
    """What « Rédiger » sets before the stream: the notice, the progress, the boxes shown empty, the export hidden."""

    progress: str
    notice: Any = KEEP
    sections: Any = KEEP
    boxes: Any = KEEP
    references: Any = KEEP
    export_status: Any = KEEP
    docx_file: Any = KEEP
    md_file: Any = KEEP


@dataclass(frozen=True)
class DraftStep:
    """One streamed step of the draft: every field set, as plain values (see ``NoteTab``)."""

    progress: Any = KEEP
    boxes: Any = KEEP
    references: Any = KEEP
    note: Any = KEEP
    notice: Any = KEEP


@dataclass(frozen=True)
class NoteExport:
    """What the export sets: its status line and the Word and Markdown downloads."""

    status: str
    docx_file: Any = KEEP
    md_file: Any = KEEP


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

    def outputs(self) -> DraftStep:
        return DraftStep(
            progress=self.progress,
            boxes=tuple(self.texts),
            references=self.references,
            note=self.note,
            notice=self.notice,
        )


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

    def open_draft(self, territory: str, writer_kind: str) -> DraftOpening:
        """The boxes shown empty and the previous export hidden; or, when no draft can be written, why."""
        refusal = self._refusal(territory, writer_kind)
        if refusal is not None:
            return DraftOpening(progress=refusal)
        hidden = gr.update(value=None, visible=False)
        return DraftOpening(
            progress=progress_markdown([], SECTIONS[0].heading, len(SECTIONS)),
            notice=gr.update(value=notice_markdown(), visible=True),
            sections=gr.update(visible=True),
            boxes=("",) * self.boxes,
            references="",
            export_status=EDIT_HINT,
            docx_file=hidden,
            md_file=hidden,
        )

    def draft(self, territory: str, topic: str, writer_kind: str) -> Iterator[DraftStep]:
        """Stream the sections into their boxes (after ``open_draft``), each step setting every output."""
        if self._refusal(territory, writer_kind) is not None:  # open_draft said why
            yield DraftStep()
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

    def export(self, note: Note | None, *texts: str) -> NoteExport:
        """The note rebuilt from the edited texts, written to DOCX and Markdown."""
        if note is None:
            return NoteExport("Rédigez d'abord une note avec « Rédiger ».")
        try:
            edited = note_from_edited_sections(note, texts[: len(note.sections)])
        except ValueError as exc:
            hidden = gr.update(visible=False)
            return NoteExport(f"✗ Export impossible : {exc}.", docx_file=hidden, md_file=hidden)
        docx_path, md_path = self.exports.note(edited.note)
        changes = renumbering_summary(edited)
        status = f"Note exportée avec {len(edited.note.references)} références" + (f" ; {changes}." if changes else ".")
        return NoteExport(
            status,
            docx_file=gr.update(value=str(docx_path), visible=True),
            md_file=gr.update(value=str(md_path), visible=True),
        )


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
    opened = Outputs(
        notice=notice,
        progress=progress,
        sections=sections,
        boxes=boxes,
        references=references,
        export_status=export_status,
        docx_file=docx_file,
        md_file=md_file,
    )
    streamed = Outputs(progress=progress, boxes=boxes, references=references, note=note, notice=notice)
    write.click(opened.adapt(tab.open_draft), [territory, writer], opened.components, show_progress="hidden").then(
        streamed.adapt(tab.draft), [territory, topic, writer], streamed.components, show_progress="hidden"
    )
    exported = Outputs(status=export_status, docx_file=docx_file, md_file=md_file)
    # hidden: Gradio's overlay would write « processing | 0.0/0.8s » in English over the export status
    export.click(exported.adapt(tab.export), [note, *boxes], exported.components, show_progress="hidden")
