"""Evaluation metrics on literal rankings and answers, against values computed by hand."""

from __future__ import annotations

import math

import pytest

from evals.gate import regressions
from evals.metrics import (
    AnswerOutcome,
    citation_resolves,
    document_ranking,
    latency_summary,
    ndcg_at,
    percentile,
    recall_at,
    recall_curve,
    reciprocal_rank,
    summarize,
    summarize_answers,
)
from evals.report import fmt, rounded
from evals.text import contains_fact


def test_documents_are_ranked_by_their_best_chunk():
    assert document_ranking(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_recall_reciprocal_rank_and_ndcg_by_hand():
    ranking = ["x", "a", "y", "b"]
    assert recall_at(ranking, {"a"}, 1) == 0.0
    assert recall_at(ranking, {"a"}, 2) == 1.0
    assert reciprocal_rank(ranking, {"b"}) == 0.25
    assert reciprocal_rank(ranking, {"b"}, k=3) == 0.0
    assert reciprocal_rank(ranking, {"z"}) == 0.0
    # DCG = 1/log2(3) + 1/log2(5) = 0.63093 + 0.43068; ideal = 1 + 1/log2(3) = 1.63093
    assert ndcg_at(ranking, {"a", "b"}) == pytest.approx(1.06161 / 1.63093, abs=1e-5)
    assert ndcg_at(ranking, {"x"}) == 1.0
    assert ndcg_at(ranking, set()) == 0.0


def test_summary_and_recall_curve_over_two_questions():
    rankings = [["a", "b"], ["x", "y", "z", "w", "v", "b"]]
    relevants = [{"a"}, {"b"}]
    summary = summarize(rankings, relevants)
    assert summary["recall@1"] == 0.5
    assert summary["recall@5"] == 0.5
    assert summary["mrr@10"] == pytest.approx((1 + 1 / 6) / 2)
    assert summary["ndcg@10"] == pytest.approx((1 + 1 / math.log2(7)) / 2)  # 0.678104
    assert summary["questions"] == 2
    assert recall_curve(rankings, relevants, [1, 5, 6, 10]) == {1: 0.5, 5: 0.5, 6: 1.0, 10: 1.0}
    assert summarize([], [])["recall@1"] == 0.0


def test_percentile_interpolates_between_order_statistics():
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) == 0.0


def test_latency_summary_reports_milliseconds_from_seconds():
    summary = latency_summary([0.01, 0.03], [0.2])
    assert summary == pytest.approx(
        {"retrieval_ms_p50": 20.0, "retrieval_ms_p95": 29.0, "answer_ms_p50": 200.0, "answer_ms_p95": 200.0}
    )


def test_a_citation_resolves_only_to_a_shown_passage_containing_its_quote():
    shown = {"doc-1-0003": "Le comité se réunit tous les deux mois. Il est coanimé."}
    assert citation_resolves("doc-1-0003", "tous les deux mois", shown)
    assert not citation_resolves("doc-1-0003", "tous les trois mois", shown)
    assert not citation_resolves("doc-1-0004", "tous les deux mois", shown)
    assert not citation_resolves("doc-1-0003", "", shown)


def test_facts_match_ignoring_case_accents_and_apostrophes():
    answer = "L’État finance l'opération à hauteur de 50 000 euros."
    assert contains_fact(answer, "l'etat finance")
    assert contains_fact(answer, "L'OPÉRATION")
    assert contains_fact(answer, "50 000 euros")
    assert not contains_fact(answer, "la région")


def test_answer_summary_by_hand():
    outcomes = [
        # answered, 2 citations of which 1 resolves, 1 of 2 facts
        AnswerOutcome(False, False, citations=2, citations_resolved=1, facts_found=1, facts_total=2, length_chars=100),
        # answered without citation, 2 of 2 facts
        AnswerOutcome(False, False, citations=0, citations_resolved=0, facts_found=2, facts_total=2, length_chars=300),
        # wrongly refused: finds no fact
        AnswerOutcome(False, True, citations=0, citations_resolved=0, facts_found=0, facts_total=1, length_chars=50),
        # rightly refused, no facts expected
        AnswerOutcome(True, True, citations=0, citations_resolved=0, facts_found=0, facts_total=0, length_chars=50),
    ]
    summary = summarize_answers(outcomes)
    assert summary["questions"] == 4 and summary["answered"] == 2
    assert summary["citation_validity"] == 0.5
    assert summary["cited_answers"] == 0.5
    assert summary["key_fact_recall"] == 3 / 5
    assert summary["refusal_accuracy"] == 0.75
    assert summary["refused_when_unanswerable"] == 1.0
    assert summary["answered_when_answerable"] == pytest.approx(2 / 3)
    assert summary["length_chars"] == 200.0
    empty = summarize_answers([])
    assert empty["key_fact_recall"] is None and empty["refused_when_unanswerable"] is None


def test_the_gate_flags_only_drops_beyond_the_tolerance():
    baseline = {"retrieval": {"spf-fast": {"hybrid": {"recall@1": 0.9, "recall@5": 1.0, "mrr@10": 0.95}}}}
    current = {"retrieval": {"spf-fast": {"hybrid": {"recall@1": 0.88, "recall@5": 0.9, "mrr@10": 0.99}}}}
    found = regressions(current, baseline, tolerance=0.03)
    assert len(found) == 1 and found[0].startswith("spf-fast / hybrid : recall@5 0.900 < 1.000")
    assert regressions(current, baseline, tolerance=0.2) == []
    assert regressions({"retrieval": {}}, baseline, tolerance=0.0) == []


def test_figures_are_rounded_by_name_and_printed_as_stored():
    figures = rounded({"recall@1": 0.123456, "latency_ms_p50": 12.345, "index_mb": 3.14159, "curve": {"1": 0.5556}})
    assert figures == {"recall@1": 0.123, "latency_ms_p50": 12.3, "index_mb": 3.1, "curve": {"1": 0.556}}
    assert fmt(figures["recall@1"], "recall@1") == "0.123"
    assert fmt(1.0, "recall@5") == "1.000" and fmt(None, "recall@5") == "—" and fmt(42, "chunks") == "42"


def test_the_scale_out_table_has_one_column_per_size_and_a_dash_for_a_missing_figure():
    from evals.report import scale_out_lines

    points = [
        {"target": 100000, "passages": 100011, "retrieval_ms_p95": 128.83, "keyword_rebuild_s": 181.6},
        {"target": 500000, "passages": 500023, "retrieval_ms_p95": 140.2},
    ]
    lines = scale_out_lines({"points": points, "questions": 60})
    header = next(line for line in lines if line.startswith("| mesure"))
    assert header == "| mesure | 100000 | 500000 |"
    assert "| recherche p95 (ms), idem | 128.8 | 140.2 |" in lines
    assert "| index par mots-clés reconstruit en entier (s) | 181.600 | — |" in lines
