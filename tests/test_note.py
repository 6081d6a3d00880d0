"""Pillar-note drafting: references numbering (pure), the note on the demo index, DOCX and Markdown exports,
the LLM section writer (scripted model) and the CLI handlers."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
from conftest import REPO

from assistant.backends.llm import LLMUnavailable, Message
from assistant.cli.experiences import HANDLERS, add_subcommands
from assistant.experiences.bibliography import Bibliography, references_in
from assistant.notes.export import note_to_docx, note_to_markdown, reference_text
from assistant.notes.note import (
    DRAFT_NOTICE,
    FICTIONAL_WARNING,
    SECTIONS,
    Note,
    NoteReady,
    SectionStarted,
    SectionWritten,
)
from assistant.notes.writers import LLMSectionWriter
from assistant.types import Chunk, Hit, Passage

TERRITORY = "ville moyenne de 50 000 habitants en Occitanie, QPV en centre ancien"
TOPIC = "pilier développement économique"
HEADINGS = [f"{i}. {s.heading}" for i, s in enumerate(SECTIONS, 1)]


def test_references_are_numbered_by_first_citation_with_their_pages():
    bibliography = Bibliography()
    assert bibliography.cite("b", {"title": "B", "source": "/b.pdf", "fictional": True}, page=3) == 1
    assert bibliography.cite("a", {"title": "A", "url": "https://x.invalid/a", "source": "/a.md"}) == 2
    assert bibliography.cite("b", {"title": "B"}, page=1) == 1
    first, second = bibliography.references()
    assert (first.number, first.pages, first.fictional, first.location) == (1, (1, 3), True, "/b.pdf")
    assert (second.number, second.location) == (2, "https://x.invalid/a")
    assert reference_text(first) == "« B », pp. 1, 3. /b.pdf (document fictif)"
    assert references_in("Un fait [2]. Un autre [10] et [2].") == {2, 10}


@pytest.fixture(scope="module")
def drafted(demo_index) -> tuple[list, Note]:
    desk = demo_index.desk
    events = list(desk.draft_note(territory=TERRITORY, topic=TOPIC, date="2025-01-15"))
    return events, events[-1].note


def test_sections_are_announced_then_written_in_order(drafted):
    events, note = drafted
    kinds = [type(e) for e in events]
    assert kinds == [SectionStarted, SectionWritten] * len(SECTIONS) + [NoteReady]
    assert [e.heading for e in events if isinstance(e, SectionStarted)] == [s.heading for s in SECTIONS]
    assert note.notice == DRAFT_NOTICE and note.warning == FICTIONAL_WARNING  # the demo corpus is fictional
    leviers = note.sections[2]
    assert any(p.kind == "precedent" and "Précédent :" in p.text for p in leviers.paragraphs)
    assert all(any(p.refs for p in s.paragraphs) for s in note.sections)


def test_every_cited_extract_is_a_slice_of_the_cited_document(drafted, demo_index):
    _, note = drafted
    doc_of = {r.number: r.doc_id for r in note.references}
    for section in note.sections:
        for paragraph in section.paragraphs:
            assert references_in(paragraph.text) == set(paragraph.refs)
            for number, quote in paragraph.quotes:
                assert quote in demo_index.store.document_text(doc_of[number])


def _docx_text(path: Path) -> tuple[list[str], str, list[str]]:
    document = docx.Document(str(path))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    paragraphs = [p.text for p in document.paragraphs]
    split = paragraphs.index("Références")
    return headings, "\n".join(paragraphs[:split]), paragraphs[split + 1 :]


def test_docx_opens_with_headings_and_a_complete_bibliography(drafted, tmp_path):
    _, note = drafted
    path = note_to_docx(note, tmp_path / "note.docx")
    headings, body, bibliography = _docx_text(path)
    assert headings == HEADINGS + ["Références"]
    assert DRAFT_NOTICE in body and FICTIONAL_WARNING in body
    listed = [int(re.match(r"\[(\d+)\] ", entry).group(1)) for entry in bibliography]
    assert listed == list(range(1, len(note.references) + 1))
    assert references_in(body) == set(listed)  # every number cited is listed, every entry is cited
    assert docx.Document(str(path)).core_properties.title == note.title


def test_markdown_export_is_equivalent(drafted):
    _, note = drafted
    markdown = note_to_markdown(note)
    body, _, bibliography = markdown.partition("## Références")
    assert re.findall(r"^## (.+)$", body, re.M) == HEADINGS
    assert f"**{DRAFT_NOTICE}**" in body and FICTIONAL_WARNING in body
    listed = [int(n) for n in re.findall(r"^\[(\d+)\] ", bibliography, re.M)]
    assert listed == [r.number for r in note.references] and references_in(body) == set(listed)


def _passage(text: str) -> Passage:
    chunk = Chunk("d-v-0000", "d", 0, text, 100, 100 + len(text), None, (), {"title": "T", "source": "/t.md"})
    return Passage(1, Hit(chunk, 1.0), text, 100, 100 + len(text))


class ScriptedModel:
    """A ChatModel whose reply is given; remembers the prompt it received."""

    name = "scripted"

    def __init__(self, reply: str | None) -> None:
        self.reply, self.received = reply, []

    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float, stats=None) -> Iterator[str]:
        self.received.append(messages)
        if self.reply is None:
            raise LLMUnavailable("service indisponible")
        yield self.reply


def test_llm_prose_is_kept_only_where_a_passage_supports_it():
    passage = _passage("La plateforme a accompagné 486 personnes en 2022. Les navettes partent à 4 h 35.")
    model = ScriptedModel("La plateforme a accompagné 486 personnes en 2022 [1]. Elle a créé 900 emplois [1].")
    writer = LLMSectionWriter(model, lambda term: 1.0, count_tokens=lambda t: len(t.split()), max_prompt_tokens=800)
    claims = writer.write(SECTIONS[0], "mobilité", [passage])
    assert [c.text for c in claims] == ["La plateforme a accompagné 486 personnes en 2022."]
    assert claims[0].span.start == 100 and "Contexte et diagnostic" in model.received[0][-1].content
    failing = LLMSectionWriter(ScriptedModel(None), lambda t: 1.0, count_tokens=len, max_prompt_tokens=800)
    assert failing.write(SECTIONS[0], "navettes 4 h 35", [passage])  # offline extracts instead


def _run(demo_index, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path)
    common.add_argument("-v", "--verbose", action="store_true")
    add_subcommands(parser.add_subparsers(dest="command", required=True), common)
    args = parser.parse_args(argv)
    return HANDLERS[args.command](demo_index, args)


def test_cli_handlers_write_the_note_and_the_tables(demo_index, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO)  # the CLI shows a file's location relative to the folder it is run from
    assert _run(demo_index, "note", "--territory", TERRITORY, "--topic", TOPIC, "--out", str(tmp_path / "n.md")) == 0
    progress = capsys.readouterr().err
    assert "[1/6] Contexte et diagnostic…" in progress and "[6/6] Calendrier indicatif…" in progress
    assert (tmp_path / "n.md").read_text(encoding="utf-8").startswith(f"# Note de travail — {TOPIC}")
    csv_path, md_path = tmp_path / "t.csv", tmp_path / "t.md"
    code = _run(
        demo_index, "compare", "plateforme mobilité Valbrune", "plateforme mobilité Vergnolles",
        "--csv", str(csv_path), "--markdown", str(md_path),
    )  # fmt: skip
    assert code == 0 and csv_path.read_text(encoding="utf-8").startswith("Champ,")
    assert "| Budget (euros) | 312 000 [" in md_path.read_text(encoding="utf-8")
    assert _run(demo_index, "precedents", "plateforme mobilité", "--period", "2019-2024", "-k", "2") == 0
    out = capsys.readouterr().out
    assert out.startswith("1. Mob'Acacias") and "Pourquoi : " in out and "Source : corpus/demo/" in out
    assert _run(demo_index, "compare", "crèche inexistante à Paris", "garage Lussan") == 2
