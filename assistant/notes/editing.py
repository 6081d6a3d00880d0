"""A drafted note edited by hand (pure): section texts for an editor, and the note they make once edited.

A section is edited as plain text: paragraphs separated by a blank line, the document
extracts as list items (``- ``), references written ``[n]`` as in the draft.

When the edited note is rebuilt, its references are **renumbered** in order of first
citation and only the cited ones are kept. The exported note is read without the app:
a bibliography with a gap (``[1] [2] [4]``) reads as a lost source, and an entry that
nothing cites any more pads the note with a source it no longer uses. Numbering by first
citation is also how the drafter numbers, so the export reads as a note drafted that
way. The cost, numbers that differ between the editor and the export, is reported
(``EditedNote.renumbered``) so the app can say which number became which.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from assistant.experiences.bibliography import Reference
from assistant.notes.note import Note, NoteSection, Paragraph

REFERENCE_MARK = re.compile(r"\[(\d+)\]")  # the pattern of ``bibliography.references_in``
_BULLET = re.compile(r"^\s*[-•*]\s+")


@dataclass(frozen=True)
class EditedNote:
    """The note made from edited texts; ``renumbered`` maps each kept old number to its new one and
    ``dropped`` lists the references no edited text cites any more (with their old numbers)."""

    note: Note
    renumbered: Mapping[int, int]
    dropped: tuple[Reference, ...]

    @property
    def changed_numbers(self) -> dict[int, int]:
        return {old: new for old, new in self.renumbered.items() if old != new}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def paragraph_text(paragraph: Paragraph) -> str:
    """A paragraph as the editor shows it: a document extract is a list item."""
    return ("- " if paragraph.kind == "extract" else "") + _one_line(paragraph.text)


def section_text(section: NoteSection) -> str:
    """A section's paragraphs for a text editor, separated by blank lines."""
    return "\n\n".join(paragraph_text(p) for p in section.paragraphs)


def split_paragraphs(text: str) -> list[tuple[str, bool]]:
    """Edited text -> (paragraph text, is a list item); a blank line or a new list item starts a paragraph,
    other lines continue the current one."""
    found: list[tuple[list[str], bool]] = []
    open_paragraph = False
    for line in text.splitlines():
        if not line.strip():
            open_paragraph = False
        elif bullet := _BULLET.match(line):
            found.append(([line[bullet.end() :].strip()], True))
            open_paragraph = True
        elif open_paragraph:
            found[-1][0].append(line.strip())
        else:
            found.append(([line.strip()], False))
            open_paragraph = True
    return [(_one_line(" ".join(lines)), is_item) for lines, is_item in found]


def note_from_edited_sections(note: Note, texts: Sequence[str]) -> EditedNote:
    """``note`` with each section's paragraphs replaced by the edited ``texts`` (one per section, in order).

    References are renumbered in order of first citation; uncited ones are dropped. A paragraph left
    as drafted keeps its kind and its quotes (renumbered); a changed one keeps no quote, since its text
    is no longer the extract. Raises ValueError (French) when a text cites a number the note does not
    have, or when the number of texts differs from the number of sections.
    """
    if len(texts) != len(note.sections):
        raise ValueError(f"{len(texts)} textes pour {len(note.sections)} parties : la note ne peut être rebâtie")
    parsed = [split_paragraphs(text or "") for text in texts]
    known = {r.number for r in note.references}
    cited = [int(n) for paragraphs in parsed for text, _ in paragraphs for n in REFERENCE_MARK.findall(text)]
    unknown = sorted({n for n in cited if n not in known})
    if unknown:
        marks = ", ".join(f"[{n}]" for n in unknown)
        raise ValueError(
            f"renvoi{'s' if len(unknown) > 1 else ''} {marks} sans référence dans le projet : "
            "corrigez le numéro ou retirez le renvoi avant d'exporter"
        )
    renumbered = {old: new for new, old in enumerate(dict.fromkeys(cited), 1)}

    def renumber(text: str) -> str:
        return REFERENCE_MARK.sub(lambda m: f"[{renumbered[int(m.group(1))]}]", text)

    sections = []
    for section, paragraphs in zip(note.sections, parsed, strict=True):
        drafted = {paragraph_text(p): p for p in section.paragraphs}
        rebuilt = []
        for text, is_item in paragraphs:
            original = drafted.get(("- " if is_item else "") + text)
            refs = tuple(renumbered[int(n)] for n in dict.fromkeys(REFERENCE_MARK.findall(text)))
            if original is not None:
                quotes = tuple((renumbered[n], quote) for n, quote in original.quotes if n in renumbered)
                rebuilt.append(Paragraph(renumber(text), refs, quotes, original.kind))
            else:
                rebuilt.append(Paragraph(renumber(text), refs, (), "extract" if is_item else "text"))
        sections.append(NoteSection(section.heading, tuple(rebuilt)))
    kept = sorted(
        (replace(r, number=renumbered[r.number]) for r in note.references if r.number in renumbered),
        key=lambda r: r.number,
    )
    dropped = tuple(r for r in note.references if r.number not in renumbered)
    edited = replace(
        note,
        sections=tuple(sections),
        references=tuple(kept),
        warning=note.warning if any(r.fictional for r in kept) else None,
    )
    return EditedNote(edited, renumbered, dropped)


def renumbering_summary(edited: EditedNote) -> str:
    """What the export changed in the references, in French (empty when nothing changed)."""
    parts = []
    if edited.dropped:
        marks = ", ".join(f"[{r.number}]" for r in edited.dropped)
        parts.append(f"références plus citées, retirées : {marks}")
    if edited.changed_numbers:
        moves = ", ".join(f"[{old}] → [{new}]" for old, new in edited.changed_numbers.items())
        parts.append(f"renvois renumérotés dans l'ordre de première citation : {moves}")
    return " ; ".join(parts)
