"""The keyword index reads each chunk with its neighbours in the same document."""

from __future__ import annotations

from assistant.retrieval.windows import keyword_texts
from assistant.types import Chunk


def chunk(doc: str, index: int, text: str, headings: tuple[str, ...] = ()) -> Chunk:
    return Chunk(f"{doc}-v-{index:04d}", doc, index, text, 0, len(text), None, headings, {"title": "Fiche"})


def test_each_chunk_is_read_with_the_previous_and_next_chunk_of_its_document():
    chunks = [chunk("d", 1, "deux", ("Droits",)), chunk("d", 0, "un"), chunk("e", 0, "autre"), chunk("d", 2, "trois")]
    assert keyword_texts(chunks) == [
        "un\nFiche > Droits\ndeux\ntrois",
        "Fiche\nun\ndeux",
        "Fiche\nautre",
        "deux\nFiche\ntrois",
    ]
