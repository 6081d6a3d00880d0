"""Whether a passage supports a generated sentence (pure): every fact checked, the wording read loosely.

The attach rule, for a sentence and one passage:

1. every value of the sentence (amount, percentage, number, date, time — see ``assistant.values``) is found,
   equal, in one sentence of the passage *about the same thing*: the words beside the value in the generated
   sentence meet that passage sentence, and none of them sits, in the passage, beside another value instead
   (« 19 % de l'emploi salarié de l'agglomération » is refused when the passage gives 11 % for the agglomeration
   and 19 % for the quarters). A value is never rescued by a neighbouring sentence;
2. every proper name of the sentence (territory, organisation, partner, acronym) is in the supporting sentences,
   the sentence just before or after them, or the passage's title, heading, territory or organisation;
   a glossary acronym matches its expansion (« FSE » = « Fonds social européen »);
3. negations agree: a word negated on one side (« ne … pas », « sans », « aucun », « jamais », « non », « ni »,
   « ignorer »…) is not affirmed on the other, and a negative sentence needs a negative source;
4. the wording is close enough: the rarity-weighted share of the sentence's words found in the supporting
   sentences (values' sentences plus at most one other sentence or list of the passage, glossary-expanded,
   with a few common synonyms) clears a bar, or a lower bar when an embedding similarity confirms it.

Nothing here reads a file or a model: the similarity function and the glossary are passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from assistant.generation.sentences import Span, split_sentences
from assistant.glossary import Glossary
from assistant.retrieval.french import analyze, fold_accents
from assistant.types import Passage
from assistant.values import Value, extract_values, same_value

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
_TOKEN = re.compile(r"\w+|[^\w\s]")
_CLAUSE_END = set(',;:.!?()[]«»"—–') | {"mais"}
_WINDOW_END = {"et", "ou", "dont", "soit", "contre", "mais", "alors", "tandis"}  # a window reads one quantity
_STRONG = {"ne", "n", "pas", "jamais", "rien", "aucun", "aucune", "ni", "guere", "nullement", "faute"}
_CLOSERS = {"pas", "jamais", "rien", "aucun", "aucune", "ni", "guere", "plus", "nullement"}
_LOCAL = {"sans", "non", "rarement", "mal", "peu"}
# prepositions the stopword list keeps (compared as whole words: « entre » must not hide « entreprise »)
_FUNCTION_WORDS = {
    "entre", "depuis", "avant", "apres", "pendant", "parmi", "vers", "selon", "environ", "chaque",
    "si", "bien", "donc", "car", "puisque", "afin", "cependant", "toutefois", "neanmoins", "pourtant",
}  # fmt: skip
# funders a paraphrase may write in lower case, compared as names: « la région » is not « le département »
_INSTITUTIONS = {"region", "departement", "etat", "prefet", "prefecture"}
_LEXICAL_NEGATIVE = re.compile(r"^(ignor|mecon|inconn|inutil|impossib)")
# words a faithful paraphrase swaps freely; each group reads as its first word
_SYNONYMS = (
    ("recruter", "embaucher", "embauche", "recrutement", "recrutés", "embauchés"),
    ("habiter", "vivre", "habitent", "habitaient"),
    ("réaliser", "conduire", "mener", "effectuer"),
    ("apporter", "verser", "financer", "contribuer", "cofinancer", "financement", "contribution"),
    ("élever", "atteindre", "monter", "représenter", "totaliser"),
    ("réunir", "rassembler", "regrouper", "associer"),
    ("augmenter", "progresser", "croître", "hausse", "progression", "augmentation"),
    ("diminuer", "baisser", "tomber", "reculer", "baisse"),
    ("créer", "fonder", "création"),
    ("ouvrir", "ouverture", "ouvert"),
    ("obtenir", "décrocher", "obtention"),
    ("entreprise", "société"),
    ("estimer", "évaluer", "juger", "considérer"),
    ("budget", "coût", "coûter", "coûté", "dépense"),
)
# verbs and fillers a paraphrase adds or drops without changing the fact (« s'élève à », « à hauteur de »)
_LIGHT = frozenset(
    analyze(word)[0][:5]
    for word in (
        "élever atteindre représenter compter disposer hauteur environ selon figurer devoir pouvoir total montant "
        "ensemble également notamment aujourd'hui rapporter dérouler opération projet dispositif démarche"
    ).split()
)


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    term: str | None = None  # analysed content word, None for stopwords and punctuation
    value: Value | None = None

    @property
    def clause_end(self) -> bool:
        return self.value is None and fold_accents(self.text) in _CLAUSE_END


@dataclass(frozen=True)
class Reading:
    """A text read once: tokens, content terms, values, names and negations."""

    text: str
    tokens: tuple[Token, ...]
    terms: frozenset[str]
    names: frozenset[str]  # folded proper names and acronyms (not the first word)
    name_terms: frozenset[str]  # their analysed terms
    negated: frozenset[str]  # terms right after a negation
    negative_clause_terms: frozenset[str]  # terms of a clause holding a strong negation, or after « sans »…
    affirmed_clauses: tuple[frozenset[str], ...]  # terms of each clause (or clause part) said without negation
    strong_negation: bool
    any_negation: bool
    values: tuple[int, ...] = field(default=())  # token positions holding a value


@dataclass(frozen=True)
class Support:
    """The passage span supporting a sentence and how well its wording matches (0-1)."""

    passage: int
    span: Span
    score: float


@lru_cache(maxsize=65536)
def term_of(word: str) -> str | None:
    """The compared form of one word: its stem cut to five letters (the French stemmer leaves many verb
    forms apart: « obtenus » / « obtenir », « résident » / « résidaient »), a synonym read as its group's
    first word; None for a stopword or a negation word (negations are compared apart)."""
    folded = fold_accents(word)
    if folded in _STRONG or folded in _LOCAL or folded in _FUNCTION_WORDS:
        return None
    terms = analyze(word)
    if not terms:
        return None
    term = terms[0][:5]
    return _synonym_table().get(term, term)


@lru_cache(maxsize=1)
def _synonym_table() -> dict[str, str]:
    table = {}
    for group in _SYNONYMS:
        head = analyze(group[0])[0][:5]
        for word in group:
            for term in analyze(word):
                table[term[:5]] = head
    return table


def tokenize(text: str) -> list[Token]:
    """Words, punctuation and values of ``text`` in order; a value is one token however it is written."""
    tokens: list[Token] = []
    position = 0
    for value in extract_values(text):
        tokens += _words(text, position, value.start)
        tokens.append(Token(text[value.start : value.end], value.start, value=value))
        position = value.end
    tokens += _words(text, position, len(text))
    return tokens


def _words(text: str, start: int, end: int) -> list[Token]:
    return [
        Token(m.group(0), start + m.start(), term_of(m.group(0)) if m.group(0)[0].isalnum() else None)
        for m in _TOKEN.finditer(text[start:end])
    ]


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
    negated, negative_terms, affirmed, strong, any_negation = _negations(tokens)
    return Reading(
        text=text,
        tokens=tokens,
        terms=frozenset(t.term for t in tokens if t.term and not t.term.isdigit() and t.term not in _LIGHT),
        names=names,
        name_terms=frozenset(t.term for t in capitalised if t.term),
        negated=negated,
        negative_clause_terms=negative_terms,
        affirmed_clauses=affirmed,
        strong_negation=strong,
        any_negation=any_negation,
        values=tuple(i for i, t in enumerate(tokens) if t.value is not None),
    )


def _clauses(tokens: Sequence[Token]) -> list[list[Token]]:
    clauses: list[list[Token]] = [[]]
    for token in tokens:
        if token.clause_end:
            clauses.append([])
        else:
            clauses[-1].append(token)
    return [c for c in clauses if c]


def _negations(
    tokens: Sequence[Token],
) -> tuple[frozenset[str], frozenset[str], tuple[frozenset[str], ...], bool, bool]:
    """(negated terms, terms said negatively, clauses said affirmatively, any strong negation, any negation at all).

    « ne … que » restricts and does not negate; a negated term is the first content word after a negation
    word (« sans permis », « ne concurrencer aucune entreprise », « n'est pas … »).
    """
    negated: set[str] = set()
    clause_terms: set[str] = set()
    affirmed: list[frozenset[str]] = []
    strong = any_negation = False
    for clause in _clauses(tokens):
        first_negation = len(clause)
        folded = [fold_accents(t.text) for t in clause]
        restrictive = ("ne" in folded or "n" in folded) and ("que" in folded or "qu" in folded)
        restrictive = restrictive and not (set(folded) & (_CLOSERS - {"plus"}))
        has_ne = ("ne" in folded or "n" in folded) and not restrictive
        clause_strong = False
        for i, word in enumerate(folded):
            lexical = clause[i].term is not None and _LEXICAL_NEGATIVE.match(word)
            if (
                (word in _STRONG and not (word in ("ne", "n") and restrictive))
                or lexical
                or (word == "plus" and has_ne)
            ):
                clause_strong = True
            elif word not in _LOCAL:
                continue
            any_negation = True
            first_negation = min(first_negation, i)
            following = next((t.term for t in clause[i + 1 :] if t.term), None)
            if following:
                negated.add(following)
            # what follows a negation in its clause is said negatively (« sans concurrencer les entreprises »)
            clause_terms.update(t.term for t in clause[i + 1 :] if t.term)
        if clause_strong:
            strong = True
            clause_terms.update(t.term for t in clause if t.term)
        else:
            affirmed.append(frozenset(t.term for t in clause[:first_negation] if t.term))
    return frozenset(negated), frozenset(clause_terms), tuple(affirmed), strong, any_negation


def negations_agree(sentence: Reading, evidence: Reading) -> bool:
    """No word negated on one side and affirmed on the other; a negative sentence needs a negative source."""
    if sentence.strong_negation and not evidence.strong_negation:
        return False
    for this, other in ((sentence, evidence), (evidence, sentence)):
        for term in this.negated & other.terms:
            if term in other.negated or term in other.negative_clause_terms:
                continue
            # also said affirmatively, about the same thing (« un emploi durable … 41 % sans emploi »)
            if any(term in clause and (clause - {term}) & other.terms for clause in this.affirmed_clauses):
                continue
            return False
    return True


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
            if token.term and token.term not in _LIGHT:
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
    return frozenset(t for t in (term_of(w) for w in _TOKEN.findall(full)) if t)


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
    if not negations_agree(claim, evidence):
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
