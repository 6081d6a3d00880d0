"""One keyword index shared by several processes: saved once by the writer, swapped in by readers aside."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from files import write_corpus

from assistant.corpus import Source
from assistant.retrieval.hybrid import KeywordIndexKeeper
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
