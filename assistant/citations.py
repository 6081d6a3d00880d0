"""Citations (pure): which passage supports a sentence, and the numbered sources of an answer.

A generated sentence is attached to a passage only under the attach rule of ``assistant.claims``
(every value and name found, negations agreeing, wording close enough); the application attaches
and checks citations itself because models do not write ``[n]`` reliably, nor always truthfully.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.claims import Similarity, best_passage_support
from assistant.glossary import Glossary
from assistant.retrieval.french import analyze
from assistant.sentences import split_sentences
from assistant.types import AnswerSentence, Citation, Passage, Span

Idf = Callable[[str], float]
MARKER = re.compile(r"\s*\[(\d+)\]")
_NUMBER = re.compile(r"\d+(?:[ ,.]\d+)*")


@dataclass(frozen=True)
class Claim:
    """A sentence of an answer and the passage span that supports it (None: unsupported)."""

    text: str
    passage: int | None = None
    span: Span | None = None


def _numbers(text: str) -> set[str]:
    return {re.sub(r"[ ,.]", "", n) for n in _NUMBER.findall(text)}


def support_score(sentence: str, evidence: str, idf: Idf) -> float:
    """Share of the sentence's content (idf-weighted) found in ``evidence``; 0 if a number is missing."""
    terms = set(analyze(sentence))
    if not terms:
        return 0.0
    found = set(analyze(evidence))
    total = sum(idf(t) for t in terms)
    score = sum(idf(t) for t in terms & found) / total if total else 0.0
    if not _numbers(sentence) <= _numbers(evidence):
        return 0.0
    return score


def best_support(
    sentence: str,
    passages: Sequence[Passage],
    idf: Idf,
    only: int | None = None,
    *,
    glossary: Glossary | None = None,
    similarity: Similarity | None = None,
) -> Claim | None:
    """The claim of ``sentence`` attached to the passage span that supports it (optionally only passage ``only``).

    The attach rule is ``assistant.claims``: every value and name found, negations agreeing, wording close enough.
    """
    support = best_passage_support(sentence, passages, idf, glossary=glossary, similarity=similarity, only=only)
    return Claim(sentence, support.passage, support.span) if support is not None else None


def check_generated(
    text: str,
    passages: Sequence[Passage],
    idf: Idf,
    *,
    glossary: Glossary | None = None,
    similarity: Similarity | None = None,
) -> tuple[list[Claim], int]:
    """Claims of a generated answer with verified sources, and the count of model markers dropped.

    A model-written ``[n]`` is kept only if passage n supports the sentence; otherwise the
    best-supporting passage is attached; a sentence nothing supports keeps no source.
    """
    claims: list[Claim] = []
    removed = 0
    numbers = {p.number for p in passages}
    options = {"glossary": glossary, "similarity": similarity}
    for span in split_sentences(text):
        written = [int(n) for n in MARKER.findall(span.text)]
        sentence = MARKER.sub("", span.text).strip()
        if not sentence:
            continue
        claim = None
        for n in written:
            if n in numbers and (claim := best_support(sentence, passages, idf, only=n, **options)) is not None:
                break
        removed += sum(1 for n in written if claim is None or n != claim.passage)
        claims.append(claim or best_support(sentence, passages, idf, **options) or Claim(sentence))
    return claims, removed


def is_meta_sentence(sentence: str) -> bool:
    """Sentences about the answer itself ("Je ne trouve pas…") need no source."""
    return bool(
        re.match(
            r"^(je ne trouve|les (documents|extraits|sources) (fournis )?ne|aucun (document|extrait))", sentence, re.I
        )
    )


UNSUPPORTED_MARK = "(non étayé par les sources)"


def render(
    claims: Sequence[Claim], passages: Sequence[Passage], *, hide_unsupported: bool = False
) -> tuple[str, tuple[Citation, ...], int]:
    """Answer text with ``[n]`` renumbered by first citation, its citations, and the unsupported count.

    Each citation quotes the exact document slice covering every span cited from that passage. A sentence no
    passage supports is followed by UNSUPPORTED_MARK, or left out with ``hide_unsupported`` (still counted).
    """
    by_number = {p.number: p for p in passages}
    renumber, spans = _numbering(claims)
    parts: list[str] = []
    for sentence in sentence_statuses(claims, hide_unsupported=hide_unsupported):
        if sentence.status == "cited":
            parts.append(f"{sentence.text} [{sentence.citation}]")
        elif sentence.status == "unsupported":
            if sentence.shown:
                parts.append(f"{sentence.text} {UNSUPPORTED_MARK}")
        else:
            parts.append(sentence.text)
    unsupported = sum(1 for claim in claims if claim.passage is None and not is_meta_sentence(claim.text))
    citations = tuple(_citation(new, by_number[old], spans[old]) for old, new in renumber.items())
    return _join_claims(parts), citations, unsupported


def sentence_statuses(claims: Sequence[Claim], *, hide_unsupported: bool = False) -> tuple[AnswerSentence, ...]:
    """Each claim as an answer sentence: cited (with its renumbered ``[n]``), unsupported or meta."""
    renumber, _ = _numbering(claims)
    sentences = []
    for claim in claims:
        if claim.passage is not None:
            sentences.append(AnswerSentence(claim.text, "cited", renumber[claim.passage]))
        elif is_meta_sentence(claim.text):
            sentences.append(AnswerSentence(claim.text, "meta"))
        else:
            sentences.append(AnswerSentence(claim.text, "unsupported", shown=not hide_unsupported))
    return tuple(sentences)


def _numbering(claims: Sequence[Claim]) -> tuple[dict[int, int], dict[int, list[Span]]]:
    """Passage number -> [n] in order of first citation, and the spans cited from each passage."""
    renumber: dict[int, int] = {}
    spans: dict[int, list[Span]] = {}
    for claim in claims:
        if claim.passage is not None and claim.span is not None:
            renumber.setdefault(claim.passage, len(renumber) + 1)
            spans.setdefault(claim.passage, []).append(claim.span)
    return renumber, spans


def _join_claims(parts: list[str]) -> str:
    return " ".join(parts)


def _citation(number: int, passage: Passage, spans: list[Span]) -> Citation:
    start = min(s.start for s in spans)
    end = max(s.end for s in spans)
    chunk = passage.chunk
    meta = chunk.metadata
    return Citation(
        number=number,
        chunk_id=chunk.chunk_id,
        doc_id=chunk.doc_id,
        title=str(meta.get("title", "")),
        page=chunk.page,
        source=str(meta.get("source", "")),
        url=meta.get("url"),
        quote=passage.text[start - passage.start : end - passage.start],
        start=start,
        end=end,
        organisation=meta.get("organisation"),
        date=meta.get("date"),
    )
