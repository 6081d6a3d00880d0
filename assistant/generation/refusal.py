"""When to say "Je ne trouve pas…" (pure): whether the retrieved material answers the question.

``assess`` decides before anything is composed, calibrated on the unanswerable questions of the domain and
seed dev sets: how much of the question's focus the best unit covers, whether the asked detail (an amount, a
date, a count, a name in the role asked) occurs in a unit about the question, whether the places, years and
names the question gives are in the material, and how much of the question is made of words the corpus never
uses ("le prix d'une baguette de pain à Paris": a passage about prices covers "prix", nothing else exists).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.generation.question import FocusTerm, covered, proper_names
from assistant.retrieval.french import analyze, fold_accents

_AMOUNT = re.compile(
    r"\d[\d  .,]*\s*(€|euros?|EUR\b|k€|M€|millions? d['’]euros)|\d+\s*(000|millions?)\s*(€|euros?)", re.I
)
_DATE = re.compile(
    r"\b(1[89]|20)\d{2}\b|\b\d{1,2}(er)? (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)\b",
    re.I,
)
# a count is a number that is not a year: « 463 personnes », « 1 140 », not « en 2021 »
_COUNT = re.compile(
    r"(?<![\d/])(?!(?:19|20)\d\d\b)\d+(?:[  ]\d{3})*(?:,\d+)?\b|\b(deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|trente|cent)\b",
    re.I,
)
_FUNDING_TEXT = re.compile(r"financ|subvention|cofinanc|crédits|\d\s*(€|euros)|mécénat|fonds (social|européen)", re.I)
_RATE = re.compile(r"\d\s*%|\bpour ?cent\b|\b(moitié|tiers|quart)\b", re.I)


def contains_kind(text: str, kind: str) -> bool:
    pattern = {"amount": _AMOUNT, "rate": _RATE, "date": _DATE, "count": _COUNT, "funding": _FUNDING_TEXT}[kind]
    return bool(pattern.search(text))


# a place named in a text: « à Sainte Colombe », « dans la Drôme », « au sein de la direction… »
_PLACE = re.compile(
    r"\b(?:à|au|aux|dans|en|sur|vers|depuis)\s+(?:la |le |l['’]|les )?[A-ZÉÈÀÂÎÔ]|\bau sein (?:de|du|des|d['’])\b|"
    r"\blieu\b|\bsi[èe]ge\b",
)


_COUNTED = re.compile(
    r"(?<![\d/])\d+(?:[  ]\d{3})*(?:,\d+)?(?![\d/])|\b(?:deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|"
    r"quinze|vingt|trente|quarante|cinquante|cent)\b",
    re.I,
)


def counts(text: str, head: frozenset[str]) -> bool:
    """Whether a text gives a number of the thing counted: a number followed, within three words, by one of
    ``head``'s analysed forms (« 34 entreprises mécènes », « 0,4 équivalent temps plein »)."""
    for match in _COUNTED.finditer(text):
        if head & set(analyze(" ".join(text[match.end() :].split()[:3]))):
            return True
    return False


def gives_detail(text: str, detail: str | None, head: frozenset[str] = frozenset()) -> bool:
    """Whether a text gives the kind of detail asked: an amount, a count (not a year, a rate, a day; of the
    ``head`` when given), a figure, a date, a place; any text may give a name or an unspecified detail."""
    match detail:
        case "amount":
            return contains_kind(text, "amount")
        case "count":
            return counts(text, head) if head else bool(count_values(text))
        case "figure":
            return contains_kind(text, "rate") or any(ch.isdigit() for ch in text)
        case "date":
            return contains_kind(text, "date")
        case "place":
            return bool(_PLACE.search(text))
        case _:
            return True


# share of the question (idf-weighted) in words absent from the corpus: at most 0.48 on the
# answerable domain and seed dev questions (abbreviations, colloquial words), 0.83 for an
# off-topic question on the demo corpus
MAX_UNKNOWN = 0.6


# asking words are in every question, seldom in documents: they say nothing about the corpus
_ASKING = frozenset(analyze("quand combien comment pourquoi quel quelle quels quelles qui où lequel laquelle"))


def unknown_share(question: str, idf: Callable[[str], float], known: Callable[[str], bool]) -> float:
    """Share of the question's analysed words (idf-weighted, asking words aside) that ``known`` rejects."""
    terms = set(analyze(question)) - _ASKING
    total = sum(idf(t) for t in terms)
    return sum(idf(t) for t in terms if not known(t)) / total if total else 0.0


@dataclass(frozen=True)
class Answerability:
    """Whether the retrieved material covers the question, decided before any answer is composed."""

    answerable: bool
    reason: str  # "ok", "off-topic" (focus not covered), "detail-absent" (the asked amount/date… is not there),
    # "absent-terms" (words of the question the corpus uses are absent from the material), "unknown-words"
    best_coverage: float
    document_coverage: float
    absent_share: float
    unknown_share: float


def assess(
    focus: Sequence[tuple[FocusTerm, float]],
    units: Sequence[tuple[str, frozenset[str], frozenset[str], int, bool]],
    documents: Sequence[frozenset[str]],
    *,
    detail: str | None,
    known: Callable[[str], bool],
    words_of_focus: Sequence[str],
    min_coverage: float,
    unknown: float,
    anchors: Sequence[str] = (),
    head_forms: frozenset[str] = frozenset(),
    complement_forms: frozenset[str] = frozenset(),
    question: str = "",
) -> Answerability:
    """``focus``: each focus term with its weight; ``units``: (text, analysed words, words of its context (title, heading), index of its document in
    ``documents``, whether its context counts as its own words: a funding section's lines and a list's items name
    no project, their heading does);
    ``documents``: the analysed words of each retrieved document's units and title; ``anchors``: proper
    names and years of the question (analysed), which the document giving the asked detail must contain; ``known``: whether the corpus
    uses a focus word (``words_of_focus``, same order as ``focus``).

    Near misses (same topic, asked detail absent) are refused: the asked kind of detail must occur in a
    unit about the question, and a focus word the corpus does use must occur in the material.
    """
    total = sum(w for _, w in focus) or 1.0

    def cover(words: frozenset[str]) -> float:
        return sum(w for term, w in focus if covered(term, words)) / total

    scored = [(cover(words), text) for text, words, _, _, _ in units]
    best = max((s for s, _ in scored), default=0.0)
    # names must be in the unit's document, a year in the unit itself (or its heading)
    years = {a for a in anchors if a.isdigit()}
    anchored = [
        all(a in documents[d] for a in anchors if a not in years) and years <= words | context
        for _, words, context, d, _ in units
    ]
    # a funding line borrows its title's and heading's words if it shares a word of the question itself
    # (« Budget 2022 : 312 000 euros. » in the fiche of the platform asked about)
    funding = detail == "funding"  # who funds: any line of a funding section about the asked project
    in_context = [
        (cover(words | context if borrows else words) if (cover(words) or funding) and anchored[i] else 0.0, text)
        for i, (text, words, context, _, borrows) in enumerate(units)
    ]
    in_documents = max((cover(words) for words in documents), default=0.0)
    everything = frozenset().union(*documents) if documents else frozenset()
    absent = sum(
        w
        for (term, w), word in zip(focus, words_of_focus, strict=True)
        if not covered(term, everything) and known(word)
    )
    absent_share = absent / total
    kind = {"amount": "amount", "date": "date", "count": "count", "figure": "rate", "funding": "funding"}.get(
        detail or ""
    )

    # the unit giving the detail must also name what is counted or priced (« personnes », « loyer »)
    def names(forms: frozenset[str], i: int) -> bool:
        return not forms or bool(forms & units[i][1] or (units[i][4] and forms & units[i][2]))

    # what the detail is of (« du garage » in « le budget 2023 du garage ») is in the document giving it, as
    # a word of its own: a glossary form (« solidaire » for « garage solidaire ») is not the thing itself
    owner = owner_word(question) if kind in ("amount", "funding") else None
    given = set(_NUMBERS.findall(question))

    roles = role_forms(question) if detail == "name" else frozenset()

    def gives(i: int, text: str) -> bool:
        if kind == "count":
            return any(n not in given for n in count_values(text))
        if detail == "name":
            return bool(roles & (units[i][1] | units[i][2]))
        return kind is None or contains_kind(text, kind)

    found = (kind is None and not roles) or any(
        gives(i, text)
        and names(head_forms, i)
        and names(complement_forms, i)
        and (owner is None or owner in documents[units[i][3]])
        and not units[i][1] <= units[i][2]  # a heading (« Budget et financements ») gives no detail
        for i, (s, text) in enumerate(in_context)
        if s >= DETAIL_NEAR * best and s > 0
    )
    # a name of several words (« France Services ») is a name only as a whole: its words apart say nothing
    phrases = [(fold_name(n), frozenset(analyze(n))) for n in proper_names(question) if len(fold_name(n).split()) > 1]
    named_whole = all(
        any(f" {phrase} " in f" {fold_name(text)} " for text, words, *_ in units if stems <= words)
        for phrase, stems in phrases
    )
    # a place, body or year the question names must be in one retrieved document
    names = [a for a in anchors if not a.isdigit()]
    named = (not names or any(all(a in words for a in names) for words in documents)) and named_whole
    # the thing a fact question asks about (its first focus words: « loyer », « date ») and the years it
    # names must be in the material: otherwise it is a near miss (same topic, asked detail absent)
    head = [
        word
        for (term, _), word in list(zip(focus, words_of_focus, strict=True))[:2]
        if detail is not None and not covered(term, everything) and known(word)
    ]
    years = [w for w in words_of_focus if len(w) == 4 and w.isdigit() and w not in everything]
    reason = "ok"
    if unknown >= MAX_UNKNOWN:
        reason = "unknown-words"
    elif best < min_coverage and in_documents < 2 * min_coverage:
        reason = "off-topic"
    elif not named:
        reason = "another-place"
    elif not found:
        reason = "detail-absent"
    elif head or years:
        reason = "absent-terms"
    return Answerability(reason == "ok", reason, best, in_documents, absent_share, unknown)


DETAIL_NEAR = 0.3
# words that say which detail is asked, not what it is about
_DETAIL_WORDS = frozenset(analyze("budget annuel annuelle coût montant combien nombre taux part total prix"))
_NUMBERS = re.compile(r"\d+(?:[  ]\d{3})*")
_NOT_COUNT_AFTER = re.compile(
    r"\s*(%|h\s?\d|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|"
    r"décembre|er\b)",
    re.I,
)
_COUNT_WORDS = re.compile(
    r"\b(deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|trente|cent)\b", re.I
)
# who holds a role: the verb of the question and the words a document names the role with
_ROLES = {
    "dirig": "dirige dirigé directeur directrice direction président présidente préside",
    "presid": "préside présidé président présidente",
    "anim": "anime animé animateur animatrice animation",
    "pilot": "pilote piloté pilotage",
    "coordon": "coordonne coordonné coordinateur coordinatrice coordination",
}


def count_values(text: str) -> list[str]:
    """The numbers of a text that count something: not a year, a rate, an amount, an hour or a day of a
    month (« 463 personnes », « douze salariés », not « 38 % », « 15 mars », « 12 € »)."""
    found = []
    for match in _NUMBERS.finditer(text):
        value = match.group(0)
        if re.fullmatch(r"(19|20)\d\d", value) or _NOT_COUNT_AFTER.match(text, match.end()):
            continue
        if match.start() > 0 and text[match.start() - 1] in "/.,":
            continue
        found.append(value)
    return found + [m.group(0).lower() for m in _COUNT_WORDS.finditer(text)]


_OWNED = re.compile(
    r"\b(budget|co[uû]t|montant|tarif|prix|financement|chiffre d['’]affaires|recettes)\b"
    r"(?:\s+(?:annuel|global|total|de fonctionnement|horaire))?"
    r"(?:\s+(?:19|20)\d\d)?\s+(?:de la |de l['’]|du |des |de |d['’])(\w[\w'’-]*)",
    re.I,
)


def owner_word(question: str) -> str | None:
    """The analysed word a budget, cost or price is of (« garage » in « le budget 2023 du garage
    solidaire »), None when the question does not say."""
    match = _OWNED.search(question)
    if match is None:
        return None
    words = [w for w in analyze(match.group(2)) if w not in _DETAIL_WORDS]
    return words[0] if words else None


def role_forms(question: str) -> frozenset[str]:
    """The analysed words a document names the role asked with (« Qui dirige… ? »: directeur, présidente…);
    empty when the question asks no such role."""
    words = set(analyze(question))
    return frozenset(w for stem, said in _ROLES.items() if stem in words for w in analyze(said))


def fold_name(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", fold_accents(text).lower()).split())
