"""One document, several copies: indexed once with every copy as a location; versions linked.

Real files (PDF, DOCX, Markdown) of one text, on a real Chroma: one set of passages, every copy
listed, also after a re-ingest, the deletion of one copy and a crash in the middle of an ingest.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from files import write_docx, write_pdf

from assistant.copies import DUPLICATE_OF, SUPERSEDES, copy_locations, superseded_documents
from assistant.factory import build_services
from assistant.ui.actions import Actions
from assistant.ui.documents import document_choices, document_rows
from ingest.duplicates import FINGERPRINT, CopyFinder, Known, read_fingerprint, signature
from ingest.references import ReferenceIndex
from ingest.sync import discover

PARAGRAPHS = [
    "Cette étude-action porte sur les rez-de-chaussée commerciaux des quartiers de la Calade-Nord et de Font-Rousse.",
    "Le recensement a identifié 214 locaux d'activité, dont 67 vacants, soit un taux de vacance de 31 %. "
    "La vacance est concentrée dans les cellules de moins de 60 m2 et dans les galeries intérieures.",
    "Les bailleurs sociaux possèdent 58 % des locaux ; les copropriétés 27 % et des propriétaires isolés 15 %.",
    "L'étude recommande de créer une foncière de quartier qui achète, rénove et loue les locaux à des loyers "
    "progressifs, avec la Banque des Territoires, les deux bailleurs et la métropole comme actionnaires.",
    "Un comité de sélection des occupants réunit la chambre de commerce, la chambre de métiers et les habitants.",
]
TITLE = "Étude-action : locaux d'activité et foncière de quartier"


def write_copies(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    pdf = write_pdf(folder / "etude-fonciere.pdf", ["\n\n".join(PARAGRAPHS)], title=TITLE)
    docx = write_docx(folder / "etude-fonciere.docx", [("h1", TITLE)] + [("p", p) for p in PARAGRAPHS], title=TITLE)
    renamed = folder / "copie de etude.md"
    renamed.write_text(f"# {TITLE}\n\n" + "\n\n".join(PARAGRAPHS) + "\n", "utf-8")
    other = folder / "garage.md"
    other.write_text(
        "# Garage solidaire\n\nLe garage solidaire de la Plaine répare les voitures des ménages modestes "
        "et prête des véhicules pour aller travailler ; 412 interventions en 2022.\n",
        "utf-8",
    )
    return {"pdf": pdf, "docx": docx, "md": renamed, "other": other}


def sync(services, folder: Path, *, prune: bool = True):
    report = services.indexer.sync(discover([folder]), prune_roots=[folder] if prune else ())
    return report


def indexed(services) -> dict[str, int]:
    """Passages per file name, counted in the chunk collection itself."""
    counts: dict[str, int] = {}
    for chunk in services.store.iter_chunks():
        counts[chunk.metadata["filename"]] = counts.get(chunk.metadata["filename"], 0) + 1
    return counts


def the_reference(services) -> tuple[str, list[str]]:
    """(file name of the document with passages among the copies, file names of all its locations)."""
    records = services.store.documents()
    [reference] = [r for r in records.values() if "etude" in r.source and not r.metadata.get(DUPLICATE_OF)]
    return Path(reference.source).name, [Path(s).name for s in copy_locations(records, reference.doc_id)]


def test_pdf_and_docx_renderings_of_one_text_are_copies_and_a_related_text_is_not():
    finder = CopyFinder()
    finder.add(Known("pdf", signature("\n".join(PARAGRAPHS).replace("’", "'")), TITLE, "2023-02-27"))
    docx_text = TITLE + "\n" + "\n".join(p.replace("'", "’").replace("oe", "œ") for p in PARAGRAPHS)
    match = finder.match(signature(docx_text), title=TITLE, date="2023-02-27")
    assert match is not None and (match.kind, match.doc_id) == ("copy", "pdf") and match.similarity > 0.85
    related = PARAGRAPHS[0] + " Un autre quartier, La Source, compte 96 locaux et 12 vacants ; aucune foncière."
    assert finder.match(signature(related), title="Étude-action : la Source", date="2023-05-01") is None


def test_an_updated_version_is_linked_not_merged():
    finder = CopyFinder()
    finder.add(Known("v2019", signature("\n".join(PARAGRAPHS)), TITLE, "2019-06-01"))
    updated = PARAGRAPHS[:3] + ["En 2023, la foncière a acheté 12 locaux et en a loué 9 à des commerçants."]
    match = finder.match(signature("\n".join(updated)), title=TITLE, date="2023-06-01")
    assert match is not None and (match.kind, match.doc_id, match.newer) == ("version", "v2019", True)


def test_copies_in_several_formats_are_indexed_once_with_every_location(services, tmp_path):
    folder = tmp_path / "docs"
    write_copies(folder)
    report = sync(services, folder)
    assert sorted(Path(p).name for p in report.added) == [
        "copie de etude.md",
        "etude-fonciere.docx",
        "etude-fonciere.pdf",
        "garage.md",
    ]
    assert len(report.copies) == 2 and "indexé une fois" in report.summary()
    reference, locations = the_reference(services)
    assert reference == "copie de etude.md"  # the first in the folder's order is the reference
    assert sorted(locations) == ["copie de etude.md", "etude-fonciere.docx", "etude-fonciere.pdf"]
    assert set(indexed(services)) == {"copie de etude.md", "garage.md"}
    hits = services.searcher.search("taux de vacance des locaux d'activité à la Calade-Nord", k=5)
    assert {h.chunk.metadata["filename"] for h in hits} <= {"copie de etude.md", "garage.md"}
    answer = services.assistant.ask("Quel est le taux de vacance des locaux d'activité à la Calade-Nord ?")
    assert not answer.refused and len({c.doc_id for c in answer.citations}) == 1

    titles = [row[0] for row in document_rows(list(services.store.documents().values()))]
    assert sum(title.endswith("(copie de copie de etude.md, indexée une fois)") for title in titles) == 2

    again = sync(services, folder)
    assert (again.added, again.updated, again.copies, len(again.unchanged)) == ([], [], [], 4)
    assert the_reference(services) == (reference, locations)


def test_deleting_the_reference_copy_promotes_another(services, tmp_path):
    folder = tmp_path / "docs"
    files = write_copies(folder)
    sync(services, folder)
    passages = indexed(services)["copie de etude.md"]
    files["md"].unlink()
    report = sync(services, folder)
    assert [Path(p).name for p in report.removed] == ["copie de etude.md"]
    reference, locations = the_reference(services)
    assert reference == "etude-fonciere.docx" and sorted(locations) == ["etude-fonciere.docx", "etude-fonciere.pdf"]
    assert set(indexed(services)) == {"etude-fonciere.docx", "garage.md"}
    assert indexed(services)["etude-fonciere.docx"] == passages

    # deleted from the index (not from the folder), the reference is replaced at the next sync too
    records = services.store.documents()
    services.store.delete_document(next(r.doc_id for r in records.values() if r.source.endswith(".docx")))
    sync(services, folder, prune=False)
    assert the_reference(services)[0] in ("etude-fonciere.docx", "etude-fonciere.pdf")
    assert len([n for n in indexed(services) if n.startswith("etude")]) == 1


def test_a_crash_in_the_middle_leaves_one_set_of_passages_after_the_next_run(services, tmp_path, monkeypatch):
    folder = tmp_path / "docs"
    write_copies(folder)
    store = services.store
    original = store.put_document
    calls = []

    def crash_on_second(document, *args, **kwargs):
        calls.append(document.doc_id)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        return original(document, *args, **kwargs)

    monkeypatch.setattr(store, "put_document", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        sync(services, folder)
    monkeypatch.setattr(store, "put_document", original)
    sync(services, folder)
    reference, locations = the_reference(services)
    assert len(locations) == 3 and set(indexed(services)) == {reference, "garage.md"}


def test_an_updated_version_is_indexed_and_linked_to_the_older(services, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    body = "\n\n".join(PARAGRAPHS)
    (folder / "etude-2019.md").write_text(f'---\ntitle: "{TITLE}"\ndate: 2019-06-01\n---\n{body}\n', "utf-8")
    updated = "\n\n".join(PARAGRAPHS[:4] + ["En 2023, la foncière a acheté 12 locaux et en a loué 9."])
    (folder / "etude-2023.md").write_text(f'---\ntitle: "{TITLE}"\ndate: 2023-06-01\n---\n{updated}\n', "utf-8")
    report = sync(services, folder)
    assert [(Path(a).name, Path(b).name) for a, b in report.versions] == [("etude-2023.md", "etude-2019.md")]
    records = services.store.documents()
    by_name = {Path(r.source).name: r for r in records.values()}
    assert by_name["etude-2023.md"].metadata[SUPERSEDES] == by_name["etude-2019.md"].doc_id
    assert superseded_documents(records) == {by_name["etude-2019.md"].doc_id: by_name["etude-2023.md"].doc_id}
    assert set(indexed(services)) == {"etude-2019.md", "etude-2023.md"}
    # the newer version is preferred without asking; the older stays findable
    hits = services.searcher.search("foncière de quartier avec la Banque des Territoires et les bailleurs", k=4)
    assert Path(hits[0].chunk.metadata["source"]).name == "etude-2023.md"
    older = [h for h in hits if h.chunk.metadata["source"].endswith("etude-2019.md")]
    assert older and older[0].provenance["currency"] < 1
    titles = [row[0] for row in document_rows(list(records.values()))]
    assert f"{TITLE} (version remplacée par etude-2023.md)" in titles


def test_each_record_stores_its_fingerprint_and_a_new_copy_is_compared_without_reading_the_others(
    services, tmp_path, monkeypatch
):
    folder = tmp_path / "docs"
    files = write_copies(folder)
    files["docx"].rename(tmp_path / "aside.docx")
    sync(services, folder)
    records = services.store.documents()
    assert all(read_fingerprint(r.metadata.get(FINGERPRINT)) is not None for r in records.values())
    assert all(FINGERPRINT not in c.metadata for c in services.store.iter_chunks())  # the record only

    (tmp_path / "aside.docx").rename(files["docx"])  # the DOCX comes back; the other files are unchanged
    fresh = build_services(services.settings, embedder=services.embedder)  # another process: nothing in memory
    read_texts: list[str] = []
    monkeypatch.setattr(fresh.store, "document_text", lambda doc_id: read_texts.append(doc_id) or "")
    report = fresh.indexer.sync(discover([folder]), prune_roots=[folder])
    assert [Path(p).name for p in report.added] == ["etude-fonciere.docx"] and len(report.copies) == 1
    assert read_texts == []
    assert the_reference(fresh)[0] == "copie de etude.md"


def chosen(services, name: str) -> str:
    return next(r.doc_id for r in services.store.documents().values() if Path(r.source).name == name)


def test_the_user_chooses_the_reference_copy_and_the_choice_survives_a_re_ingest(services, tmp_path):
    folder = tmp_path / "docs"
    files = write_copies(folder)
    sync(services, folder)
    report = services.indexer.choose_reference(chosen(services, "etude-fonciere.pdf"))
    assert [(Path(a).name, Path(b).name) for a, b in report.references] == [("etude-fonciere.pdf", "copie de etude.md")]
    assert "copie de référence à la place de" in report.summary()
    reference, locations = the_reference(services)
    assert reference == "etude-fonciere.pdf"
    assert sorted(locations) == ["copie de etude.md", "etude-fonciere.docx", "etude-fonciere.pdf"]
    assert set(indexed(services)) == {"etude-fonciere.pdf", "garage.md"}
    answer = services.assistant.ask("Quel est le taux de vacance des locaux d'activité à la Calade-Nord ?")
    assert not answer.refused and {c.source for c in answer.citations} == {str(files["pdf"].resolve())}
    assert sorted(Path(p).name for p in answer.citations[0].copies) == ["copie de etude.md", "etude-fonciere.docx"]

    # read again from scratch, in another process: the chosen copy stays the reference
    again = build_services(services.settings, embedder=services.embedder)
    again.indexer.sync(discover([folder]), prune_roots=[folder], force=True)
    assert the_reference(again)[0] == "etude-fonciere.pdf" and set(indexed(again)) == {
        "etude-fonciere.pdf",
        "garage.md",
    }
    files["md"].write_text(files["md"].read_text("utf-8") + "\nMis à jour.\n", "utf-8")
    sync(again, folder)
    assert the_reference(again)[0] == "etude-fonciere.pdf"

    # a later choice wins
    services.indexer.choose_reference(chosen(services, "etude-fonciere.docx"))
    assert the_reference(services)[0] == "etude-fonciere.docx"
    assert set(indexed(services)) == {"etude-fonciere.docx", "garage.md"}


def test_deleting_the_reference_from_the_index_promotes_a_copy_at_once(services, tmp_path):
    folder = tmp_path / "docs"
    write_copies(folder)
    sync(services, folder)
    services.indexer.choose_reference(chosen(services, "etude-fonciere.pdf"))
    services.indexer.choose_reference(chosen(services, "etude-fonciere.docx"))
    services.indexer.delete(chosen(services, "etude-fonciere.docx"))
    # no sync in between: the former chosen copy (the PDF) holds the passages, the other copy points to it
    reference, locations = the_reference(services)
    assert reference == "etude-fonciere.pdf" and sorted(locations) == ["copie de etude.md", "etude-fonciere.pdf"]
    assert set(indexed(services)) == {"etude-fonciere.pdf", "garage.md"}
    hits = services.searcher.search("taux de vacance des locaux d'activité à la Calade-Nord", k=3)
    assert hits[0].chunk.metadata["filename"] == "etude-fonciere.pdf"

    # removing a copy leaves the reference and its passages as they are
    passages = indexed(services)["etude-fonciere.pdf"]
    services.indexer.delete(chosen(services, "copie de etude.md"))
    assert the_reference(services) == ("etude-fonciere.pdf", ["etude-fonciere.pdf"])
    assert indexed(services) == {"etude-fonciere.pdf": passages, "garage.md": indexed(services)["garage.md"]}


@pytest.mark.parametrize("killed_at", [2, 3], ids=["before-the-copy-is-stored", "before-the-relinks"])
def test_a_choice_killed_half_way_is_completed_by_the_next_sync(services, tmp_path, monkeypatch, killed_at):
    folder = tmp_path / "docs"
    write_copies(folder)
    sync(services, folder)
    store = services.store
    original = store.put_document
    writes = []

    def killed_on_a_write(document, content_hash, chunks, vectors):
        writes.append(len(chunks))
        if len(writes) == killed_at:  # 1: the choice stamped, 2: the chosen copy's passages, 3: the relinks
            raise KeyboardInterrupt("killed")
        return original(document, content_hash, chunks, vectors)

    monkeypatch.setattr(store, "put_document", killed_on_a_write)
    with pytest.raises(KeyboardInterrupt):
        services.indexer.choose_reference(chosen(services, "etude-fonciere.docx"))
    monkeypatch.setattr(store, "put_document", original)
    sync(services, folder)
    reference, locations = the_reference(services)
    assert reference == "etude-fonciere.docx" and len(locations) == 3
    assert set(indexed(services)) == {"etude-fonciere.docx", "garage.md"}


def test_the_documents_page_shows_the_copies_and_sets_the_reference(services, tmp_path):
    folder = tmp_path / "docs"
    write_copies(folder)
    sync(services, folder)
    actions = Actions.from_services(services)
    view = actions.refresh()
    titles = [row[0] for row in view.table["data"]]
    assert f"{TITLE} (exemplaire de référence ; copies : etude-fonciere.docx, etude-fonciere.pdf)" in titles
    labels = [label for label, _ in document_choices(list(services.store.documents().values()))]
    assert f"{TITLE} — etude-fonciere.pdf ({chosen(services, 'etude-fonciere.pdf')})" in labels

    def progress(*args, **kwargs):
        return None

    view = actions.choose_reference(chosen(services, "etude-fonciere.pdf"), progress)
    assert "★" in view.message and "etude-fonciere.pdf : copie de référence à la place de" in view.message
    titles = [row[0] for row in view.table["data"]]
    assert f"{TITLE} (exemplaire de référence choisi ; copies : copie de etude.md, etude-fonciere.docx)" in titles
    again = actions.choose_reference(chosen(services, "etude-fonciere.pdf"), progress)
    assert again.message == "« etude-fonciere.pdf » est l'exemplaire de référence (choix enregistré)."
    alone = actions.choose_reference(chosen(services, "garage.md"), progress)
    assert alone.message == "« Garage solidaire » n'a pas d'autre exemplaire indexé : il est sa propre référence."
    assert actions.choose_reference(None, progress).message == "Choisissez un document dans la liste."


def test_a_long_lived_indexer_follows_the_references_other_processes_add_and_delete(services, tmp_path, monkeypatch):
    folder, aside = tmp_path / "docs", tmp_path / "aside"
    files = write_copies(folder)
    aside.mkdir()
    for name in ("pdf", "docx"):
        files[name].rename(aside / files[name].name)
    sync(services, folder)  # the worker: its finder holds the Markdown text as a reference
    builds: list[ReferenceIndex] = []
    original = ReferenceIndex.build
    monkeypatch.setattr(
        ReferenceIndex,
        "build",
        lambda self, registry, *, relink: builds.append(self) or original(self, registry, relink=relink),
    )

    # another process indexes the PDF elsewhere: the worker knows it as a copy of its reference
    other = build_services(services.settings, embedder=services.embedder)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (aside / "etude-fonciere.pdf").rename(elsewhere / "etude-fonciere.pdf")
    other.indexer.sync(discover([elsewhere]))
    # then deletes the Markdown reference from the index: the PDF is promoted
    other.indexer.delete(chosen(other, "copie de etude.md"))
    files["md"].unlink()

    # the worker's next file, the DOCX, is a copy of the promoted PDF, not of the deleted Markdown
    (aside / "etude-fonciere.docx").rename(files["docx"])
    report = services.indexer.sync(discover([folder]), prune_roots=[folder])
    assert [Path(p).name for p in report.added] == ["etude-fonciere.docx"] and len(report.copies) == 1
    records = services.store.documents()
    docx = records[chosen(services, "etude-fonciere.docx")]
    assert docx.metadata.get(DUPLICATE_OF) == chosen(services, "etude-fonciere.pdf")
    worker = services.indexer.synchronizer.references
    assert worker not in builds  # brought in line with the registry, not built again
