"""The learned ranker: the shipped model loads from the package, orders a hand-made case, falls back when
unusable, and training is reproducible."""

from __future__ import annotations

import socket
from importlib import resources

import numpy as np
import pytest

from assistant.retrieval.features import FEATURE_NAMES, Candidate, QueryProfile, candidate_rows
from assistant.retrieval.ranker import (
    FUSION_BLEND,
    MODEL_FILE,
    LearnedRanker,
    blend_with_fusion,
    load_ranker,
    order_by_score,
)
from evals.datasets import Question
from evals.ranker_training import fold_of_questions, order_by_currency, train
from evals.systems import retrieval_query

PROFILE = QueryProfile(
    terms=("aid", "log", "etudi", "ren"),
    weights={"aid": 1.0, "log": 2.0, "etudi": 3.0, "ren": 4.0},
    added_terms=(),
    numbers=frozenset(),
    names=frozenset({"rennes"}),
)


def test_equal_scores_are_ordered_by_id():
    assert order_by_score(["c", "a", "b"], [1.0, 1.0, 2.0]) == [2, 1, 0]


def test_model_scores_are_normalised_per_question_then_blended_with_the_fusion_score():
    rows = np.zeros((3, len(FEATURE_NAMES)))
    rows[:, FEATURE_NAMES.index("fusion_score")] = [0.0, 2.0, 1.0]
    assert FUSION_BLEND == 0.25
    assert blend_with_fusion([2.0, 0.0, 1.0], rows) == [1.0, 0.5, 0.75]
    assert blend_with_fusion([3.0, 3.0, 3.0], rows) == [1.0, 1.5, 1.25]


def test_the_model_ships_inside_the_package_and_loads_without_network(monkeypatch: pytest.MonkeyPatch):
    assert resources.files("assistant.retrieval").joinpath(MODEL_FILE.name).is_file()
    assert MODEL_FILE.stat().st_size < 1_000_000

    def no_network(*args, **kwargs):
        raise AssertionError("the ranker must not open a connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert isinstance(load_ranker(), LearnedRanker)


def test_the_shipped_model_puts_the_passage_answering_the_question_first():
    answer = Candidate(
        "b-0001", "b", "Les étudiants de Rennes reçoivent une aide au logement.", "Aide au logement",
        keyword_score=12.0, keyword_rank=1, similarity=0.86, dense_rank=1,
    )  # fmt: skip
    other = Candidate(
        "a-0001", "a", "Le marché de Noël ouvre en décembre.", "Agenda",
        keyword_score=1.0, keyword_rank=2, similarity=0.78, dense_rank=2,
    )  # fmt: skip
    ranker = load_ranker()
    assert ranker is not None
    scores = ranker.score(candidate_rows(PROFILE, [other, answer]))
    assert order_by_score(["a-0001", "b-0001"], scores) == [1, 0]


def test_an_unreadable_or_foreign_model_falls_back_to_fusion(tmp_path):
    broken = tmp_path / "broken.txt"
    broken.write_text("not a model", encoding="utf-8")
    assert load_ranker(broken) is None
    assert load_ranker(tmp_path / "missing.txt") is None
    foreign = tmp_path / "foreign.txt"
    foreign.write_text(
        MODEL_FILE.read_text(encoding="utf-8").replace("feature_names=keyword_score", "feature_names=other"),
        encoding="utf-8",
    )
    assert load_ranker(foreign) is None


def _toy_rows(seed: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """40 questions of 10 candidates; the relevant one has the highest coverage, plus noise."""
    rng = np.random.default_rng(seed)
    rows = rng.random((400, len(FEATURE_NAMES)))
    labels = np.zeros(400, dtype=np.int32)
    for question in range(40):
        best = question * 10 + int(rng.integers(10))
        labels[best] = 1
        rows[best, FEATURE_NAMES.index("coverage")] += 1.0
    return rows, labels, [10] * 40


def test_training_twice_with_the_same_seed_writes_the_same_model():
    rows, labels, sizes = _toy_rows(seed=0)
    first = train(rows, labels, sizes, seed=3, rounds=15).model_to_string()
    again = train(rows, labels, sizes, seed=3, rounds=15).model_to_string()
    assert first == again
    assert "coverage" in first


def test_questions_are_dealt_into_folds_evenly_and_reproducibly():
    folds = fold_of_questions(10, 3, seed=5)
    assert sorted(np.bincount(folds).tolist()) == [3, 3, 4]
    assert folds.tolist() == fold_of_questions(10, 3, seed=5).tolist()


def test_training_orders_a_question_about_the_present_as_the_product_does():
    # weight / (rank + 2): .6 / 2 = .30, 1 / 3 = .33, 1.15 / 4 = .29
    assert order_by_currency([0, 1, 2], [0.6, 1.0, 1.15]) == [1, 0, 2]
    assert order_by_currency([2, 0, 1], [1.0, 1.0, 1.0]) == [2, 0, 1]


def test_a_follow_up_is_searched_with_the_earlier_questions_of_its_conversation():
    follow_up = Question(
        "q2", "et qui finance ?", frozenset({"garage"}), history=("Un garage solidaire en zone rurale ?",)
    )
    assert retrieval_query(follow_up) == "Un garage solidaire en zone rurale ? et qui finance ?"
    alone = Question("q3", "Qu'est-ce qu'une Cité de l'emploi ?", frozenset({"cite"}), history=("et qui finance ?",))
    assert retrieval_query(alone) == "Qu'est-ce qu'une Cité de l'emploi ?"
