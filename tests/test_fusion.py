from assistant.retrieval.fusion import fuse_ranked_lists


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
