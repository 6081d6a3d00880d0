"""One keyword index shared by several processes: saved once by the writer, swapped in by readers aside."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from files import write_corpus

from assistant.corpus import Source
from assistant.retrieval import keyword_segments
from assistant.retrieval.french import analyze
from assistant.retrieval.hybrid import KeywordIndexKeeper
from assistant.retrieval.keyword_segments import RefreshPlan, bm25_scores, plan_refresh
from assistant.retrieval.lexical import KeywordIndex


def _wait_for(condition, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_reader_answers_from_its_index_until_the_writer_saves_then_swaps(light_services, tmp_path):
    indexer = light_services.indexer
    indexer.index_paths([write_corpus(tmp_path / "corpus")])
    directory = light_services.settings.paths.keyword_index
    reader = KeywordIndexKeeper(light_services.store, directory, background=True)  # another web worker
    first = reader.current()
    assert first.fingerprint == reader.saved_fingerprint()
    assert reader.current() is first

    new = tmp_path / "neuf" / "jardins.md"
    new.parent.mkdir()
    new.write_text("# Jardins\n\nLes jardins partagés de Montreuil nourrissent quarante familles.\n", "utf-8")
    indexer.sync([Source(path=new, key=str(new))], refresh_keywords=False)  # stored, index not saved yet
    stamp_before = reader.version_file.stat().st_mtime_ns
    assert reader.current() is first  # no wait and no rebuild of its own
    assert reader.version_file.stat().st_mtime_ns == stamp_before
    assert not first.search("jardins Montreuil", 3)

    indexer.refresh_keywords()  # the writer saves once and stamps the version
    reader.current()  # sees the new stamp: loads aside
    _wait_for(lambda: reader.current() is not first)
    swapped = reader.current()
    assert swapped.fingerprint == reader.saved_fingerprint() != first.fingerprint
    assert len(swapped) == len(first) + 1
    assert swapped.search("jardins Montreuil", 1)


def test_writers_saving_at_once_leave_one_whole_index_and_no_leftovers(tmp_path):
    directory = tmp_path / "keyword"
    indexes = [KeywordIndex.build([f"c{i}"], [f"quartier numéro {i}"], f"fp{i}") for i in range(4)]
    errors: list[BaseException] = []

    def save_repeatedly(index: KeywordIndex) -> None:
        try:
            for _ in range(15):
                index.save(directory)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=save_repeatedly, args=(index,)) for index in indexes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    loaded = KeywordIndex.load(directory)
    assert loaded is not None and loaded.fingerprint in {f"fp{i}" for i in range(4)}
    assert sorted(p.name for p in Path(tmp_path).iterdir()) == ["keyword"]


def test_a_sync_with_nothing_new_still_saves_an_index_left_behind_by_a_killed_run(light_services, tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    indexer = light_services.indexer
    indexer.index_paths([corpus])
    extra = corpus / "jardins.md"
    extra.write_text("# Jardins\n\nLes jardins partagés de Montreuil nourrissent quarante familles.\n", "utf-8")
    indexer.sync([Source(path=extra, key=str(extra))], refresh_keywords=False)  # killed before its refresh
    behind = indexer.keyword.saved_fingerprint()
    report = indexer.index_paths([corpus])  # the job run again: every file is already stored
    assert not report.changed
    assert indexer.keyword.saved_fingerprint() != behind
    reader = KeywordIndexKeeper(light_services.store, light_services.settings.paths.keyword_index, background=True)
    assert reader.current().search("jardins Montreuil", 1)


# ---- segments: a change costs the changed documents, not a rebuild of the whole index


def test_bm25_scores_of_a_passage_scored_outside_bm25s_equal_those_bm25s_gives_it():
    texts = ["la navette du quartier", "le jardin partagé du quartier", "une navette, une navette de nuit"]
    built = KeywordIndex.build(["a", "b", "c"], texts, "fp", k1=1.5, b=0.75)
    terms = [analyze(t) for t in texts]
    scores = bm25_scores(
        analyze("navette quartier"),
        terms,
        document_frequency=built.document_frequency,
        total=3,
        mean_length=built.mean_length,
        k1=1.5,
        b=0.75,
    )
    expected = dict(built.search("navette quartier", 3))
    assert [round(s, 4) for s in scores] == [round(expected.get(cid, 0.0), 4) for cid in ("a", "b", "c")]


def test_plan_refresh_names_new_changed_and_removed_documents():
    plan = plan_refresh({"d1": "h1", "d2": "h2", "d3": "h3"}, {"d1": "h1", "d2": "h2-bis", "d4": "h4"})
    assert plan == RefreshPlan(changed=("d2", "d4"), removed=("d3",))


def _doc_id(services, name: str) -> str:
    return next(r.doc_id for r in services.store.documents().values() if r.source.endswith(name))


def test_a_change_goes_into_the_delta_masks_the_old_passages_and_readers_load_it(services, tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    indexer = services.indexer
    indexer.index_paths([corpus])
    keeper = indexer.keyword
    base = keeper.current().base
    reader = KeywordIndexKeeper(services.store, services.settings.paths.keyword_index, background=True)
    first = reader.current()

    (corpus / "jardins.md").write_text(
        "# Jardins\n\nLes jardins partagés de Montreuil nourrissent 40 familles.\n", "utf-8"
    )
    indexer.index_paths([corpus])
    index = keeper.current()
    assert index.base is base  # not rebuilt: the new document is in the delta
    assert {p.doc_id for p in index.delta.passages} == {_doc_id(services, "jardins.md")}
    assert index.search("jardins Montreuil", 1)[0][0] in {p.chunk_id for p in index.delta.passages}

    # a document of the base, changed: its old passages are masked, its new ones come from the delta
    changed = sorted(corpus.glob("*.md"))[0]
    changed_id = _doc_id(services, changed.name)
    old = {cid for cid, m in zip(base.chunk_ids, base.metadatas, strict=True) if m["doc_id"] == changed_id}
    assert old
    changed.write_text(changed.read_text("utf-8") + "\nUne ludothèque ouvrira en mars.\n", "utf-8")
    indexer.index_paths([corpus])
    index = keeper.current()
    assert index.base is base and index.delta.masked == {changed_id}
    hits = [cid for cid, _ in index.search("ludothèque mars", 5)]
    assert hits and set(hits) <= {p.chunk_id for p in index.delta.passages}
    visible = {c.chunk_id for c in services.store.iter_chunks()}
    everything = {cid for cid, _ in index.search("fiche suite bilan positif", 500)}
    assert everything <= visible and not everything & old  # no stale passage answers
    assert len(index) == len(visible)

    # another process takes the delta aside, keeping its base
    _wait_for(lambda: reader.current().fingerprint == index.fingerprint)
    assert reader.current().base is first.base
    assert reader.current().search("ludothèque mars", 1)

    # removing a document masks it too
    indexer.delete(_doc_id(services, "jardins.md"))
    assert not keeper.current().search("jardins Montreuil", 3)
    assert len(keeper.current()) == services.store.chunk_count()


def test_the_base_is_rebuilt_once_the_delta_outgrows_it(services, tmp_path, monkeypatch):
    corpus = write_corpus(tmp_path / "corpus")
    indexer = services.indexer
    indexer.index_paths([corpus])
    base = indexer.keyword.current().base
    monkeypatch.setattr(keyword_segments, "COMPACT_MIN_PASSAGES", 0)
    monkeypatch.setattr(keyword_segments, "COMPACT_FRACTION", 0.0)
    (corpus / "jardins.md").write_text("# Jardins\n\nLes jardins partagés de Montreuil.\n", "utf-8")
    indexer.index_paths([corpus])
    assert indexer.keyword.current().search("jardins Montreuil", 1)  # from the delta, or the new base
    indexer.keyword.wait_for_compaction()  # compacted in a thread of the writer
    index = indexer.keyword.current()
    assert index.base is not base and not index.delta.passages and not index.delta.masked
    assert len(index.base) == services.store.chunk_count()
    assert index.search("jardins Montreuil", 1)
