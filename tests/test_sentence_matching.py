"""Sentence windows for the sentence-matching measure: short sentences join the next one."""

from __future__ import annotations

from evals.sentence_matching import sentence_windows


def test_short_sentences_join_the_next_and_a_short_tail_joins_the_last_window():
    text = "Oui. Le fonds finance les projets des habitants du quartier. Il est géré par le conseil citoyen. Fin."
    assert sentence_windows(text, min_chars=30) == [
        "Oui. Le fonds finance les projets des habitants du quartier.",
        "Il est géré par le conseil citoyen. Fin.",
    ]


def test_a_text_shorter_than_a_window_is_one_window():
    assert sentence_windows("Court.", min_chars=30) == ["Court."]
