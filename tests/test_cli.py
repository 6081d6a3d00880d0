"""The command line, run as users run it: `python -m assistant ...` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SEEDS, SHARED
from files import write_malformed_docx


def run_cli(*args: str, cache: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "ASSISTANT_CACHE_DIR": str(cache)}
    result = subprocess.run(
        [sys.executable, "-m", "assistant", *args], cwd=REPO, env=env, capture_output=True, text=True
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory, embedding_cache_dir) -> Path:
    data = tmp_path_factory.mktemp("seed-index")
    if SEEDS.is_dir():
        run_cli("ingest", str(SEEDS), "--data-dir", str(data), cache=embedding_cache_dir)
    return data


@pytest.mark.shared
def test_ingest_stats_and_search_json(seed_index, embedding_cache_dir):
    stats = json.loads(run_cli("stats", "--json", "--data-dir", str(seed_index), cache=embedding_cache_dir).stdout)
    assert stats["documents"] == 5 and stats["chunks"] >= 20 and stats["formats"] == {"txt": 5}

    out = run_cli(
        "search",
        "forum Cités Cap Rennes",
        "-k",
        "3",
        "--json",
        "--data-dir",
        str(seed_index),
        cache=embedding_cache_dir,
    )
    hits = json.loads(out.stdout)
    assert len(hits) == 3
    first = hits[0]
    assert set(first) >= {"chunk_id", "score", "text", "page", "document"}
    assert first["document"]["source"].endswith("004_cdb836eaf621df7c.txt")
    assert "Cités Cap" in first["text"]


@pytest.mark.shared
def test_reingest_of_unchanged_seeds_embeds_nothing(seed_index, embedding_cache_dir):
    out = run_cli("ingest", str(SEEDS), "--data-dir", str(seed_index), cache=embedding_cache_dir)
    assert "inchangés : 5" in out.stdout and "Passages calculés : 0" in out.stdout


@pytest.mark.shared
def test_search_puts_the_right_seed_first_for_most_dev_questions(seed_index, embedding_cache_dir):
    questions = [
        json.loads(line) for line in (SHARED / "bench/seeds/questions-dev.jsonl").read_text("utf-8").splitlines()
    ]
    answerable = [q for q in questions if q["relevant"]]
    right = 0
    for question in answerable:
        out = run_cli(
            "search",
            question["question"],
            "-k",
            "1",
            "--json",
            "--data-dir",
            str(seed_index),
            cache=embedding_cache_dir,
        )
        right += Path(json.loads(out.stdout)[0]["document"]["source"]).name in question["relevant"]
    # measured 13 of 14 when written; the answering issue raises the bar
    assert right >= 12, f"{right}/{len(answerable)}"


def test_human_output_and_errors(tmp_path, embedding_cache_dir):
    empty = run_cli("search", "emploi", "--data-dir", str(tmp_path / "vide"), cache=embedding_cache_dir)
    assert "Aucun passage trouvé" in empty.stdout
    missing = run_cli(
        "ingest", str(tmp_path / "absent"), "--data-dir", str(tmp_path / "d"), cache=embedding_cache_dir, check=False
    )
    assert missing.returncode == 1 and "introuvable" in missing.stderr
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "note.md").write_text(
        "# Note\n\nLa cité de l'emploi réunit France Travail et la mission locale.\n", "utf-8"
    )
    out = run_cli("ingest", str(tmp_path / "notes"), "--data-dir", str(tmp_path / "d"), cache=embedding_cache_dir)
    assert "Ajoutés : 1" in out.stdout
    found = run_cli("search", "cite de l emploi", "--data-dir", str(tmp_path / "d"), cache=embedding_cache_dir)
    assert found.stdout.startswith("1. Note") and "mission locale" in found.stdout


def test_a_malformed_docx_fails_alone_with_a_french_reason_and_no_traceback(tmp_path, embedding_cache_dir):
    folder = tmp_path / "dossier"
    folder.mkdir()
    write_malformed_docx(folder / "abime.docx")
    (folder / "note.md").write_text("# Note\n\nLa cité de l'emploi réunit France Travail.\n", "utf-8")
    result = run_cli("ingest", str(folder), "--data-dir", str(tmp_path / "d"), cache=embedding_cache_dir, check=False)
    assert result.returncode == 1
    assert "Ajoutés : 1" in result.stdout and "en échec : 1" in result.stdout
    assert "abime.docx : fichier Word illisible ou corrompu (XML invalide)" in result.stdout
    assert "Traceback" not in result.stderr and "XMLSyntaxError" not in result.stderr


@pytest.mark.shared
def test_batch_lines_may_carry_the_conversation(seed_index, embedding_cache_dir, tmp_path):
    questions = tmp_path / "questions.jsonl"
    first = "Quand a été lancée la Coordination nationale citoyenne des quartiers ?"
    lines = [
        {"id": "suivi", "question": "et où ?", "history": [first]},
        {"id": "seule", "question": "et où ?"},
    ]
    questions.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in lines), encoding="utf-8")
    out = run_cli("ask", "--batch", str(questions), "--data-dir", str(seed_index), cache=embedding_cache_dir)
    answers = {a["id"]: a for a in map(json.loads, out.stdout.splitlines())}
    assert not answers["suivi"]["refused"] and "Nantes" in answers["suivi"]["text"]
    assert answers["seule"]["refused"]  # alone, « et où ? » asks nothing the corpus can answer
