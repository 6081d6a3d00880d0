"""The document registry a process holds in memory: its own writes applied in place, others' read again.

A real Chroma on ``tmp_path``; the registry this process holds after its own writes must equal what a fresh
read of the collection gives, and a write by another process (another store on the same folder) makes it
read the registry again.
"""

from __future__ import annotations

import numpy as np
import pytest

from assistant.backends.store import ChromaChunkStore
from assistant.types import Chunk, Document


def put(store: ChromaChunkStore, doc_id: str, text: str, **metadata) -> None:
    chunk = Chunk(f"{doc_id}-0", doc_id, 0, text, 0, len(text), None, (), {})
    document = Document(doc_id, text, (), {"title": f"Titre {doc_id}", **metadata})
    store.put_document(document, f"hash-{text}", [chunk], np.ones((1, 4), dtype=np.float32))


def fresh_read(path) -> dict:
    return ChromaChunkStore.persistent(path)._read_documents()


def test_own_writes_are_applied_in_place_and_equal_a_fresh_read(tmp_path, monkeypatch):
    store = ChromaChunkStore.persistent(tmp_path)
    put(store, "a", "premier texte", date="2023-01-02", pages=3, fictional=True, territory=None)
    put(store, "b", "second texte", organisation="Centre de ressources")
    assert store.documents() == fresh_read(tmp_path)  # read once, now held

    def no_read():
        raise AssertionError("the registry was read again after this process's own write")

    monkeypatch.setattr(store, "_read_documents", no_read)
    put(store, "a", "premier texte révisé", date="2024-05-06")  # a new version drops keys it lacks (pages)
    store.set_metadata("b", {"title": "Titre b", "duplicate_of": "a"})  # organisation removed
    store.delete_document("c-unknown")
    put(store, "c", "troisième texte")
    store.delete_document("c")
    held = store.documents()
    monkeypatch.undo()
    assert held == fresh_read(tmp_path)
    assert "pages" not in held["a"].metadata and held["a"].content_hash == "hash-premier texte révisé"
    assert held["b"].metadata.get("duplicate_of") == "a" and "organisation" not in held["b"].metadata
    assert "c" not in held


def test_a_write_by_another_process_makes_the_registry_read_again(tmp_path):
    ours = ChromaChunkStore.persistent(tmp_path)
    put(ours, "a", "premier texte")
    assert set(ours.documents()) == {"a"}
    theirs = ChromaChunkStore.persistent(tmp_path)  # another process on the same folder
    put(theirs, "b", "second texte")
    put(ours, "c", "troisième texte")  # our write comes after theirs: our copy must not miss theirs
    assert set(ours.documents()) == {"a", "b", "c"} == set(fresh_read(tmp_path))


@pytest.mark.parametrize("value", ["texte", 3, 2.5, True])
def test_a_metadata_value_reads_back_as_written(tmp_path, value):
    store = ChromaChunkStore.persistent(tmp_path)
    store.documents()
    put(store, "a", "texte", extra=value)
    assert store.documents()["a"].metadata["extra"] == fresh_read(tmp_path)["a"].metadata["extra"] == value
