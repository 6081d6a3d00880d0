"""`python -m evals` end to end on a tiny generated dataset: report files, plots, JSON, and the gate's exit code."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from assistant.types import Chunk, Hit
from evals.corpora import opening, write_corpus
from evals.datasets import load_set
from evals.runner import main
from evals.systems import SYSTEMS, product_rankings

DOCUMENTS = {
    "garage-solidaire": (
        "Garage solidaire de Lussan",
        "Le garage solidaire répare les voitures des habitants du quartier à prix coûtant. "
        "Il a ouvert en mars 2021 avec quatre salariés en insertion. Un atelier de mécanique forme "
        "chaque année douze jeunes aux métiers de l'automobile.",
    ),
    "clauses-insertion": (
        "Clauses d'insertion à Rivebelle",
        "Les marchés publics de la métropole réservent des heures de travail aux demandeurs d'emploi. "
        "En 2023, les clauses d'insertion ont représenté 41 000 heures. Le facilitateur de clauses "
        "accompagne les entreprises attributaires et suit les participants.",
    ),
    "creche-emploi": (
        "Crèche à vocation d'insertion professionnelle",
        "La crèche réserve des places aux parents en recherche d'emploi. Les familles monoparentales "
        "sont prioritaires. Le contrat d'accueil dure six mois et peut être renouvelé une fois.",
    ),
    "ressourcerie": (
        "Ressourcerie de la Combe",
        "La ressourcerie collecte les objets encombrants, les répare et les revend dans sa boutique. "
        "Elle emploie quinze personnes en chantier d'insertion et a détourné 300 tonnes de déchets.",
    ),
}
QUESTIONS = [
    {
        "id": "q1",
        "type": "fact",
        "question": "Combien d'heures d'insertion les marchés publics ont-ils représenté en 2023 ?",
        "relevant": ["clauses-insertion.md"],
        "key_facts": ["41 000 heures"],
    },
    {
        "id": "q2",
        "type": "fact",
        "question": "Quand le garage solidaire a-t-il ouvert ?",
        "relevant": ["garage-solidaire.md"],
        "key_facts": ["mars 2021"],
    },
    {
        "id": "q3",
        "type": "howto",
        "question": "Comment une crèche peut-elle aider les parents à retrouver un emploi ?",
        "relevant": ["creche-emploi.md"],
        "key_facts": ["six mois"],
    },
    {
        "id": "q4",
        "type": "unanswerable",
        "question": "Quel est le prix d'un ticket de métro à Tokyo ?",
        "relevant": [],
        "key_facts": [],
    },
]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("evals-dataset")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, (title, text) in DOCUMENTS.items():
        (corpus / f"{name}.md").write_text(f"---\ntitle: {title}\n---\n\n# {title}\n\n{text}\n", encoding="utf-8")
    questions = root / "questions.jsonl"
    questions.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in QUESTIONS) + "\n", encoding="utf-8")
    return questions, corpus


def harness_args(dataset: tuple[Path, Path], tmp: Path, *extra: str) -> list[str]:
    questions, corpus = dataset
    return [
        "--questions", str(questions), "--corpus", str(corpus), "--name", "mini", "--answerer", "offline",
        "--workdir", str(tmp / "work"), *extra,
    ]  # fmt: skip


def table_rows(markdown: str, heading: str) -> list[list[str]]:
    """Body rows of the first table after ``heading``."""
    lines = markdown.split(heading, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = list(itertools.takewhile(lambda line: line.startswith("|"), lines[start:]))
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in table[2:]]


def same_number(cell: str, value: object) -> bool:
    return (cell == "—" and value is None) or float(cell) == value


@pytest.mark.slow
def test_full_harness_writes_a_consistent_report(dataset, tmp_path, embedder):
    report = tmp_path / "report"
    args = harness_args(dataset, tmp_path, "--sizes", "8,20", "--report-dir", str(report))
    assert main(args, embedder=embedder) == 0

    for name in ("report.md", "results.json", "recall-at-k.png", "latency-vs-size.png"):
        assert (report / name).is_file(), name
    assert (report / "recall-at-k.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = json.loads((report / "results.json").read_text(encoding="utf-8"))
    markdown = (report / "report.md").read_text(encoding="utf-8")

    machine = results["meta"]["machine"]
    assert machine["cores"] >= 1 and machine["memory_mb"] > 0
    info = results["sets"]["mini"]
    assert info["documents"] == 4 and info["questions"] == 4 and info["retrieval_questions"] == 3
    assert info["chunks_product"] >= 4 and info["chunks_typical"] >= 4
    assert set(results["retrieval"]["mini"]) == set(SYSTEMS)
    hybrid = results["retrieval"]["mini"]["hybrid"]
    assert hybrid["recall@5"] == 1.0 and len(hybrid["recall_curve"]) == 20

    # every number of the Markdown tables is the JSON's
    dataset_row = table_rows(markdown, "## Jeux de données")[0]
    assert dataset_row[0] == "mini" and int(dataset_row[1]) == 4 and int(dataset_row[2]) == info["chunks_product"]
    retrieval_rows = table_rows(markdown, "## Recherche")
    assert [(r[0], r[1]) for r in retrieval_rows] == [("mini", s) for s in SYSTEMS]
    for row in retrieval_rows:
        figures = results["retrieval"]["mini"][row[1]]
        keys = ("recall@1", "recall@5", "mrr@10", "ndcg@10", "latency_ms_p50", "latency_ms_p95")
        assert all(same_number(cell, figures[key]) for cell, key in zip(row[2:], keys, strict=True)), row
    ratio_row = table_rows(markdown, "### Produit hybride / pile typique")[0]
    assert same_number(ratio_row[2], results["ratios"]["mini"]["recall@5"])

    answers = results["answers"]["mini"]
    # scored, not judged: whether the offline answerer refuses here is the product's business
    assert answers["questions"] == 4 and answers["refused_when_unanswerable"] in (0.0, 1.0)
    assert answers["citation_validity"] == 1.0 and answers["cited_answers"] == 1.0
    answer_row = table_rows(markdown, "## Réponses")[0]
    keys = ("questions", "answered", "citation_validity", "cited_answers", "key_fact_recall", "refusal_accuracy")
    assert all(same_number(cell, answers[key]) for cell, key in zip(answer_row[1:], keys, strict=False)), answer_row

    ingest = results["speed"]["ingest"]
    assert ingest["chunks"] == info["chunks_product"] and ingest["unchanged_reingest_embedded"] == 0
    assert ingest["raw_embedder_tokens_per_s"] > 0 and ingest["tokens_per_s"] > 0
    points = results["speed"]["scale"]["points"]
    assert [p["target"] for p in points] == [8, 20]
    assert all(p["chunks"] >= p["target"] for p in points)
    assert points[-1]["distinct_chunks"] == info["chunks_product"] < points[-1]["chunks"]
    scale_rows = table_rows(markdown, "### Latence selon la taille")
    for row, point in zip(scale_rows, points, strict=True):
        assert int(row[0]) == point["target"] and int(row[1]) == point["chunks"]
        assert same_number(row[6], point["retrieval_ms_p50"]) and same_number(row[8], point["answer_ms_p50"])
        shared_index = ("keyword_refresh_seconds", "keyword_compaction_wait_seconds", "keyword_index_mb", "peak_rss_mb")
        assert all(same_number(cell, point[key]) for cell, key in zip(row[12:], shared_index, strict=True)), row
        assert point["peak_rss_mb"] > 100  # the embedding model alone weighs more


@pytest.mark.slow
def test_check_fails_when_a_retrieval_metric_drops(dataset, tmp_path, embedder, capsys):
    baseline = tmp_path / "baseline.json"
    common = harness_args(dataset, tmp_path, "--only", "retrieval", "--baseline", str(baseline))
    assert main([*common, "--report-dir", str(tmp_path / "r1"), "--write-baseline"], embedder=embedder) == 0
    recorded = json.loads(baseline.read_text(encoding="utf-8"))
    assert set(recorded["retrieval"]["mini"]) == set(SYSTEMS)
    assert main([*common, "--check"], embedder=embedder) == 0

    recorded["retrieval"]["mini"]["hybrid"]["mrr@10"] = 1.5  # a baseline no run can reach
    baseline.write_text(json.dumps(recorded), encoding="utf-8")
    assert main([*common, "--check"], embedder=embedder) == 1
    assert "RÉGRESSION mini / hybrid : mrr@10" in capsys.readouterr().err


def hit(doc: str, index: int, **provenance: float) -> Hit:
    chunk = Chunk(f"{doc}-{index}", doc, index, "texte", 0, 5, None, (), {"filename": f"{doc}.md"})
    return Hit(chunk, score=1.0, provenance=provenance)


def test_one_ranked_list_gives_the_keyword_dense_fusion_and_hybrid_rankings():
    ranked = [  # the learned ranker's order; "fusion" is each hit's rank by score fusion
        hit("a", 0, keyword=2, dense=1, similarity=0.9, fusion=2),
        hit("b", 0, keyword=1, fusion=3),
        hit("a", 1, dense=2, similarity=0.8, fusion=4),
        hit("c", 0, dense=3, similarity=0.7, fusion=1),
    ]
    assert product_rankings(ranked) == {
        "keyword": ["b", "a"],
        "dense": ["a", "c"],
        "fusion": ["c", "a", "b"],
        "hybrid": ["a", "b", "c"],
    }


def test_jsonl_corpora_are_written_as_files_kept_whole_or_cut(tmp_path):
    jsonl = tmp_path / "corpus.jsonl"
    records = [
        {"doc_id": "d1", "text": "Premier paragraphe.\nSecond paragraphe, plus long que la limite."},
        {"doc_id": "d2", "title": "Titre", "text": "Texte du deuxième."},
        {"doc_id": "d3", "text": "Absent du sous-ensemble."},
    ]
    jsonl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    folder = tmp_path / "docs"
    (folder / "stale.txt").parent.mkdir()
    (folder / "stale.txt").write_text("ancien", encoding="utf-8")
    assert write_corpus(jsonl, folder, {"d1": 30, "d2": None}) == 2
    assert sorted(p.name for p in folder.iterdir()) == ["d1.txt", "d2.txt"]
    assert (folder / "d1.txt").read_text(encoding="utf-8") == "Premier paragraphe."
    assert (folder / "d2.txt").read_text(encoding="utf-8") == "Titre\n\nTexte du deuxième."
    assert opening("un deux trois quatre", 12) == "un deux"


@pytest.mark.shared
def test_the_ci_subset_is_fixed_and_small():
    subset = load_set("spf-fast")
    assert len(subset.questions) == 40 and len(subset.documents) == 100
    assert all(q.relevant <= set(subset.documents) for q in subset.questions)
    assert sum(limit is None for limit in subset.documents.values()) == 40
