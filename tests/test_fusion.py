import pytest

from assistant.retrieval.fusion import fuse_ranked_lists, fuse_scored_lists


def test_rrf_scores_and_order_are_hand_computed():
    fused = fuse_ranked_lists({"keyword": ["a", "b", "c"], "dense": ["b", "d"]}, k=60)
    ids = [item for item, _, _ in fused]
    assert ids == ["b", "a", "d", "c"]
    scores = dict((item, score) for item, score, _ in fused)
    assert scores["b"] == 1 / 62 + 1 / 61
    assert scores["a"] == 1 / 61
    assert fused[0][2] == {"keyword": 2, "dense": 1}


def test_weights_can_favour_one_ranking():
    fused = fuse_ranked_lists({"keyword": ["a"], "dense": ["b"]}, weights={"keyword": 0.5, "dense": 1.0}, k=60)
    assert [item for item, _, _ in fused] == ["b", "a"]
    assert fused[1][1] == 0.5 / 61


def test_ties_are_deterministic():
    fused = fuse_ranked_lists({"x": ["q", "p"], "y": ["p", "q"]}, k=60)
    assert [item for item, _, _ in fused] == ["p", "q"]


def test_empty_rankings():
    assert fuse_ranked_lists({"keyword": [], "dense": []}) == []


def test_score_fusion_normalises_each_list_then_adds_weights():
    fused = fuse_scored_lists(
        {"keyword": [("a", 12.0), ("b", 8.0), ("c", 2.0)], "dense": [("b", 0.90), ("d", 0.85), ("a", 0.80)]},
        weights={"keyword": 1.0, "dense": 0.5},
    )
    scores = {item: score for item, score, _ in fused}
    # keyword: a 1, b 0.6, c 0; dense: b 1, d 0.5, a 0
    assert scores == pytest.approx({"a": 1.0, "b": 0.6 + 0.5, "c": 0.0, "d": 0.25})
    assert [item for item, _, _ in fused] == ["b", "a", "d", "c"]
    assert fused[0][2] == {"keyword": 2, "dense": 1}


def test_score_fusion_keeps_the_margin_that_ranks_lose():
    # dense barely prefers y; keyword strongly prefers x: ranks tie, scores do not
    lists = {"keyword": [("x", 20.0), ("y", 2.0), ("z", 1.0)], "dense": [("y", 0.83), ("x", 0.829), ("z", 0.70)]}
    assert fuse_scored_lists(lists)[0][0] == "x"
    assert (
        fuse_ranked_lists({name: [i for i, _ in pairs] for name, pairs in lists.items()})[0][1]
        == (fuse_ranked_lists({name: [i for i, _ in pairs] for name, pairs in lists.items()})[1][1])
    )


def test_score_fusion_of_a_lone_or_flat_list_counts_one():
    assert fuse_scored_lists({"keyword": [("a", 3.0)], "dense": []}) == [("a", 1.0, {"keyword": 1})]
    assert [s for _, s, _ in fuse_scored_lists({"dense": [("a", 0.5), ("b", 0.5)]})] == [1.0, 1.0]
    assert fuse_scored_lists({"keyword": [], "dense": []}) == []
