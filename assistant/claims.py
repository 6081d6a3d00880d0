"""Whether a passage supports a generated sentence (pure): every fact checked, the wording read loosely.

The attach rule, for a sentence and one passage:

1. every value of the sentence (amount, percentage, number, date, time — see ``assistant.values``) is found,
   equal, in one sentence of the passage *about the same thing*: the words beside the value in the generated
   sentence meet that passage sentence, and none of them sits, in the passage, beside another value instead
   (« 19 % de l'emploi salarié de l'agglomération » is refused when the passage gives 11 % for the agglomeration
   and 19 % for the quarters). A value is never rescued by a neighbouring sentence;
2. every proper name of the sentence (territory, organisation, partner, acronym; « région », « département »,
   « État » even in lower case) and every glossary term is in the sentences holding its values (else the
   supporting sentences), the sentence just before them (unless they are list items), or the passage's title,
   heading, territory or organisation; an acronym matches its expansion (« FSE » = « Fonds social européen »);
3. negations agree (``assistant.negation``): a word negated on one side (« ne … pas », « sans », « aucun »,
   « jamais », « non », « ni », « ignorer »…) is not affirmed on the other; a negative sentence needs a negative
   source; a word is not swapped for its opposite (« élevés » for « faibles », « public » for « privé »);
4. the wording is close enough: the rarity-weighted share of the sentence's words (names aside) found in the
   supporting sentences (the values' sentences plus at most one other sentence or condensed list of the passage;
   two sentences for a sentence without values, at a higher bar), glossary-expanded, with a few synonyms
   (``assistant.wording``), clears a bar, or a lower bar when an embedding similarity confirms it.

Nothing here reads a file or a model: the similarity function and the glossary are passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from assistant.glossary import Glossary
from assistant.negation import Polarity, polarities_agree, read_polarity
from assistant.retrieval.french import fold_accents
from assistant.sentences import split_sentences
from assistant.types import Passage, Span
from assistant.values import same_value
from assistant.wording import LIGHT, Token, clauses, contradicts, term_of, tokenize

Idf = Callable[[str], float]
# (sentence, candidate evidence texts) -> one similarity in [0, 1] per evidence text
Similarity = Callable[[str, Sequence[str]], Sequence[float]]

COVERAGE = 0.62  # wording bar without an embedding
COVERAGE_OF_TWO = 0.8  # bar for a sentence without values summarising two sentences of the passage
COVERAGE_WITH_SIMILARITY = 0.4  # lower wording bar when the embedding agrees
# e5-small scores negated or partner-swapped sentences as high as loose paraphrases (0.82-0.90 on the checker
# set, evals/checker/README.md): the embedding only confirms a near-identical meaning
SIMILARITY = 0.93
WINDOW = 4  # content words read on each side of a value
_WINDOW_END = {"et", "ou", "dont", "soit", "contre", "mais", "alors", "tandis"}  # a window reads one quantity
# funders a paraphrase may write in lower case, compared as names: « la région » is not « le département »
_INSTITUTIONS = {"region", "departement", "etat", "prefet", "prefecture"}


@dataclass(frozen=True)
class Reading:
    """A text read once: tokens, content terms, values, names and negations."""

    text: str
    tokens: tuple[Token, ...]
    terms: frozenset[str]
    names: frozenset[str]  # folded proper names and acronyms (not the first word)
    name_terms: frozenset[str]  # their analysed terms
    polarity: Polarity
    values: tuple[int, ...] = field(default=())  # token positions holding a value


@dataclass(frozen=True)
class Support:
    """The passage span supporting a sentence and how well its wording matches (0-1)."""

    passage: int
    span: Span
    score: float


@lru_cache(maxsize=4096)
def read(text: str) -> Reading:
    """Read ``text`` (a sentence or a passage sentence) for the attach rule."""
    tokens = tuple(tokenize(text))
    words = [i for i, t in enumerate(tokens) if t.value is None and t.text[0].isalpha()]
    institutions = [t for t in tokens if t.value is None and fold_accents(t.text) in _INSTITUTIONS]
    capitalised = [
        tokens[i]
        for i in words[1:]
        if tokens[i].text[0].isupper() and len(tokens[i].text) > 1 and tokens[i - 1].text not in ".!?"
    ]
    names = frozenset(fold_accents(t.text) for t in capitalised + institutions)
    return Reading(
        text=text,
        tokens=tokens,
        terms=frozenset(t.term for t in tokens if t.term and not t.term.isdigit() and t.term not in LIGHT),
        names=names,
        name_terms=frozenset(t.term for t in capitalised if t.term),
        polarity=read_polarity(clauses(tokens)),
        values=tuple(i for i, t in enumerate(tokens) if t.value is not None),
    )


def _window(
    reading: Reading,
    position: int,
    *,
    before: bool = True,
    after: bool = True,
    wide: bool = False,
    through_values: bool = False,
) -> set[str]:
    """Content terms beside the value at ``position``, up to WINDOW each side, stopping at a clause end, another
    value or a word opening another quantity (« et », « dont »…); ``wide`` reads on to the clause's end,
    ``through_values`` reads past other values."""
    found: set[str] = set()
    for step, wanted in ((-1, before), (1, after)):
        if not wanted:
            continue
        seen, i = 0, position + step
        while 0 <= i < len(reading.tokens) and seen < WINDOW:
            token = reading.tokens[i]
            if token.clause_end:
                break
            if token.value is not None and not (wide or through_values):
                break
            if not wide and fold_accents(token.text) in _WINDOW_END:
                break
            if token.term and token.term not in LIGHT:
                found.add(token.term)
                seen += 1
            i += step
    return found


def value_found(
    sentence: Reading,
    position: int,
    evidence: Reading,
    context_terms: frozenset[str] = frozenset(),
    evidence_terms: frozenset[str] | None = None,
) -> bool:
    """Whether the value at ``position`` of the sentence is stated, about the same thing, in ``evidence``.

    ``context_terms``: words of the passage's title and heading, which name what its sentences are about;
    ``evidence_terms``: the evidence's terms with the glossary's other spellings (default: its own terms).
    """
    value = sentence.tokens[position].value
    assert value is not None
    terms = evidence.terms if evidence_terms is None else evidence_terms
    context = _window(sentence, position, through_values=True) or _window(sentence, position, wide=True)
    following = _window(sentence, position, before=False)
    stated = [v for p in sentence.values if (v := sentence.tokens[p].value) is not None]
    for other_position in evidence.values:
        other = evidence.tokens[other_position].value
        if other is None or not same_value(value, other):
            continue
        if value.kind == "number" and other.kind == "amount" and following:
            continue  # « 12 véhicules » is not « 12 € »
        if context and not (context & terms or context <= terms | context_terms):
            continue
        beside = _window(evidence, other_position)
        # words that, in the source, go with a value the sentence does not state
        elsewhere = set().union(
            *(
                _window(evidence, p)
                for p in evidence.values
                if p != other_position and not any(same_value(s, evidence.tokens[p].value) for s in stated)
            )
        )
        if any(term in elsewhere and term not in beside for term in following & evidence.terms):
            continue
        return True
    return False


def _clause_mates(reading: Reading, position: int) -> list[int]:
    """Positions of the other values in the clause of the value at ``position``."""
    mates = []
    for step in (-1, 1):
        i = position + step
        while 0 <= i < len(reading.tokens) and not reading.tokens[i].clause_end:
            if reading.tokens[i].value is not None:
                mates.append(i)
            i += step
    return mates


def coverage(
    sentence: Reading, evidence_terms: frozenset[str] | set[str], idf: Idf, context_terms: frozenset[str] = frozenset()
) -> float:
    """Rarity-weighted share of what the sentence says (its names aside: they are checked apart) found in the
    evidence; a word found only in the passage's title or heading counts half."""
    said = {t for t in sentence.terms if t not in sentence.name_terms}
    total = sum(idf(t) for t in said)
    if not total:
        return 0.0
    found = sum(idf(t) for t in said & evidence_terms)
    return (found + 0.5 * sum(idf(t) for t in (said & context_terms) - evidence_terms)) / total


@lru_cache(maxsize=4096)
def _expanded(text: str, glossary: Glossary | None) -> frozenset[str]:
    """Terms of ``text`` with the glossary's other spellings of what it mentions (« FSE » brings « fonds social… »)."""
    full = glossary.expand_query(text) if glossary is not None else text
    return frozenset(t for t in (term_of(w) for w in re.findall(r"\w+|[^\w\s]", full)) if t)


def _names_in(text: str, glossary: Glossary | None) -> frozenset[str]:
    """Folded capitalised words of ``text`` and of the glossary's other spellings of what it mentions."""
    full = glossary.expand_query(text) if glossary is not None else text
    return frozenset(
        fold_accents(w) for w in re.findall(r"\w+", full) if w[0].isupper() or fold_accents(w) in _INSTITUTIONS
    )


def _context(passage: Passage) -> str:
    meta = passage.chunk.metadata
    fields = [str(meta.get(k, "")) for k in ("title", "territory", "organisation", "region")]
    heading = passage.text.split("\n", 1)[0] if passage.text.startswith("#") else ""
    return " ".join([*fields, *passage.chunk.heading_path, heading])


def _is_item(unit: Span) -> bool:
    return bool(re.match(r"^\s*([-•*]|\d+[.)])\s", unit.text))


def _lists(units: Sequence[Span]) -> list[list[int]]:
    """Runs of consecutive list items (lines opening on a dash or bullet), as unit positions."""
    runs: list[list[int]] = []
    for i, unit in enumerate(units):
        if _is_item(unit):
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
    return [run for run in runs if len(run) > 1]


def support_in_passage(
    sentence: str,
    passage: Passage,
    idf: Idf,
    *,
    glossary: Glossary | None = None,
    similarity: Similarity | None = None,
) -> Support | None:
    """The span of ``passage`` supporting ``sentence`` under the attach rule (module docstring), or None."""
    claim = read(sentence)
    units = split_sentences(passage.text, passage.start)
    if not units or not claim.terms:
        return None
    readings = [read(u.text) for u in units]
    expanded = [_expanded(u.text, glossary) for u in units]
    context_terms = _expanded(_context(passage), glossary)
    chosen: set[int] = set()  # the values' sentences, then the wording's
    candidates = {
        position: [i for i, r in enumerate(readings) if value_found(claim, position, r, context_terms, expanded[i])]
        for position in claim.values
    }
    for position, bound in candidates.items():
        # a value with no word of its own (« passé de 23 à 9 ») is read with the values of its clause
        mates = [p for p in _clause_mates(claim, position) if p in candidates] if not _window(claim, position) else []
        if mates:
            bound = [i for i in bound if any(i in candidates[p] for p in mates)]
        if not bound:
            return None
        chosen.add(max(bound, key=lambda i: coverage(claim, expanded[i], idf, context_terms)))
    bound_units = set(chosen)
    # a list read whole only for a sentence that condenses it (words from three items or more)
    lists = [run for run in _lists(units) if sum(1 for i in run if claim.terms & expanded[i]) >= 3]
    groups = [[i] for i in range(len(units)) if i not in chosen] + lists
    # one more sentence (or list) of the passage may bring the words around the values; a sentence without
    # values may summarise two sentences of the passage
    score = coverage(claim, _union(expanded, chosen), idf, context_terms)
    bar = COVERAGE
    for round_ in range(1 if chosen else 2):
        best_group: list[int] = []
        for group in groups:
            if (widened := coverage(claim, _union(expanded, chosen | set(group)), idf, context_terms)) > score:
                score, best_group = widened, group
        if round_ == 1 and best_group:
            bar = COVERAGE_OF_TWO  # two sentences read together must say nearly all of it
        chosen |= set(best_group)
    support = sorted(chosen)
    if not support:
        return None
    evidence = read("\n".join(units[i].text for i in support))
    if not polarities_agree(claim.polarity, claim.terms, evidence.polarity, evidence.terms):
        return None
    if contradicts(_all_terms(claim), _all_terms(evidence)):
        return None
    # names (and glossary terms) must be where the facts are: the values' sentences, else the support
    named = sorted(bound_units) or support
    nearby = {j for i in named for j in (i - 1, i) if j >= 0 and (j == i or not _is_item(units[i]))}
    known = " ".join(units[j].text for j in sorted(nearby)) + " " + _context(passage)
    if not claim.names <= _names_in(known, glossary):
        return None
    if glossary is not None and not set(glossary.find_terms(sentence)) <= set(glossary.find_terms(known)):
        return None
    if score < bar:
        if similarity is None or score < COVERAGE_WITH_SIMILARITY:
            return None
        if similarity(sentence, [evidence.text])[0] < SIMILARITY:
            return None
    start, end = units[support[0]].start, units[support[-1]].end
    span = Span(start, end, passage.text[start - passage.start : end - passage.start])
    return Support(passage.number, span, score)


def _all_terms(reading: Reading) -> frozenset[str]:
    return frozenset(t.term for t in reading.tokens if t.term)


def _union(sets: Sequence[frozenset[str]], positions: Iterable[int]) -> set[str]:
    found: set[str] = set()
    for i in positions:
        found |= sets[i]
    return found


def embedding_similarity(embed: Callable[[Sequence[str]], Any]) -> Similarity:
    """A Similarity from an embedder's ``embed_passages`` (L2-normalised rows): cosine of sentence and evidence."""

    def similarity(sentence: str, evidence: Sequence[str]) -> list[float]:
        vectors = embed([sentence, *evidence])
        return [float(vectors[0] @ vectors[i]) for i in range(1, len(evidence) + 1)]

    return similarity


def best_passage_support(
    sentence: str,
    passages: Sequence[Passage],
    idf: Idf,
    *,
    glossary: Glossary | None = None,
    similarity: Similarity | None = None,
    only: int | None = None,
) -> Support | None:
    """The best-scoring passage support of ``sentence`` (optionally only in passage ``only``), or None."""
    found = [
        support
        for passage in passages
        if only is None or passage.number == only
        if (support := support_in_passage(sentence, passage, idf, glossary=glossary, similarity=similarity))
    ]
    return max(found, key=lambda s: s.score, default=None)
