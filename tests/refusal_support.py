"""Answerability on literal sentences, as the pipeline would assess them (shared by the pure refusal tests)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from assistant.generation.question import analyse_question
from assistant.generation.refusal import assess
from assistant.retrieval.french import analyze


def assess_sentences(
    question: str, documents: Sequence[Sequence[str]], known: Collection[str] = (), *, unknown: float = 0.0
):
    """:func:`assess` for ``question`` over ``documents`` (each a list of sentences); ``known`` words are in
    the corpus vocabulary (others count as unknown to it); ``unknown``: the question's share of words the
    corpus never uses."""
    analysis = analyse_question(question)
    units = [
        (s, frozenset(analyze(s)), frozenset(), d, False) for d, sentences in enumerate(documents) for s in sentences
    ]
    words = [frozenset().union(*(u[1] for u in units if u[3] == d)) for d in range(len(documents))]
    return assess(
        [(t, 1.0) for t in analysis.focus],
        units,
        words,
        detail=analysis.detail,
        known=lambda w: w in known,
        words_of_focus=[t.word for t in analysis.focus],
        min_coverage=0.3,
        unknown=unknown,
        anchors=analysis.anchors,
        head_forms=analysis.head,
        complement_forms=analysis.complement,
        question=question,
    )
