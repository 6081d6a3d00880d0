"""The checker's labelled set and its confusion table (pure tally, literal outcomes)."""

from __future__ import annotations

from collections import Counter

from evals.checker.cases import CASES, FABRICATIONS, build_cases, load_cases
from evals.checker.confusion import Outcome, markdown_table, tally, targets


def test_the_set_is_built_from_its_source_and_every_passage_is_an_exact_slice():
    cases = load_cases(CASES)  # raises if a passage is no longer in its document
    assert [(c.id, c.sentence, c.expected) for c in cases] == [(c.id, c.sentence, c.expected) for c in build_cases()]
    kinds = Counter(c.kind for c in cases)
    assert len(cases) >= 300
    assert set(FABRICATIONS) <= set(kinds)
    assert {"reorder", "synonym", "number-format", "date-format", "abbreviation", "summary", "list"} <= set(kinds)
    assert all((c.expected is None) == c.fabrication for c in cases)


def test_tally_and_targets():
    outcomes = [
        Outcome("a", "synonym", 1, 1),
        Outcome("b", "synonym", 2, None),
        Outcome("c", "synonym", 2, 1),
        Outcome("d", "number", None, None),
        Outcome("e", "date", None, 3),
    ]
    table = tally(outcomes)
    assert table["synonym"] == {"cases": 3, "attached_right": 1, "attached_wrong": 1, "unsupported": 1}
    assert table["date"] == {"cases": 1, "attached_right": 0, "attached_wrong": 1, "unsupported": 0}
    assert targets(table) == {
        "faithful_attached_right": 1 / 3,
        "fabrications_unsupported": 0.5,
        "hard_fact_fabrications_attached": 1,
    }
    lines = markdown_table(table)
    assert lines[2] == "| fidèle | synonym | 3 | 1 | 1 | 1 |"
    assert "| quasi-fabrication | **total** | 2 | 0 | 1 | 1 |" in lines
