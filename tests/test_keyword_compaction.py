"""Compaction of the keyword index: from saved terms (no passage analysed again), aside (refreshes and queries go on),
published with the delta that arrived meanwhile rebased on the new base."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from files import write_corpus

from assistant.corpus import Source
from assistant.retrieval import keyword_keeper, keyword_segments
from assistant.retrieval.hybrid import KeywordIndexKeeper
from assistant.retrieval.keyword_compaction import fold_delta, rebase
from assistant.retrieval.keyword_segments import Delta, DeltaPassage
from assistant.retrieval.keyword_terms import AnalysedTerms
from assistant.retrieval.lexical import KeywordIndex


def _passage(chunk_id: str, doc_id: str, version: str, *terms: str) -> DeltaPassage:
    return DeltaPassage(chunk_id, doc_id, version, terms, {"doc_id": doc_id, "content_hash": version})


# ---- pure: the merge and the rebase


def test_analysed_terms_give_back_each_passage_and_survive_a_save(tmp_path):
    terms = AnalysedTerms.of("fp", [["jardin", "quarti"], [], ["navet", "jardin", "jardin"]])
    assert terms.passages([2, 0, 1]) == [["navet", "jardin", "jardin"], ["jardin", "quarti"], []]
    terms.save(tmp_path)
    loaded = AnalysedTerms.load(tmp_path)
    assert (loaded.fingerprint, len(loaded)) == ("fp", 3)
    assert loaded.passages([0, 1, 2]) == [["jardin", "quarti"], [], ["navet", "jardin", "jardin"]]
    assert AnalysedTerms.load(tmp_path / "ailleurs") is None


def test_folding_drops_the_masked_documents_adds_the_delta_and_keeps_chunk_id_order():
    base_ids = ["a1", "b1", "b2", "c1"]
    metas = [{"doc_id": "a"}, {"doc_id": "b"}, {"doc_id": "b"}, {"doc_id": "c"}]
    terms = AnalysedTerms.of("fp0", [["ecol"], ["jardin"], ["jardin", "partag"], ["navet"]])
    delta = Delta(
        "fp0",
        "fp1",
        (_passage("b9", "b", "v2", "jardin", "montreuil"), _passage("a5", "e", "v1", "sport")),
        frozenset({"b"}),
    )
    rows = fold_delta(base_ids, metas, terms, delta, "fp1")
    assert rows.chunk_ids == ["a1", "a5", "b9", "c1"]
    assert rows.metadatas == [
        {"doc_id": "a"},
        {"doc_id": "e", "content_hash": "v1"},
        {"doc_id": "b", "content_hash": "v2"},
        {"doc_id": "c"},
    ]
    assert rows.terms.fingerprint == "fp1"
    assert rows.terms.all_passages() == [["ecol"], ["sport"], ["jardin", "montreuil"], ["navet"]]
    # the kept rows' term ids are copied: the base's vocabulary comes first, the delta's new terms after it
    assert list(rows.terms.vocabulary) == ["ecol", "jardin", "partag", "navet", "sport", "montreuil"]


def test_folding_refuses_terms_that_are_not_the_bases():
    with pytest.raises(ValueError):
        fold_delta(["a1", "a2"], [{"doc_id": "a"}] * 2, AnalysedTerms.of("fp0", [["ecol"]]), Delta("fp0", "fp0"), "fp0")


def test_the_delta_saved_during_a_compaction_is_rebased_on_the_new_base():
    # the new base folded in a@v1, b@v1, c@v1; meanwhile b changed (v2), c was removed and d added
    latest = Delta(
        "fp0",
        "fp3",
        (_passage("a1", "a", "v1", "ecol"), _passage("b7", "b", "v2", "jardin"), _passage("d1", "d", "v1", "sport")),
        frozenset({"b", "c"}),
    )
    held = {"a": "v1", "b": "v2", "d": "v1"}  # what the old base + latest answer with
    rebased = rebase(latest, held, {"a": "v1", "b": "v1", "c": "v1"}, "fp1")
    assert rebased.base_fingerprint == "fp1" and rebased.fingerprint == "fp3"
    assert [p.chunk_id for p in rebased.passages] == ["b7", "d1"]  # a@v1 is in the new base already
    assert rebased.masked == {"b", "c"}


def test_nothing_arrived_during_the_compaction_leaves_an_empty_delta():
    latest = Delta("fp0", "fp1", (_passage("a1", "a", "v1", "ecol"),), frozenset({"z"}))
    rebased = rebase(latest, {"a": "v1", "b": "v1"}, {"a": "v1", "b": "v1"}, "fp1")
    assert (rebased.passages, rebased.masked) == ((), frozenset())


# ---- the writer's compaction, on a real store


def _add(indexer, folder, name: str, text: str) -> None:
    path = folder / name
    path.write_text(text, "utf-8")
    indexer.sync([Source(path=path, key=str(path))])


def test_a_compaction_from_saved_terms_gives_the_index_a_whole_rebuild_gives(light_services, tmp_path, monkeypatch):
    indexer = light_services.indexer
    indexer.index_paths([write_corpus(tmp_path / "corpus")])
    keeper = indexer.keyword
    new = tmp_path / "neuf"
    new.mkdir()
    _add(indexer, new, "jardins.md", "# Jardins\n\nLes jardins partagés de Montreuil nourrissent 40 familles.\n")
    _add(
        indexer, tmp_path / "corpus", "commerce.md", "# Fiche commerce\n\nLa boulangerie a fermé ; un primeur ouvre.\n"
    )
    assert keeper.current().delta.passages and keeper.current().delta.masked

    def unread(*args, **kwargs):
        raise AssertionError("the store was read again")

    def compact_without_analysing_or_reading():
        analysed: list[str] = []
        with monkeypatch.context() as patch:
            patch.setattr(keyword_keeper, "analyze", lambda text: analysed.append(text) or [])
            patch.setattr(keeper.store, "iter_chunks", unread)
            compacted = keeper.compact()
        assert analysed == []
        assert not compacted.delta.passages and not compacted.delta.masked
        return compacted

    first = compact_without_analysing_or_reading()
    # again, from the terms the first compaction saved: a document removed, another added
    indexer.delete(_doc_id(light_services, "insertion.md"))
    _add(indexer, new, "ludo.md", "# Ludothèque\n\nLa ludothèque du centre social ouvre en mars.\n")
    compacted = compact_without_analysing_or_reading()
    assert compacted.base is not first.base

    rebuilt = keeper.rebuild()
    assert compacted.base.chunk_ids == rebuilt.base.chunk_ids
    assert compacted.base.metadatas == rebuilt.base.metadatas
    queries = ("jardins Montreuil", "boulangerie primeur", "scooters demandeurs d'emploi", "ludothèque mars")
    for query in queries:
        assert compacted.search(query, 5) == rebuilt.search(query, 5)
    assert not compacted.search("foncière locaux pied d'immeuble", 5)  # the replaced version is gone
    assert not compacted.search("heures de travail", 5)  # the removed document too


def _doc_id(services, name: str) -> str:
    return next(r.doc_id for r in services.store.documents().values() if r.source.endswith(name))


def test_queries_and_refreshes_go_on_during_a_compaction_and_its_result_keeps_what_arrived_meanwhile(
    light_services, tmp_path, monkeypatch
):
    indexer = light_services.indexer
    indexer.index_paths([write_corpus(tmp_path / "corpus")])
    keeper = indexer.keyword
    reader = KeywordIndexKeeper(light_services.store, keeper.directory, background=True)  # a web worker
    first_base, reader_base = keeper.current().base, reader.current().base
    monkeypatch.setattr(keyword_segments, "COMPACT_MIN_PASSAGES", 0)
    monkeypatch.setattr(keyword_segments, "COMPACT_FRACTION", 0.0)
    folding, release = threading.Event(), threading.Event()

    def slow_fold(*args, **kwargs):
        folding.set()
        assert release.wait(30), "the test did not release the compaction"
        return fold_delta(*args, **kwargs)

    monkeypatch.setattr(keyword_keeper, "fold_delta", slow_fold)
    try:
        new = tmp_path / "neuf"
        new.mkdir()
        _add(indexer, new, "jardins.md", "# Jardins\n\nLes jardins partagés de Montreuil nourrissent 40 familles.\n")
        assert folding.wait(30)  # the compaction runs aside; the refresh has returned
        assert keeper.current().search("jardins Montreuil", 1)  # answered from the delta meanwhile

        # a second document arrives while the base is being folded: its refresh does not wait
        _add(indexer, new, "ludo.md", "# Ludothèque\n\nLa ludothèque du centre social ouvre en mars.\n")
        assert keeper.current().search("ludothèque mars", 1) and keeper.current().base is first_base
    finally:
        release.set()
    keeper.wait_for_compaction(30)

    index = keeper.current()
    assert index.base is not first_base
    assert keeper.saved_fingerprint() == light_services.store.fingerprint() == index.fingerprint
    assert len(index) == light_services.store.chunk_count()
    assert index.search("jardins Montreuil", 1) and index.search("ludothèque mars", 1)
    ids = {Path(r.source).name: r.doc_id for r in light_services.store.documents().values()}
    # folded: what the compaction started from; still in the delta, rebased: what arrived meanwhile
    assert {m["doc_id"] for m in index.base.metadatas} == set(ids.values()) - {ids["ludo.md"]}
    assert {p.doc_id for p in index.delta.passages} == {ids["ludo.md"]} and not index.delta.masked

    # the other process swaps to the new base without waiting
    deadline = time.monotonic() + 20
    while reader.current().base is reader_base and time.monotonic() < deadline:
        time.sleep(0.05)
    swapped = reader.current()
    assert swapped.base.fingerprint == index.base.fingerprint and swapped.fingerprint == index.fingerprint
    assert swapped.search("ludothèque mars", 1) and swapped.search("jardins Montreuil", 1)


def _wait_for(condition, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_reader_keeps_its_index_while_a_writer_has_saved_a_new_base_but_not_yet_its_delta(light_services, tmp_path):
    indexer = light_services.indexer
    indexer.index_paths([write_corpus(tmp_path / "corpus")])
    keeper = indexer.keyword
    reader = KeywordIndexKeeper(light_services.store, keeper.directory, background=True)
    first = reader.current()
    new = tmp_path / "neuf" / "jardins.md"
    new.parent.mkdir()
    new.write_text("# Jardins\n\nLes jardins partagés de Montreuil nourrissent 40 familles.\n", "utf-8")
    indexer.sync([Source(path=new, key=str(new))], refresh_keywords=False)  # the registry changed: readers look

    # the moment inside a publication: a base on disk, and the delta on disk written for another base
    other = KeywordIndex.from_terms(
        ["autre-0"], [["jardin"]], "fp-autre", [{"doc_id": "autre"}], k1=keeper.k1, b=keeper.b
    )
    other.save(keeper.directory)
    Delta("fp-precedente", "fp-suivante").save(keeper.delta_file)
    keeper.version_file.write_text("fp-suivante\nfp-precedente", encoding="utf-8")
    reader.current()  # loads aside (its lock is taken before the loading thread starts)
    _wait_for(lambda: not reader._loading.locked())
    assert reader.current() is first  # kept: not a base without the delta that goes with it

    keeper.rebuild()  # the publication ends: a base, its delta, then the stamp
    _wait_for(lambda: reader.current() is not first)
    assert reader.current().fingerprint == light_services.store.fingerprint()
    assert reader.current().search("jardins Montreuil", 1)


def test_a_reader_swaps_to_a_compacted_base_although_the_registry_did_not_change(light_services, tmp_path):
    indexer = light_services.indexer
    indexer.index_paths([write_corpus(tmp_path / "corpus")])
    new = tmp_path / "neuf"
    new.mkdir()
    _add(indexer, new, "jardins.md", "# Jardins\n\nLes jardins partagés de Montreuil nourrissent 40 familles.\n")
    reader = KeywordIndexKeeper(light_services.store, indexer.keyword.directory, background=True)
    before = reader.current()
    assert before.delta.passages  # the new document, in the delta

    compacted = indexer.keyword.compact()  # same registry, new base
    _wait_for(lambda: reader.current().base is not before.base)
    assert reader.current().base.fingerprint == compacted.base.fingerprint
    assert not reader.current().delta.passages and reader.current().search("jardins Montreuil", 1)


def test_a_removal_only_masks_and_leaves_the_compaction_to_the_next_writer_that_adds(
    light_services, tmp_path, monkeypatch
):
    indexer = light_services.indexer
    indexer.index_paths([write_corpus(tmp_path / "corpus")])
    keeper = indexer.keyword
    base = keeper.current().base
    monkeypatch.setattr(keyword_segments, "COMPACT_MIN_PASSAGES", 0)
    monkeypatch.setattr(keyword_segments, "COMPACT_FRACTION", 0.0)

    indexer.delete(_doc_id(light_services, "insertion.md"))  # past the bound, but only a mask
    keeper.wait_for_compaction()
    assert keeper.current().base is base and keeper.current().delta.masked
    assert not keeper.current().search("heures de travail", 3)

    new = tmp_path / "neuf"
    new.mkdir()
    _add(indexer, new, "jardins.md", "# Jardins\n\nLes jardins partagés de Montreuil nourrissent 40 familles.\n")
    keeper.wait_for_compaction()
    index = keeper.current()
    assert index.base is not base and not index.delta.masked and not index.delta.passages
    assert index.search("jardins Montreuil", 1) and not index.search("heures de travail", 3)
