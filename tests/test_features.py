"""Ranker features on literal passages: coverage, order, proximity, numbers, names and list positions."""

from __future__ import annotations

import math

import pytest

from assistant.retrieval.features import (
    FEATURE_NAMES,
    Candidate,
    QueryProfile,
    TermPositions,
    candidate_rows,
    longest_run,
    passage_features,
    smallest_window,
)

# "aide au logement des étudiants à Rennes", analysed: aid log etudi ren; the glossary added "APL"
PROFILE = QueryProfile(
    terms=("aid", "log", "etudi", "ren"),
    weights={"aid": 1.0, "log": 2.0, "etudi": 3.0, "ren": 4.0, "apl": 2.0},
    added_terms=("apl",),
    numbers=frozenset({"2024"}),
    names=frozenset({"rennes"}),
)
# analysed: etudi ren recoivent aid log depuis 2024
FULL = Candidate("a-1", "a", "Les étudiants de Rennes reçoivent une aide au logement depuis 2024.", "")
# analysed: log etudi aid exist; its heading holds aid log
PARTIAL = Candidate("b-1", "b", "Le logement des étudiants : une aide existe.", "Aide au logement")


def test_profile_of_a_question_keeps_its_terms_numbers_names_and_the_glossary_additions():
    profile = QueryProfile.build(
        "Quelle aide au logement pour les étudiants à Rennes en 2024 ?",
        "Quelle aide au logement pour les étudiants à Rennes en 2024 ? APL",
        lambda term: 2.0,
    )
    assert profile.terms == ("quel", "aid", "log", "etudi", "ren", "2024")
    assert profile.added_terms == ("apl",)
    assert profile.numbers == {"2024"}
    assert profile.names == {"rennes"}  # "Quelle", the first word, is not a name
    assert profile.weights["apl"] == 2.0


def test_longest_run_counts_consecutive_query_terms_in_order():
    assert longest_run(["a", "b", "c", "d"], ["x", "b", "c", "d", "a"]) == 3
    assert longest_run(["a", "b"], ["b", "a"]) == 1
    assert longest_run(["a"], ["x"]) == 0


def test_smallest_window_is_the_narrowest_stretch_holding_every_term():
    assert smallest_window({"a", "b"}, ["a", "x", "x", "b", "a"]) == 2
    assert smallest_window({"a", "b", "c"}, ["a", "b", "x", "c"]) == 4
    assert smallest_window({"a", "z"}, ["a", "b"]) is None


def test_run_and_window_read_the_same_from_a_passage_s_term_positions():
    passage = ["x", "a", "b", "x", "a", "b", "c", "x", "c"]
    positions = TermPositions.of(passage)
    assert positions.length == 9 and positions.positions["a"] == (1, 4)
    assert longest_run(["a", "b", "c"], positions) == longest_run(["a", "b", "c"], passage) == 3
    assert longest_run(["c", "a", "a"], positions) == 1  # a repeated query term does not chain with itself
    assert smallest_window({"a", "c"}, positions) == smallest_window({"a", "c"}, passage) == 3
    assert smallest_window({"b", "z"}, positions) is None


def test_bigrams_count_each_adjacent_pair_of_the_question_once_wherever_it_stands():
    profile = QueryProfile(("aid", "log", "aid", "log"), {"aid": 1.0, "log": 1.0}, (), frozenset(), frozenset())
    # pairs of the question: (aid, log) and (log, aid); only the first stands in the passage, twice
    f = passage_features(profile, Candidate("c-1", "c", "Aide au logement ; autre aide au logement.", ""))
    assert f["bigrams"] == 0.5


def test_a_passage_holding_the_whole_question():
    f = passage_features(PROFILE, FULL)
    assert f["coverage"] == 1.0
    assert f["coverage_terms"] == 1.0
    assert f["title_coverage"] == 0.0
    assert f["bigrams"] == pytest.approx(2 / 3)  # "aid log" and "etudi ren", not "log etudi"
    assert f["phrase"] == 0.5
    assert f["proximity"] == pytest.approx(4 / 5)
    assert f["glossary_coverage"] == 0.0
    assert f["numbers"] == 1.0
    assert f["names"] == 1.0
    assert f["length"] == pytest.approx(math.log(8))


def test_a_passage_holding_part_of_the_question_with_its_heading():
    f = passage_features(PROFILE, PARTIAL)
    assert f["coverage"] == pytest.approx(0.6)  # aid + log + etudi = 6 of 10
    assert f["coverage_terms"] == 0.75
    assert f["title_coverage"] == pytest.approx(0.3)
    assert f["bigrams"] == pytest.approx(1 / 3)
    assert f["proximity"] == 1.0  # log etudi aid side by side
    assert (f["numbers"], f["names"]) == (0.0, 0.0)


def test_a_question_without_numbers_or_names_leaves_them_unknown():
    profile = QueryProfile(("aid",), {"aid": 1.0}, (), frozenset(), frozenset())
    f = passage_features(profile, FULL)
    assert math.isnan(f["numbers"]) and math.isnan(f["names"])
    assert math.isnan(f["proximity"])  # one term matched: no window to measure
    assert math.isnan(f["glossary_coverage"])


def test_list_positions_scores_and_documents():
    first = Candidate("a-1", "a", FULL.text, "", keyword_score=10.0, keyword_rank=1, similarity=0.8, dense_rank=2)
    second = Candidate("b-1", "b", PARTIAL.text, PARTIAL.context, similarity=0.9, dense_rank=1)
    third = Candidate("a-2", "a", "Autre passage.", "", keyword_score=4.0, keyword_rank=2)
    rows = [dict(zip(FEATURE_NAMES, row, strict=True)) for row in candidate_rows(PROFILE, [first, second, third])]
    a, b, c = rows
    assert (a["keyword_score"], c["keyword_score"]) == (1.0, 0.0)
    assert math.isnan(b["keyword_score"]) and math.isnan(c["dense_similarity"])
    assert (a["keyword_rank"], b["keyword_rank"], c["keyword_rank"]) == (1.0, 0.0, 0.5)
    assert (a["dense_score"], b["dense_score"]) == (0.0, 1.0)
    assert (a["dense_rank"], b["dense_rank"], c["dense_rank"]) == (0.5, 1.0, 0.0)
    assert a["dense_gap"] == pytest.approx(0.1) and b["dense_gap"] == 0.0
    assert (a["fusion_score"], b["fusion_score"], c["fusion_score"]) == (1.0, 1.0, 0.0)
    assert (a["document_candidates"], b["document_candidates"], c["document_candidates"]) == (2.0, 1.0, 2.0)
    assert c["document_best"] == 1.0  # its document's best candidate
    assert math.isnan(a["best_sentence"])
