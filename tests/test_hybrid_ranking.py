"""Rankings do not depend on the index build: tied passages come in id order (real Chroma)."""

from __future__ import annotations

from pathlib import Path

from assistant.factory import build_components
from assistant.settings import Settings
from ingest.sync import discover

SHARED = (
    "Le fonds de participation des habitants finance les petits projets portés par les associations du quartier. "
    "Une demande se dépose auprès du conseil citoyen, qui répond en un mois."
)
QUESTION = "Comment demander le fonds de participation des habitants ?"


def write_corpus(folder: Path) -> Path:
    folder.mkdir()
    # the same paragraph in three documents: identical vectors and BM25 scores
    for name in ("alpha", "beta", "gamma"):
        (folder / f"{name}.txt").write_text(f"Fonds de participation\n\n{SHARED}\n", encoding="utf-8")
    (folder / "delta.txt").write_text(
        "Emplois francs\n\nUne aide pour l'embauche d'un habitant d'un quartier prioritaire.\n", encoding="utf-8"
    )
    return folder


def test_tied_passages_come_in_id_order_in_every_build(tmp_path, embedder, embedding_cache_dir):
    folder = write_corpus(tmp_path / "corpus")
    orders = []
    for run in ("first", "second"):
        components = build_components(
            Settings(data_dir=tmp_path / run, cache_dir=embedding_cache_dir), embedder=embedder
        )
        components.synchronizer.sync(discover([folder]))
        components.keyword.rebuild()
        hits = components.searcher.rank(QUESTION)
        tied = [h.chunk.chunk_id for h in hits if h.score == hits[0].score]
        assert len(tied) == 3 and tied == sorted(tied)
        orders.append([h.chunk.metadata["filename"] for h in hits])
    assert orders[0] == orders[1]
    assert orders[0][-1] == "delta.txt"
