"""Run the citation checker over the labelled set: one outcome per case, and the confusion table.

``python -m evals --only checker`` calls ``evaluate``; the embedder is optional (lexical checker only without it).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from assistant.citations import check_generated
from assistant.claims import Similarity
from assistant.glossary import Glossary, load_glossary
from assistant.retrieval.french import analyze
from assistant.types import Chunk, Hit, Passage
from evals.checker.cases import CASES, CORPUS, GLOSSARY, Case, document_metadata, document_text, load_cases
from evals.checker.confusion import Outcome, markdown_table, tally, targets


def corpus_idf(corpus: Path = CORPUS) -> Callable[[str], float]:
    """BM25 idf over the paragraphs of the corpus's Markdown documents, as the keyword index computes it."""
    paragraphs = [
        block
        for path in sorted(corpus.glob("*.md"))
        if path.name != "README.md"
        for block in path.read_text(encoding="utf-8").split("\n\n")
        if block.strip()
    ]
    frequency = Counter(term for block in paragraphs for term in set(analyze(block)))
    n = len(paragraphs)

    @cache
    def idf(term: str) -> float:
        df = frequency.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    return idf


def case_passages(case: Case, corpus: Path = CORPUS) -> list[Passage]:
    """The case's passages as the pipeline numbers them, with their document's metadata."""
    passages = []
    for number, item in enumerate(case.passages, 1):
        start = document_text(item.doc, corpus).index(item.text)
        metadata = {**document_metadata(item.doc, corpus), "source": item.doc}
        chunk = Chunk(f"{item.doc}#{start}", item.doc, 0, item.text, start, start + len(item.text), None, (), metadata)
        passages.append(Passage(number, Hit(chunk, 1.0), item.text, start, start + len(item.text)))
    return passages


def attach(
    sentence: str,
    passages: Sequence[Passage],
    idf: Callable[[str], float],
    glossary: Glossary | None = None,
    similarity: Similarity | None = None,
) -> int | None:
    claims, _ = check_generated(sentence, passages, idf, glossary=glossary, similarity=similarity)
    attached = [c.passage for c in claims if c.passage is not None]
    return attached[0] if attached else None


def evaluate(cases: Sequence[Case] | None = None, similarity: Similarity | None = None) -> dict[str, Any]:
    """Confusion table by kind, the target figures, and the cases the checker got wrong."""
    cases = load_cases(CASES) if cases is None else cases
    idf = corpus_idf()
    glossary = load_glossary(GLOSSARY)
    outcomes = [
        Outcome(
            case.id, case.kind, case.expected, attach(case.sentence, case_passages(case), idf, glossary, similarity)
        )
        for case in cases
    ]
    table = tally(outcomes)
    wrong = [
        {"id": o.case_id, "kind": o.kind, "expected": o.expected, "attached": o.attached}
        for o in outcomes
        if o.attached != o.expected
    ]
    return {"cases": len(cases), "table": table, "targets": targets(table), "errors": wrong}


if __name__ == "__main__":
    result = evaluate()
    print("\n".join(markdown_table(result["table"])))
    print(result["targets"])
    by_id = {c.id: c for c in load_cases()}
    for error in result["errors"]:
        print(error["id"], error["kind"], error["expected"], error["attached"], by_id[error["id"]].sentence)
