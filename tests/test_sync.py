"""Incremental sync, pruning, crash recovery and bad input, on a real Chroma and the deterministic embedder
(``fakes.HashingEmbedder``: what is tested is what gets stored, not how e5 ranks it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO
from files import (
    TOPICS,
    write_corpus,
    write_docx,
    write_docx_bomb,
    write_image_only_pdf,
    write_malformed_docx,
    write_pdf,
)

from assistant.corpus import Progress
from assistant.factory import build_services
from ingest.sync import discover

# the scenarios run again against a `chroma run` server (deployments beyond one machine)
ON_EMBEDDED_AND_SERVER_STORES = pytest.mark.parametrize(
    "light_services", ["embedded", pytest.param("server", marks=pytest.mark.slow)], indirect=True
)


def ingest(services, *paths: Path, prune: bool = False, on_progress=None):
    return services.indexer.index_paths(paths, prune=prune, on_progress=on_progress)


@ON_EMBEDDED_AND_SERVER_STORES
def test_second_run_embeds_nothing_and_a_change_reembeds_only_that_document(light_services, tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    first = ingest(light_services, corpus)
    assert len(first.added) == 3 and first.chunks_embedded >= 3
    total = light_services.store.chunk_count()

    second = ingest(light_services, corpus)
    assert (len(second.unchanged), second.chunks_embedded, second.added, second.updated) == (3, 0, [], [])

    (corpus / "commerce.md").write_text("# Fiche commerce\n\nUne nouvelle halle gourmande ouvre en 2024.\n", "utf-8")
    third = ingest(light_services, corpus)
    assert third.updated == [str(corpus / "commerce.md")]
    assert third.chunks_embedded == 1 and len(third.unchanged) == 2
    records = light_services.store.documents()
    assert light_services.store.chunk_count() == sum(r.chunk_count for r in records.values()) < total + 1
    top = light_services.searcher.search("halle gourmande", k=1)[0]
    assert top.chunk.metadata["filename"] == "commerce.md"
    assert all("boulangerie" not in c.text for c in light_services.store.iter_chunks())


@ON_EMBEDDED_AND_SERVER_STORES
def test_prune_removes_documents_whose_files_are_gone(light_services, tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    ingest(light_services, corpus)
    (corpus / "insertion.md").unlink()
    kept = ingest(light_services, corpus)
    assert kept.removed == [] and len(light_services.store.documents()) == 3
    pruned = ingest(light_services, corpus, prune=True)
    assert pruned.removed == [str((corpus / "insertion.md").resolve())]
    assert {r.metadata["filename"] for r in light_services.store.documents().values()} == {"mobilite.md", "commerce.md"}
    assert all(
        h.chunk.metadata["filename"] != "insertion.md" for h in light_services.searcher.search("clauses sociales")
    )


def test_sidecar_metadata_is_kept_on_every_chunk(light_services, tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    (corpus / "mobilite.md.meta.yaml").write_text(
        "organisation: Centre fictif\ndate: 2022-06-01\ntype: fiche expérience\nurl: https://exemple.invalid/fiche\n"
        "themes: [mobilité, emploi]\n",
        encoding="utf-8",
    )
    report = ingest(light_services, corpus)
    assert not report.failed and len(report.added) == 3
    chunks = [c for c in light_services.store.iter_chunks() if c.metadata["filename"] == "mobilite.md"]
    assert chunks
    for chunk in chunks:
        assert chunk.metadata["organisation"] == "Centre fictif"
        assert chunk.metadata["year"] == 2022 and chunk.metadata["themes"] == ["mobilité", "emploi"]
        assert chunk.metadata["url"] == "https://exemple.invalid/fiche"
        assert chunk.metadata["content_hash"]


def test_bad_inputs_are_reported_and_nothing_indexed_is_lost(light_services, settings, tmp_path, monkeypatch):
    good = write_corpus(tmp_path / "corpus")
    ingest(light_services, good)
    before = light_services.store.chunk_count()

    bad = good / "mauvais"
    bad.mkdir()
    (bad / "vide.txt").write_bytes(b"")
    (bad / "binaire.txt").write_bytes(bytes(range(256)) * 40)
    (bad / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    (bad / "casse.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n")
    write_pdf(bad / "protege.pdf", ["Texte confidentiel."], password="secret")
    write_image_only_pdf(bad / "scan.pdf")
    (bad / "enorme.txt").write_bytes(b"x" * 300_000)
    (bad / "abime.txt").write_bytes(
        "Emplois francs : un bilan très positif à Saint-Aurel.".encode() + b"\xff\xfe" + b" Fin."
    )
    # the previously indexed commerce.md is overwritten by a corrupt DOCX of the same name family
    (good / "commerce.md").write_bytes(b"\x00\x01\x02" * 100)

    settings.ingest.max_file_mb = 0.2
    light_services = build_services(settings, embedder=light_services.embedder)
    read = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self.name) or original(self))
    report = ingest(light_services, good)

    reasons = {Path(path).name: reason for path, reason in report.failed}
    assert set(reasons) == {
        "vide.txt",
        "binaire.txt",
        "image.png",
        "casse.pdf",
        "protege.pdf",
        "scan.pdf",
        "enorme.txt",
        "commerce.md",
    }
    assert "vide" in reasons["vide.txt"] and "binaire" in reasons["binaire.txt"]
    assert "non pris en charge" in reasons["image.png"] and "corrompu" in reasons["casse.pdf"]
    assert "mot de passe" in reasons["protege.pdf"] and "OCR" in reasons["scan.pdf"]
    assert "trop volumineux" in reasons["enorme.txt"] and "enorme.txt" not in read
    assert "scan.pdf" in report.summary() and "OCR" in report.summary()
    assert [Path(p).name for p in report.added] == ["abime.txt"]
    # the old version of commerce.md is still indexed and searchable
    assert light_services.store.chunk_count() > before
    assert (
        light_services.searcher.search("foncière commerce boulangerie", k=1)[0].chunk.metadata["filename"]
        == "commerce.md"
    )


def test_one_malformed_file_fails_alone_and_unusual_files_are_read(light_services, tmp_path, monkeypatch):
    corpus = write_corpus(tmp_path / "corpus")
    write_malformed_docx(corpus / "abime.docx")
    utf16 = "Le contrat de ville de Tarnac finance une épicerie solidaire au cœur du quartier."
    (corpus / "sans-bom.txt").write_bytes(utf16.encode("utf-16-le"))
    (corpus / "big-endian.txt").write_bytes(utf16.replace("épicerie", "laverie").encode("utf-16-be"))
    long_name = "Compte rendu " + "du comité de pilotage " * 10
    long_name = long_name[: 248 - len(".md")] + ".md"
    (corpus / long_name).write_text("# Comité\n\nLe comité valide la programmation 2025 du quartier.\n", "utf-8")
    # a loader failing in a way nobody foresaw fails that file only
    import ingest.loaders.html as html_loader

    def explode(data, path, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(html_loader, "load_html", explode)
    (corpus / "page.html").write_text("<html><body><p>Une page.</p></body></html>", "utf-8")

    report = ingest(light_services, corpus)

    reasons = {Path(path).name: reason for path, reason in report.failed}
    assert set(reasons) == {"abime.docx", "page.html"}
    assert reasons["abime.docx"].startswith("fichier Word illisible ou corrompu")
    assert reasons["page.html"].startswith("erreur inattendue pendant la lecture")
    added = {Path(p).name for p in report.added}
    assert added == {"mobilite.md", "commerce.md", "insertion.md", "sans-bom.txt", "big-endian.txt", long_name}
    texts = {c.metadata["filename"]: c.text for c in light_services.store.iter_chunks()}
    assert texts["sans-bom.txt"] == utf16 and "laverie" in texts["big-endian.txt"]
    assert "programmation 2025" in texts[long_name]


@ON_EMBEDDED_AND_SERVER_STORES
def test_half_written_document_is_invisible_and_repaired(light_services, tmp_path, monkeypatch):
    corpus = write_corpus(tmp_path / "corpus")
    ingest(light_services, corpus)
    store = light_services.store
    count = store.chunk_count()
    (corpus / "mobilite.md").write_text("# Fiche mobilite\n\nDes vélos électriques pour les saisonniers.\n", "utf-8")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed between chunk write and registry switch")

    monkeypatch.setattr(store._registry, "upsert", crash)
    with pytest.raises(KeyboardInterrupt):
        light_services.indexer.index_paths([corpus])
    monkeypatch.undo()
    assert store.chunk_count() > count  # new chunks were written ...
    assert all("vélos" not in c.text for c in store.iter_chunks())  # ... but are not visible
    assert all("vélos" not in h.chunk.text for h in light_services.searcher.search("vélos électriques saisonniers"))
    report = ingest(light_services, corpus)
    assert report.updated == [str(corpus / "mobilite.md")]
    assert store.chunk_count() == sum(r.chunk_count for r in store.documents().values())


def test_kill_during_embedding_then_rerun_matches_a_clean_run(light_services, settings, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(8):
        body = "\n\n".join(
            f"Paragraphe {j} de la fiche {i} : action numéro {i * 10 + j} pour l'emploi local." * 6 for j in range(6)
        )
        (corpus / f"fiche-{i}.md").write_text(f"# Fiche {i}\n\n{body}\n", "utf-8")
    env = {**os.environ, "ASSISTANT_CACHE_DIR": str(tmp_path / "empty-cache"), "PYTHONUNBUFFERED": "1"}
    data_dir = tmp_path / "killed"
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "ingest", str(corpus), "--data-dir", str(data_dir), "-v"],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in process.stderr:
        if "indexed" in line:  # one document committed, the next is being embedded
            break
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    killed = build_services(settings.model_copy(update={"data_dir": data_dir}), embedder=light_services.embedder)
    partial = len(killed.store.documents())
    assert 1 <= partial < 8
    rerun = ingest(killed, corpus)
    assert len(rerun.added) == 8 - partial and len(rerun.unchanged) == partial

    clean = build_services(
        settings.model_copy(update={"data_dir": tmp_path / "clean"}), embedder=light_services.embedder
    )
    ingest(clean, corpus)
    ids = [c.chunk_id for c in killed.store.iter_chunks(visible_only=False)]
    assert len(ids) == len(set(ids)) == clean.store.chunk_count()
    assert sorted(ids) == sorted(c.chunk_id for c in clean.store.iter_chunks())


@pytest.mark.slow  # ~2 min on 2 cores: a thousand files read, registered and embedded
def test_thousand_small_files_report_steady_progress(light_services, tmp_path):
    folder = tmp_path / "mille"
    folder.mkdir()
    for i in range(1000):
        (folder / f"note-{i:04d}.txt").write_text(f"Note {i} : permanence emploi numéro {i}.", "utf-8")
    for i in range(5):
        (folder / f"casse-{i}.txt").write_bytes(b"\x00" * 10)
    events: list[Progress] = []
    report = ingest(light_services, folder, on_progress=events.append)
    assert len(report.added) == 1000 and len(report.failed) == 5
    assert len(events) >= 1000 / light_services.embedder.batch_size
    assert [e.done for e in events] == sorted(e.done for e in events) and events[-1].done == events[-1].total == 1000


def test_docx_and_pdf_are_indexed_with_pages(light_services, tmp_path):
    folder = tmp_path / "formats"
    folder.mkdir()
    write_pdf(
        folder / "rapport.pdf", ["Diagnostic du quartier des Tilleuls.", "Plan d'actions : une couveuse d'entreprises."]
    )
    write_docx(
        folder / "guide.docx", [("h1", "Guide"), ("h2", "Gouvernance"), ("p", "Un comité de pilotage trimestriel.")]
    )
    report = ingest(light_services, folder)
    assert len(report.added) == 2, report.summary()
    hit = light_services.searcher.search("couveuse d'entreprises", k=1)[0]
    assert hit.chunk.metadata["filename"] == "rapport.pdf" and hit.chunk.page == 2
    hit = light_services.searcher.search("comité de pilotage", k=1)[0]
    assert hit.chunk.heading_path == ("Guide", "Gouvernance")


def test_oversized_documents_are_refused_in_french_and_the_file_after_them_completes(
    light_services, settings, tmp_path, monkeypatch
):
    folder = tmp_path / "depot"
    folder.mkdir()
    write_docx_bomb(folder / "a-bombe.docx", 30)  # 0.2 MB holding 30 MB of XML
    write_docx_bomb(folder / "b-long.docx", 3, varied=True)  # ordinary compression, 3 MB of text
    (folder / "c-passages.md").write_text(
        "\n\n".join(f"# Partie {i}\n\n" + "Un paragraphe du compte rendu. " * 60 for i in range(30)), "utf-8"
    )
    write_pdf(folder / "d-lent.pdf", [f"Page {i} du rapport." for i in range(10)])
    (folder / "z-normal.md").write_text("# Note\n\nLa régie de quartier recrute deux encadrants.\n", "utf-8")
    import ingest.loaders.pdf as pdf_loader

    read_page = pdf_loader._page_lines
    monkeypatch.setattr(pdf_loader, "_page_lines", lambda page: time.sleep(1.0) or read_page(page))
    settings.ingest.max_extracted_chars = 500_000
    settings.ingest.max_passages = 20
    # a budget far from both the slow PDF (10 s) and the other files, so a loaded machine does not flip it
    settings.ingest.max_seconds_per_file = 4.0
    light_services = build_services(settings, embedder=light_services.embedder)

    report = ingest(light_services, folder)

    reasons = {Path(path).name: reason for path, reason in report.failed}
    assert "bombe de décompression possible" in reasons.pop("a-bombe.docx")
    assert reasons.pop("b-long.docx").startswith("document trop long (plus de 500 000 caractères de texte)")
    assert reasons.pop("c-passages.md").startswith("document trop long (")
    assert "limite 20" in report.summary()
    assert reasons.pop("d-lent.pdf").startswith("lecture trop longue (plus de 4 s pour ce seul fichier)")
    assert reasons == {}
    assert [Path(p).name for p in report.added] == ["z-normal.md"]
    assert light_services.searcher.search("régie de quartier", k=1)[0].chunk.metadata["filename"] == "z-normal.md"


def test_reading_a_pdf_reports_each_page_before_the_passages(light_services, tmp_path):
    folder = tmp_path / "rapport"
    folder.mkdir()
    write_pdf(folder / "rapport.pdf", [f"Page {i} : le diagnostic du quartier." for i in range(1, 4)])
    events: list[Progress] = []
    ingest(light_services, folder, on_progress=events.append)
    reading = [(e.done, e.total, e.current) for e in events if e.stage == "reading"]
    assert reading == [(1, 3, "rapport.pdf"), (2, 3, "rapport.pdf"), (3, 3, "rapport.pdf")]
    assert events[: len(reading)] == [e for e in events if e.stage == "reading"]  # pages first, then passages
    assert events[-1].stage == "embedding" and events[-1].done == events[-1].total


def test_force_reindexes_unchanged_documents_and_records_when(light_services, tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    ingest(light_services, corpus)
    before = {r.doc_id: r.metadata["ingested_at"] for r in light_services.store.documents().values()}
    forced = light_services.indexer.sync(discover([corpus / "commerce.md"]), force=True)
    assert forced.updated == [str(corpus / "commerce.md")] and not forced.unchanged
    assert light_services.store.chunk_count() == sum(r.chunk_count for r in light_services.store.documents().values())
    assert set(before) == set(light_services.store.documents())


def test_the_registry_kept_in_memory_follows_another_process_s_writes(settings, embedder, tmp_path):
    # the app keeps the registry in memory while `python -m assistant ingest` writes to the same folder
    corpus = write_corpus(tmp_path / "corpus")
    reader = build_services(settings, embedder=embedder)
    assert reader.store.documents() == {}
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(settings.data_dir), "ASSISTANT_CACHE_DIR": str(settings.cache_dir)}
    subprocess.run(
        [sys.executable, "-m", "assistant", "ingest", str(corpus)], cwd=REPO, env=env, check=True, capture_output=True
    )
    assert sorted(r.metadata["filename"] for r in reader.store.documents().values()) == sorted(
        f"{name}.md" for name, _ in TOPICS
    )
