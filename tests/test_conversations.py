"""Saved conversations in SQLite: per user, in order, with the cited document versions; Markdown export."""

from __future__ import annotations

from pathlib import Path

from assistant.conversations import ConversationStore, conversation_markdown, saved_turn, title_from
from assistant.types import Answer, Citation

CITATION = Citation(
    number=1,
    chunk_id="doc-a:3",
    doc_id="doc-a",
    title="L'Atelier des Forges",
    page=2,
    source="/srv/documents/forges.md",
    url="https://exemple.fr/forges",
    quote="Budget 2023 de l'EBE : 1 260 000 euros.",
    start=120,
    end=160,
    organisation="Réseau Quartiers Actifs",
    date="2024-09-16",
)


def answer(question: str, text: str, citations: tuple[Citation, ...] = ()) -> Answer:
    return Answer(question=question, text=text, citations=citations, refused=not citations, answerer="offline")


def test_turns_keep_their_citations_and_document_versions_per_user(tmp_path: Path):
    store = ConversationStore(tmp_path / "conversations.sqlite3")
    first = store.create("lea", "Que fait l'Atelier des Forges ?")
    store.append(
        "lea",
        first,
        saved_turn(answer("Que fait l'Atelier des Forges ?", "Une EBE [1]", (CITATION,)), {"doc-a": "hash-v1"}),
    )
    store.append("lea", first, saved_turn(answer("Et en 2030 ?", "Je ne trouve pas cette information."), {}))
    other = store.create("bob", "Autre")
    assert not store.append("lea", other, saved_turn(answer("Intrus", "…"), {}))

    conversation = store.get("lea", first)
    assert [t.question for t in conversation.turns] == ["Que fait l'Atelier des Forges ?", "Et en 2030 ?"]
    kept = conversation.turns[0].citations[0]
    assert kept.citation == CITATION and kept.version == "hash-v1"
    assert conversation.turns[0].as_answer().citations == (CITATION,) and conversation.turns[1].refused
    assert [(t.question, t.answer) for t in conversation.history()][0] == (
        "Que fait l'Atelier des Forges ?",
        "Une EBE [1]",
    )
    assert store.get("bob", first) is None and store.get("lea", other) is None
    assert [(s.id, s.first_question, s.turns) for s in store.list("lea")] == [
        (first, "Que fait l'Atelier des Forges ?", 2)
    ]

    assert not store.rename("bob", first, "Piraté") and store.rename("lea", first, "  Atelier   des Forges ")
    assert store.get("lea", first).title == "Atelier des Forges"
    markdown = conversation_markdown(store.get("lea", first))
    assert markdown.startswith("# Atelier des Forges\n")
    assert "## Question 1\n\nQue fait l'Atelier des Forges ?\n\n### Réponse\n\nUne EBE [1]\n" in markdown
    assert "[1] L'Atelier des Forges (Réseau Quartiers Actifs, 2024-09-16), p. 2 — version hash-v1" in markdown
    assert "    > Budget 2023 de l'EBE : 1 260 000 euros." in markdown

    assert not store.delete("bob", first) and store.delete("lea", first)
    assert store.list("lea") == [] and store.get("lea", first) is None
    assert [s.id for s in store.list("bob")] == [other]


def test_default_titles_are_one_line_and_short():
    assert title_from("  Que fait\nl'Atelier ?  ") == "Que fait l'Atelier ?"
    long = title_from("mot " * 40)
    assert len(long) == 80 and long.endswith("…")
