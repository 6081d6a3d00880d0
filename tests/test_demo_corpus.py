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
        assert record.chunk_count > 0
        genres.add(meta["type"])
    assert genres == GENRES
    chunk = next(demo_index.store.iter_chunks())
    assert chunk.metadata["fictional"] is True and chunk.metadata["year"] >= 2016


def test_domain_questions_point_to_existing_documents():
    questions = load_questions(DOMAIN_QUESTIONS)
    assert len(questions) >= 60
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
