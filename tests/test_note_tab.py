"""The Note tab's streamed draft as Gradio's page client receives it (pure: a scripted drafter, no browser).

Gradio streams each step of a generator as a diff against the previous step (``gradio.utils.diff``);
the page client applies each diff *in place* to the objects it keeps, and those are also the objects of
the steps it has not rendered yet. A busy page renders steps late, so what it shows is each step as
changed by the steps after it. These tests replay a draft through that model.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import diff

from assistant.experiences.bibliography import Reference
from assistant.notes.editing import section_text
from assistant.notes.export import ExportFolder
from assistant.notes.note import SECTIONS, Note, NoteReady, NoteSection, Paragraph, SectionStarted, SectionWritten
from assistant.ui.note_tab import NoteTab
from assistant.ui.updates import KEEP, Outputs

TERRITORY = "ville moyenne de 50 000 habitants en Occitanie"


def _apply(kept: Any, edits: list) -> Any:
    """The page client's diff application (gradio/client: apply_edit): nested edits change ``kept`` in place."""
    for action, path, value in edits:
        if not path:
            kept = value if action == "replace" else kept + value
            continue
        target = kept
        for key in path[:-1]:
            target = target[key]
        key = path[-1]
        if action == "replace":
            target[key] = value
        elif action == "append":
            target[key] += value
        elif action == "add":
            target.insert(key, value) if isinstance(target, list) else target.__setitem__(key, value)
        elif action == "delete":
            del target[key]
    return kept


def _sent(step: tuple, skip: set[int]) -> list:
    """A step as it goes over the wire (JSON); the outputs in ``skip`` (gr.State) stay on the server."""
    return json.loads(json.dumps([None if i in skip else v for i, v in enumerate(step)]))


def _render(page: dict[int, dict], data: list) -> None:
    """Apply one step to the page: an update sets the props it names, a plain value sets ``value``."""
    for i, value in enumerate(data):
        props = page.setdefault(i, {})
        if isinstance(value, dict) and value.get("__type__") == "update":
            props.update({k: v for k, v in value.items() if k != "__type__"})
        else:
            props["value"] = value


def replay(steps: list[tuple], skip: set[int] = frozenset()) -> tuple[dict, dict]:
    """The page after rendering each step as it arrives, and after rendering every step once all arrived."""
    prompt: dict[int, dict] = {}
    late: dict[int, dict] = {}
    kept: list | None = None
    delivered: list[list] = []
    previous: list | None = None
    for step in steps:
        data = _sent(step, skip)
        if kept is None:
            kept = data
        else:
            for i, (before, now) in enumerate(zip(previous, data, strict=True)):
                kept[i] = _apply(kept[i], diff(before, now))
        _render(prompt, copy.deepcopy(kept))
        delivered.append(list(kept))  # the same objects: later diffs change them
        previous = data
    for data in delivered:
        _render(late, data)
    return prompt, late


def test_the_model_loses_a_box_shown_then_skipped_as_the_old_draft_did():
    """The cause of « ✓ 6/6 » with boxes missing: a step showed a box, the next one skipped it."""
    steps = [
        (gr.update(value="", visible=False),),
        (gr.update(value="Partie 5", visible=True),),
        (gr.skip(),),
    ]
    prompt, late = replay(steps)
    assert prompt[0] == {"value": "Partie 5", "visible": True}
    assert late[0] == {}  # every step it renders now says "no change": the box stays as built, hidden


SECTIONS_WRITTEN = [
    NoteSection(plan.heading, (Paragraph(f"Texte de la partie {i}. [1]", (1,), kind="extract"),))
    for i, plan in enumerate(SECTIONS, 1)
]
NOTE = Note(
    "Note",
    TERRITORY,
    "pilier",
    "2026-01-01",
    tuple(SECTIONS_WRITTEN),
    (Reference(1, "d", "Doc", None, None, (), "/d.md", False),),
)


class ScriptedDesk:
    def sync(self) -> None:
        pass

    def cards(self) -> list:
        return []

    def refresh(self) -> list:
        return []

    def section_writer(self, kind: str) -> str:
        if kind != "extraits":
            raise ValueError("aucun modèle de langue configuré")
        return kind

    def draft_note(self, *, territory: str, topic: str, writer: str) -> Iterator:
        total = len(SECTIONS_WRITTEN)
        for index, section in enumerate(SECTIONS_WRITTEN, 1):
            yield SectionStarted(index, total, section.heading)
            yield SectionWritten(index, total, section)
        yield NoteReady(NOTE)


def _streamed() -> Outputs:
    """The draft's outputs as the tab wires them, to turn each step into what goes over the wire."""
    boxes = [gr.Textbox() for _ in SECTIONS]
    return Outputs(progress=gr.Markdown(), boxes=boxes, references=gr.Markdown(), note=gr.State(), notice=gr.Markdown())


def test_every_section_reaches_a_page_that_renders_the_stream_late(tmp_path: Path):
    tab = NoteTab(ScriptedDesk(), boxes=len(SECTIONS), exports=ExportFolder(tmp_path / "exports"))
    opened = tab.open_draft(TERRITORY, "extraits")  # one answer, not streamed: the boxes shown, empty
    assert opened.sections == gr.update(visible=True)
    assert opened.boxes == ("",) * len(SECTIONS)
    streamed = _streamed()
    steps = [streamed.values(step) for step in tab.draft(TERRITORY, "pilier", "extraits")]
    note_index = streamed.components.index(streamed.targets["note"])
    prompt, late = replay(steps, skip={note_index})
    assert late == prompt
    boxes = [late[i]["value"] for i in range(1, 1 + len(SECTIONS))]
    assert boxes == [section_text(s) for s in SECTIONS_WRITTEN]
    assert "Projet rédigé" in late[0]["value"] and "\\[1\\]" in late[note_index - 1]["value"]
    for step in steps:  # nothing streamed changes visibility or says "no change"
        assert not any(isinstance(v, dict) for i, v in enumerate(step) if i != note_index), step
    assert steps[-1][note_index] is NOTE


def test_a_draft_without_territory_or_writer_says_why_and_streams_nothing(tmp_path: Path):
    tab = NoteTab(ScriptedDesk(), boxes=len(SECTIONS), exports=ExportFolder(tmp_path / "exports"))
    opened = tab.open_draft("  ", "extraits")
    assert "Décrivez d'abord le territoire" in opened.progress and opened.sections is KEEP
    assert "aucun modèle" in tab.open_draft(TERRITORY, "llm").progress
    streamed = _streamed()
    steps = [streamed.values(step) for step in tab.draft("", "pilier", "extraits")]
    assert [all(v == gr.skip() for v in step) for step in steps] == [True]
