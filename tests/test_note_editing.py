"""A drafted note edited by hand (pure, literal notes): editor texts, renumbered references, exports."""

from __future__ import annotations

import re

import docx
import pytest

from assistant.experiences.bibliography import Reference, references_in
from assistant.notes.editing import (
    note_from_edited_sections,
    renumbering_summary,
    section_text,
    split_paragraphs,
)
from assistant.notes.export import note_to_docx, note_to_markdown
from assistant.notes.note import DRAFT_NOTICE, FICTIONAL_WARNING, Note, NoteSection, Paragraph


def ref(number: int, doc_id: str, *, fictional: bool = False) -> Reference:
    return Reference(number, doc_id, f"Document {doc_id}", "Org", "2024", (), f"/c/{doc_id}.md", fictional)


NOTE = Note(
    title="Note de travail — pilier",
    territory="Val",
    topic="pilier",
    date="2025-01-15",
    sections=(
        NoteSection(
            "Contexte",
            (
                Paragraph("Les documents décrivent :"),
                Paragraph(
                    "Le chômage touche 25 % des habitants. [1]", (1,), ((1, "Le chômage touche 25 %"),), "extract"
                ),
                Paragraph("Une plateforme mobilité existe. [2]", (2,), ((2, "plateforme mobilité"),), "extract"),
            ),
        ),
        NoteSection(
            "Leviers",
            (
                Paragraph("Précédent : « Garage » [3]. Porteur : Asso [3].", (3,), ((3, "Asso"),), "precedent"),
                Paragraph("Un atelier vélo a ouvert. [2]", (2,), ((2, "atelier vélo"),), "extract"),
            ),
        ),
    ),
    references=(ref(1, "a"), ref(2, "b"), ref(3, "c", fictional=True)),
    warning=FICTIONAL_WARNING,
)


def texts_of(note: Note) -> list[str]:
    return [section_text(s) for s in note.sections]


def test_sections_are_shown_as_paragraphs_with_extracts_as_list_items():
    assert section_text(NOTE.sections[0]) == (
        "Les documents décrivent :\n\n- Le chômage touche 25 % des habitants. [1]\n\n- Une plateforme mobilité existe. [2]"
    )
    assert split_paragraphs("Intro\nsuite\n- un [1]\n- deux\n  continué\n\n\nfin") == [
        ("Intro suite", False),
        ("un [1]", True),
        ("deux continué", True),
        ("fin", False),
    ]


def test_unedited_texts_give_back_the_same_note():
    edited = note_from_edited_sections(NOTE, texts_of(NOTE))
    assert edited.note == NOTE
    assert edited.renumbered == {1: 1, 2: 2, 3: 3} and edited.dropped == ()
    assert renumbering_summary(edited) == ""


def test_deleting_the_only_paragraph_citing_1_drops_it_and_renumbers_by_first_citation():
    texts = texts_of(NOTE)
    texts[0] = "Les documents décrivent :\n\n- Une plateforme mobilité existe. [2]"
    texts[1] = texts[1] + "\n\nNotre équipe ajoute ceci, d'après [3] et [2]."
    edited = note_from_edited_sections(NOTE, texts)
    note = edited.note
    assert [(r.number, r.doc_id) for r in note.references] == [(1, "b"), (2, "c")]
    assert edited.renumbered == {2: 1, 3: 2} and [r.number for r in edited.dropped] == [1]
    contexte, leviers = note.sections
    assert contexte.paragraphs[1] == Paragraph(
        "Une plateforme mobilité existe. [1]", (1,), ((1, "plateforme mobilité"),), "extract"
    )
    assert leviers.paragraphs[0] == Paragraph(
        "Précédent : « Garage » [2]. Porteur : Asso [2].", (2,), ((2, "Asso"),), "precedent"
    )
    # a paragraph written by the user keeps no quote: its text is not an extract
    assert leviers.paragraphs[2] == Paragraph("Notre équipe ajoute ceci, d'après [2] et [1].", (2, 1), (), "text")
    for section in note.sections:
        for paragraph in section.paragraphs:
            assert references_in(paragraph.text) == set(paragraph.refs)
    assert note.notice == DRAFT_NOTICE and note.warning == FICTIONAL_WARNING
    assert renumbering_summary(edited) == (
        "références plus citées, retirées : [1] ; "
        "renvois renumérotés dans l'ordre de première citation : [2] → [1], [3] → [2]"
    )


def test_an_edited_extract_stays_a_list_item_and_the_fictional_warning_goes_with_its_source():
    texts = texts_of(NOTE)
    texts[0] = "- Le chômage touche un quart des habitants. [1]"
    texts[1] = ""
    note = note_from_edited_sections(NOTE, texts).note
    assert note.sections[0].paragraphs == (
        Paragraph("Le chômage touche un quart des habitants. [1]", (1,), (), "extract"),
    )
    assert note.sections[1] == NoteSection("Leviers", ())
    assert [r.doc_id for r in note.references] == ["a"]
    assert note.warning is None  # the only fictional document is no longer cited


def test_a_number_the_note_does_not_have_is_refused_in_french():
    texts = texts_of(NOTE)
    texts[1] += "\n\nVoir aussi [7] et [9]."
    with pytest.raises(ValueError, match=r"renvois \[7\], \[9\] sans référence dans le projet"):
        note_from_edited_sections(NOTE, texts)
    with pytest.raises(ValueError, match="1 textes pour 2 parties"):
        note_from_edited_sections(NOTE, texts[:1])


def test_exports_of_the_edited_note_cite_exactly_their_bibliography(tmp_path):
    texts = texts_of(NOTE)
    texts[0] = "Texte réécrit par l'équipe, sans source."
    note = note_from_edited_sections(NOTE, texts).note
    markdown = note_to_markdown(note)
    body, _, bibliography = markdown.partition("## Références")
    listed = [int(n) for n in re.findall(r"^\[(\d+)\] ", bibliography, re.M)]
    assert listed == [1, 2] and references_in(body) == {1, 2}
    assert "Texte réécrit par l'équipe, sans source." in body and "Document a" not in bibliography

    document = docx.Document(str(note_to_docx(note, tmp_path / "note.docx")))
    paragraphs = [p.text for p in document.paragraphs]
    split = paragraphs.index("Références")
    assert ["1. Contexte", "2. Leviers"] == [p.text for p in document.paragraphs if p.style.name == "Heading 1"][:2]
    assert references_in("\n".join(paragraphs[:split])) == {1, 2}
    assert [p[:3] for p in paragraphs[split + 1 :]] == ["[1]", "[2]"]
