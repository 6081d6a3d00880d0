"""The bundled demo corpus: every document indexed with its metadata, every question's documents present."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from evals.datasets import DOMAIN_QUESTIONS, document_key, load_questions

DEMO = REPO / "corpus" / "demo"
REQUIRED = ("title", "organisation", "type", "date", "territory", "themes")
GENRES = {
    "fiche expérience",
    "dossier thématique",
    "compte rendu",
    "guide méthodologique",
    "note de cadrage",
    "étude-action",
}


def demo_files() -> list[Path]:
    return sorted(p for p in DEMO.iterdir() if not p.name.endswith(".meta.yaml") and p.name != "README.md")


def test_demo_corpus_has_forty_fictional_documents_in_every_genre_and_format():
    files = demo_files()
    assert len(files) >= 40
    assert {p.suffix for p in files} == {".md", ".html", ".docx", ".pdf"}
    for path in files:
        if path.suffix != ".md":
            assert path.with_name(path.name + ".meta.yaml").is_file(), f"{path.name} has no sidecar"


def test_every_demo_document_is_indexed_with_its_metadata(demo_index):
    records = {r.metadata["filename"]: r for r in demo_index.store.documents().values()}
    assert set(records) == {p.name for p in demo_files()}
    genres = set()
    for name, record in records.items():
        meta = record.metadata
        for key in REQUIRED:
            assert meta.get(key), f"{name}: {key} missing"
        assert meta["fictional"] is True and "(fictif)" in meta["territory"] and "(fictif)" in meta["organisation"]
        # the guide present as PDF and DOCX is indexed once: the second file is a copy without passages
        assert (record.chunk_count > 0) != bool(meta.get("duplicate_of")), name
        genres.add(meta["type"])
    assert genres == GENRES
    chunk = next(demo_index.store.iter_chunks())
    assert chunk.metadata["fictional"] is True and chunk.metadata["year"] >= 2009


def test_the_demo_corpus_holds_scans_tables_copies_versions_and_superseded_periods(demo_index):
    records = {r.metadata["filename"]: r for r in demo_index.store.documents().values()}
    for scan in ("c-rapport-mous-zus-tilleuls-2008.pdf", "c-bilan-cucs-emploi-marvejan-2012.pdf"):
        assert records[scan].metadata["pages_ocr"] == "1 à 2" and records[scan].chunk_count > 0
    texts = {name: demo_index.store.document_text(r.doc_id) for name, r in records.items()}
    assert "| Aide au poste de l'État (IAE) | 214 000 euros | 24 % |" in texts["c-fiche-regie-quartier-fontvieille.pdf"]
    assert "| La Garenne | 1 420 | 26 % | 21 % |" in texts["c-tableau-bord-emploi-qpv-marvejan.docx"]
    guide = [records[f"c-guide-facilitateur-clauses-marvejan.{ext}"] for ext in ("docx", "pdf")]
    assert guide[1].metadata["duplicate_of"] == guide[0].doc_id and guide[1].chunk_count == 0
    older, newer = (records[f"c-etude-vacance-commerciale-tilleuls-{year}.md"] for year in (2019, 2023))
    assert newer.metadata["supersedes"] == older.doc_id
    for name in (
        "c-contrat-ville-fontvieille-pilier-emploi-2015.md",
        "c-protocole-engagements-renforces-fontvieille-2019.md",
        "c-compte-rendu-seminaire-cget-cite-emploi-2019.md",
    ):
        assert "contrat de ville 2015-2023" in records[name].metadata["periods"], name
    assert records["c-contrat-ville-quartiers-2030-fontvieille-2024.md"].metadata["periods"] == [
        "Engagements Quartiers 2030"
    ]


def test_domain_questions_point_to_existing_documents():
    questions = load_questions(DOMAIN_QUESTIONS)
    assert len(questions) >= 80
    assert {q.type for q in questions} == {"howto", "precedent", "fact", "unanswerable"}
    stems = {document_key(p.name) for p in demo_files()}
    for q in questions:
        assert q.relevant <= stems, q.id
        assert bool(q.relevant) == (q.type != "unanswerable") == bool(q.key_facts), q.id
    raw = [json.loads(line) for line in DOMAIN_QUESTIONS.read_text("utf-8").splitlines()]
    assert len({r["id"] for r in raw}) == len(raw)


@pytest.mark.parametrize("path", [p for p in sorted(DEMO.glob("*.md")) if p.name != "README.md"], ids=lambda p: p.name)
def test_markdown_front_matter_is_complete(path):
    meta = yaml.safe_load(path.read_text("utf-8").split("---")[1])
    assert set(REQUIRED) <= set(meta) and meta["fictional"] is True and meta["type"] in GENRES
