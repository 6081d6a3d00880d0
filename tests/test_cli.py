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


def run_cli(*args: str, cache: Path, check: bool = True, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "ASSISTANT_CACHE_DIR": str(cache)}
    env.pop("ASSISTANT_DATA_DIR", None)
    result = subprocess.run(
        [sys.executable, "-m", "assistant", *args], cwd=cwd, env=env, capture_output=True, text=True
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
@pytest.mark.slow  # ~70 s: one CLI process per question
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


READING_COMMANDS = [
    ("ask", "Qui pilote le contrat de ville ?"),
    ("search", "emploi"),
    ("note", "--territory", "ville moyenne", "--topic", "pilier développement économique"),
    ("precedents", "plateforme mobilité"),
    ("compare", "Valbrune", "Vergnolles"),
    ("experiences",),
]


@pytest.mark.parametrize("command", READING_COMMANDS, ids=[c[0] for c in READING_COMMANDS])
def test_from_another_folder_an_empty_index_is_said_with_how_to_build_one(command, tmp_path, embedding_cache_dir):
    result = run_cli(*command, cache=embedding_cache_dir, check=False, cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert f"L'index est vide : aucun document indexé dans le dossier {tmp_path.resolve() / 'data'}" in result.stderr
    assert f"python -m assistant ingest {REPO / 'corpus' / 'demo'}" in result.stderr and "--data-dir" in result.stderr
    assert list(tmp_path.iterdir()) == []  # no empty data/ left behind


def test_an_existing_but_empty_index_folder_is_said_too(tmp_path, embedding_cache_dir):
    empty = tmp_path / "vide"
    run_cli("stats", "--data-dir", str(empty), cache=embedding_cache_dir)
    assert not empty.exists()
    (empty / "chroma").mkdir(parents=True)
    result = run_cli("search", "emploi", "--data-dir", str(empty), cache=embedding_cache_dir, check=False)
    assert result.returncode == 1 and f"dans le dossier {empty.resolve()}" in result.stderr


@pytest.mark.slow  # ~35 s: several CLI processes, each loading the model
def test_human_output_and_errors(tmp_path, embedding_cache_dir):
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


def test_usage_help_and_errors_are_in_french(capsys):
    import argparse
    import gettext

    from assistant.cli import main

    shown = []
    for argv in (["-h"], ["search", "-h"], ["note", "-h"], [], ["search", "-k", "x", "q"], ["note", "--writer", "z"]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        out = capsys.readouterr()
        shown.append(out.out + out.err)
        assert stop.value.code == (0 if "-h" in argv else 2)
    text = "\n".join(shown)
    for english in (
        "usage:",
        "positional arguments",
        "show this help message",
        "error:",
        "invalid choice",
        "required:",
    ):
        assert english not in text
    assert "utilisation : python -m assistant [-h] COMMANDE" in shown[0] and "commandes:" in shown[0]
    assert "afficher cette aide et quitter" in shown[1] and "arguments positionnels:" in shown[1]
    assert "--territory TERRITOIRE" in shown[2] and "--data-dir DOSSIER" in shown[2]
    assert "erreur : argument(s) obligatoire(s) manquant(s) : COMMANDE" in shown[3]
    assert "erreur : argument -k : valeur invalide : 'x'" in shown[4]
    assert "argument --writer : choix invalide : 'z' (choisir parmi 'extraits', 'llm')" in shown[5]
    assert argparse._ is gettext.gettext  # other parsers of the process keep speaking English


def test_the_size_limit_is_reported_as_set(tmp_path, embedding_cache_dir):
    folder = tmp_path / "gros"
    folder.mkdir()
    with (folder / "gros.txt").open("wb") as big:  # 51 Mo (sparse): over the default 50 Mo, under 50 MiB
        big.truncate(51_000_000)
    out = run_cli("ingest", str(folder), "--data-dir", str(tmp_path / "d"), cache=embedding_cache_dir, check=False)
    assert "fichier trop volumineux (51.0 Mo, limite 50 Mo)" in out.stdout, out.stdout
