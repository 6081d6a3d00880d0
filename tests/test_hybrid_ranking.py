"""Hybrid ranking on a real index: ties are settled by id whatever the build, and the learned ranker
reorders the fused candidates (score fusion when it is off)."""

from __future__ import annotations

from pathlib import Path

from assistant.factory import build_services
from assistant.settings import Settings

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


def build(folder: Path, data_dir: Path, embedder, cache_dir: Path, ranker: str):
    settings = Settings(data_dir=data_dir, cache_dir=cache_dir)
    settings.retrieval = settings.retrieval.model_copy(update={"ranker": ranker})
    # the corpus holds identical passages on purpose (ties): copies of one text must stay separate documents here
    settings.ingest.deduplicate = False
    services = build_services(settings, embedder=embedder)
    services.indexer.index_paths([folder])
    return services


def test_tied_passages_come_in_id_order_in_both_lists_and_in_every_build(tmp_path, embedder, embedding_cache_dir):
    folder = write_corpus(tmp_path / "corpus")
    orders = []
    for run in ("first", "second"):
        components = build(folder, tmp_path / run, embedder, embedding_cache_dir, "fusion")
        pool = components.searcher.gather(QUESTION)
        hits = components.searcher.rank(QUESTION)
        for ranked in (pool.keyword, pool.dense):
            tied = [cid for cid, score in ranked if score == ranked[0][1]]
            assert len(tied) == 3 and tied == sorted(tied)
        orders.append([h.chunk.metadata["filename"] for h in hits])
    assert orders[0] == orders[1]
    assert orders[0][-1] == "delta.txt"


def test_score_fusion_orders_the_hits_when_the_ranker_is_off_and_the_ranker_when_on(
    tmp_path, embedder, embedding_cache_dir
):
    folder = write_corpus(tmp_path / "corpus")
    fused = build(folder, tmp_path / "fused", embedder, embedding_cache_dir, "fusion").searcher.rank(QUESTION)
    assert [h.provenance["fusion"] for h in fused] == [1.0, 2.0, 3.0, 4.0]
    assert all("ranker" not in h.provenance for h in fused)
    learned = build(folder, tmp_path / "learned", embedder, embedding_cache_dir, "learned").searcher.rank(QUESTION)
    raw = [h.provenance["ranker"] for h in learned]
    assert raw == sorted(raw, reverse=True)
    assert (learned[0].score, learned[-1].score) == (1.0, 0.0)
    assert learned[-1].chunk.metadata["filename"] == "delta.txt"


def test_an_index_smaller_than_the_lists_gives_every_passage_and_an_empty_one_none(
    tmp_path, embedder, embedding_cache_dir
):
    services = build(write_corpus(tmp_path / "corpus"), tmp_path / "index", embedder, embedding_cache_dir, "learned")
    pool = services.searcher.gather(QUESTION)  # 60 asked of each list, 4 passages held
    assert len(pool.dense) == services.store.chunk_count() == 4
    assert [h.chunk.metadata["filename"] for h in services.searcher.search(QUESTION, k=2)][-1] != "delta.txt"
    (tmp_path / "empty").mkdir()
    empty = build(tmp_path / "empty", tmp_path / "empty-index", embedder, embedding_cache_dir, "learned")
    assert empty.searcher.search(QUESTION) == []
