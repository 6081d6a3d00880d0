"""Question analysis (pure): what kind of answer a question asks for, and what the answer must cover.

Kinds: ``definition`` (« Qu'est-ce qu'une Cité de l'emploi ? »), ``precedent`` (« Quelles communes ont
monté… », « un exemple de… »), ``howto`` (« Comment… », levers, steps, method), ``funding`` (« qui
finance ? »), ``partners`` (« avec qui ? »), ``comparison``, ``list`` and, by default, ``fact`` with a
``detail``: amount, date, count, figure (a rate, a share) or name (who, which body).

The focus is the content words an answer must cover, each with the other forms it may take in a
document: « budget » is also « financement », « € »; an acronym is also its glossary expansion.
Asking words and words that only say the kind (« comment », « exemple », « partenaires ») are not focus:
a document never needs to say « exemple » to be one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.glossary import Glossary, GlossaryEntry, normalise
from assistant.retrieval.french import analyze

KINDS = ("definition", "fact", "precedent", "howto", "funding", "partners", "comparison", "list")
DETAILS = ("amount", "date", "count", "figure", "name", "funding")

_I = re.IGNORECASE
_DEFINITION = re.compile(
    r"\bqu['’ ]?est[- ]ce (que|qu['’])|\bc['’]est quoi\b|\bque (signifie|veut dire)\b|\bqu['’]appelle[- ]t[- ]on\b|"
    r"\bd[ée]finition (de|d['’]|du|des)\b|\bd[ée]finir\b|\bça veut dire quoi\b|\bsignification\b",
    _I,
)
_COMPARISON = re.compile(
    r"\bdiff[ée]rences? entre\b|\bcompar(er|aison|é|ée)\b|\bpar rapport (à|au|aux)\b|\bversus\b|\bvs\.?\b|"
    r"\bplut[ôo]t que\b|\bqu['’]est-ce qui distingue\b",
    _I,
)
_PRECEDENT = re.compile(
    r"\bexemples?\b|\bretours? d['’]exp[ée]riences?\b|\bça existe\b|\bcela existe\b|\bquelqu['’]un a\b|"
    r"\b(des|quels|quelles) (territoires|communes|villes|collectivit[ée]s|quartiers|agglos?|agglom[ée]rations|"
    r"structures|associations|centres de ressources|acteurs)\b.{0,40}\b(ont|a|avaient|ont-ils|ont-elles)\b|"
    r"\b(quelles|quels) (communes|villes|territoires|collectivit[ée]s|agglom[ée]rations)\b|"
    r"\b(ont|a)[- ]t?[- ]?(ils|elles|il|elle)\b.{0,30}\b(test[ée]|mont[ée]|mis en place|cr[ée]{1,2}|lanc[ée]|organis[ée])|"
    r"\by a[- ]t[- ]il (eu|des)\b|\bcas (concret|document[ée])s?\b|\bexp[ée]riences? (men[ée]es?|r[ée]ussies?)\b|"
    r"\bqui a d[ée]j[àa]\b|\bd[ée]j[àa] (mont[ée]|test[ée]|fait|exp[ée]riment[ée])\b|\bexiste-t-il (des|un|une)\b.{0,40}"
    r"\b(exp[ée]rience|initiative|projet|dispositif)|"
    # « des formations … qui marchent ? »: what worked somewhere is asked for
    r"\bqui (marchent|fonctionnent|ont (marché|fonctionné|réussi))\b",
    _I,
)
_HOWTO = re.compile(
    r"^\s*(et )?comment\b|[.,;:?] ?comment\b|\bpar o[uù] commencer\b|\bquelles? ([ée]tapes|leviers|m[ée]thodes?)\b|"
    r"\bquels? (leviers|conseils|outils|indicateurs)\b|\bque faire pour\b|\bla m[ée]thode\b|\bbonnes pratiques\b|"
    r"\bcomment (faire|s['’]y prendre)\b|\bpour (bien )?(r[ée]ussir|monter|lancer|structurer|relancer)\b.*\?|"
    r"\bmarche [àa] suivre\b|\bquoi (faire|demander)\b",
    _I,
)
_FUNDING = re.compile(
    r"\bqui (le |la |les )?(co)?financ|\bquels? (co)?financ(ements?|eurs)\b|\b(co)?financeurs?\b|"
    r"\bavec quels? (moyens|financements|cr[ée]dits)\b|\bd['’]o[uù] vient l['’]argent\b|\bfinanc[ée]e?s? par qui\b",
    _I,
)
_PARTNERS = re.compile(
    r"\b(avec )?quels? partenaires\b|\bpartenaires\b|\bavec qui\b|\bquels acteurs\b|\bpartenariats?\b", _I
)
# « Quels sont les… », « Quels objectifs poursuivait… », « quelles actions ont été menées » (a plural noun)
_LIST = re.compile(
    r"^\s*(quels|quelles) sont (les|leurs)\b|^\s*(quels|quelles) [a-zéèêàâîôûç]{3,}[sx]\b(?! (de |d['’])?\w+ (de|du|des) )|"
    r"\bliste (des|de)\b|\b[ée]num[ée]r",
    _I,
)
_AMOUNT = re.compile(
    r"\bcombien (a |ont |avait )?(co[uû]t|rapport|financ|met|mis|mettent|verse|vers|touch|investi|d[ée]pens|pay)|"
    # « combien vient du conseil départemental ? »: the share of an amount that a funder brings
    r"\bcombien (vient|viennent|provient|apporte|apportent) (du|de la|de l['’]|des|de)\b|"
    # « combien Bpifrance met… », « combien le fonds a-t-il collecté » (not « combien de personnes… »)
    r"\bcombien (?!de |d['’])[^?,;]{0,70}?\b(co[uû]t|financ|met\b|mettent|vers|investi|d[ée]pens|pay|collect|lev[ée])|"
    r"\bquel (est |était |a été )?(le |son |leur )?(co[uû]t|budget|montant|loyer|tarif|prix|salaire)\b|"
    r"\b(budget|montant|enveloppe|co[uû]t|loyer|tarif|prix)\b|\bcombien d['’]euros\b|"
    # what an activity earns is an amount too
    r"\bchiffres? d['’]affaires\b|\brecettes\b",
    _I,
)
_DATE = re.compile(
    r"\bquand\b|\bquelle date\b|\b(en|depuis) quelle ann[ée]e\b|\bdepuis quand\b|\b[àa] partir de quand\b|"
    r"\bquelle ann[ée]e\b|\bdate (de|d['’])\b",
    _I,
)
_COUNT = re.compile(r"\bcombien\b|\bnombre (de|d['’])\b", _I)
_FIGURE = re.compile(r"\b(taux|part|pourcentage|proportion|ratio)\b", _I)
_NAME = re.compile(
    r"^\s*(et )?qui\b|\bpar qui\b|\bqui (est|sont|porte|pilote|anime|organise|a organis)|"
    r"\b(quel|quelle) (organisme|structure|association|publication|op[ée]rateur|entreprise|cabinet|nom)\b|"
    r"\bo[uù] (a|ont|est|se)\b|\bo[uù]\s*\?",
    _I,
)

# words that ask, or only say what kind of answer is wanted: never required of a document
_NOT_FOCUS = frozenset(
    analyze(
        "quand combien comment pourquoi quel quelle quels quelles qui où lequel laquelle quoi "
        "exemple exemples retour expérience expériences existe cas documenté concret déjà "
        "faire fait étapes étape leviers levier méthode conseils outils bonnes pratiques "
        "partenaires partenaire partenariat financement financements financeurs finance financé "
        "définition signifie veut dire appelle est-ce différence entre comparer "
        "quelqu'un y a-t-il avez-vous vous nous on notre nos chercher cherche je peux "
        "sont ont monté mis place testé territoires communes villes "
        "sans après jusqu vers etc vs ça plein quasi jamais rien coin aussi puis tout tous auprès "
        "marchent fonctionnent"
    )
)

# a word of the question that a document may write otherwise
_ALTERNATIVES: dict[str, str] = {
    "budget": "budget financement financé coût montant euros €",
    "cout": "coût budget montant euros €",
    "montant": "montant euros € budget",
    "chomag": "chômage demandeurs d'emploi",
    "salari": "salariés emplois postes",
    "emploi": "emploi emplois embauche",
    "entrepris": "entreprises entreprise PME",
    "creation": "création créateurs créer",
    # short forms practitioners type, and the words a document writes instead
    "immo": "immobilier immobilière immobilières",
    "eco": "économique économie",
    "dev": "développement",
    "comcom": "communauté de communes",
    "agglo": "agglomération",
    "asso": "association associations",
    "boit": "entreprise entreprises",
    "rdv": "rendez-vous",
    "etp": "équivalent temps plein",
    "an": "an annuel annuelle année",
}


@dataclass(frozen=True)
class FocusTerm:
    """A content word of the question (as analysed) and the analysed forms that also cover it."""

    word: str
    forms: frozenset[str]
    # what an acronym stands for, written out (« banque publique investiss » for « Bpifrance »): covered
    # by most of its words together, never by one of them alone (« la Banque des Territoires »)
    phrases: frozenset[frozenset[str]] = frozenset()


@dataclass(frozen=True)
class QuestionPart:
    """A further detail asked in a clause of its own: « … et combien de boîtes créées en 2021 ? »,
    « …, budget total ? », « … et où ? ». ``focus`` holds the clause's own content words."""

    text: str
    detail: str | None  # amount, date, count, figure, name, or place (« où »)
    focus: tuple[FocusTerm, ...]
    head: frozenset[str] = frozenset()


@dataclass(frozen=True)
class QuestionAnalysis:
    text: str
    kind: str
    detail: str | None  # for facts (and funding): amount, date, count, figure, name
    focus: tuple[FocusTerm, ...]
    also: frozenset[str] = (
        frozenset()
    )  # other kinds asked in passing: "… et avec quels partenaires ?", "Des exemples ?"
    glossary_terms: tuple[str, ...] = ()  # glossary entries the question names (their ``term``)
    anchors: tuple[str, ...] = ()  # analysed proper names and years: « Cardabelles », « 2024 »
    head: frozenset[str] = frozenset()  # forms of what a count or an amount is of (« personnes », « loyer »)
    complement: frozenset[str] = frozenset()  # what a rate or share is of (« chômage » in « taux de chômage »)
    parts: tuple[QuestionPart, ...] = ()  # further details asked in later clauses, for a fact question
    subject: frozenset[str] = (
        frozenset()
    )  # what a how-to asks to set up (« formation-action » in « Comment organiser une formation-action… »)
    areas: tuple[str, ...] = ()  # regions or départements named as a scope (« dans le Nord »), as written

    @property
    def topic(self) -> frozenset[str]:
        """The focus words: what the question is about, kind words aside."""
        return frozenset(t.word for t in self.focus)


def analyse_question(text: str, glossary: Glossary | None = None) -> QuestionAnalysis:
    """Kind, detail and focus of a question (see the module docstring)."""
    kind = question_kind(text)
    detail = question_detail(text) if kind in ("fact", "list") else ("funding" if kind == "funding" else None)
    also = frozenset(
        k
        for k, pattern in (("partners", _PARTNERS), ("funding", _FUNDING), ("precedent", _PRECEDENT))
        if pattern.search(text)
    )
    entries = glossary.find_terms(text) if glossary is not None else []
    return QuestionAnalysis(
        text=text,
        kind=kind,
        detail=detail,
        focus=focus_terms(text, entries),
        also=also - {kind},
        glossary_terms=tuple(e.term for e in entries),
        anchors=anchor_words(text),
        head=_head_forms(text),
        complement=_head_forms(text, complement) if (complement := head_complement(text)) else frozenset(),
        parts=question_parts(text, entries)
        if kind == "fact"
        else funding_amount(text, entries)
        if kind == "funding"
        else (),
        subject=setting_up(text, entries) if kind == "howto" else frozenset(),
        areas=area_names(text),
    )


_SETTING_UP = re.compile(
    r"\bcomment (?:organiser|monter|mettre en place|lancer|cr[ée]er|structurer|construire|conduire|animer)\s+"
    r"(?:une?|des|le|la|les|l['’]|son|sa|ses|notre|nos)\s*([\w’'-]+)",
    _I,
)


def setting_up(text: str, entries: Sequence[GlossaryEntry] = ()) -> frozenset[str]:
    """The analysed words of what a how-to question asks to set up: « Comment organiser une formation-action
    qui… » -> {format, action}; empty when the question asks no such thing. When the word opens a glossary
    term the question names, the subject is the whole term: « monter une plateforme mobilité » sets up a
    « plateforme mobilité », and a « Plateforme RSE » is another thing."""
    match = _SETTING_UP.search(text)
    if not match:
        return frozenset()
    subject = frozenset(analyze(match.group(1)))
    rest = normalise(text[match.start(1) :]).casefold()
    wider = [
        words
        for entry in entries
        for name in (entry.term, entry.expansion, *entry.synonyms)
        if rest.startswith(normalise(name).casefold()) and subject < (words := frozenset(analyze(name)))
    ]
    return max(wider, key=len) if wider else subject


def _head_forms(text: str, word: str | None = None) -> frozenset[str]:
    word = word or head_word(text) or (per_unit(text) if _AMOUNT.search(text) else None)
    if word is None:
        return frozenset()
    stems = analyze(word)
    forms = set(stems)
    for stem in stems:
        if stem in _ALTERNATIVES:
            forms |= set(analyze(_ALTERNATIVES[stem]))
    return frozenset(forms)


def question_kind(text: str) -> str:
    """The kind of answer asked for, by the first rule that matches (order matters: « Comment… ? Des exemples ? »
    is a how-to, « qui finance la plateforme ? » a funding question, « Qu'est-ce que… » a definition)."""
    if _DEFINITION.search(text) and not _HOWTO.search(text):
        return "definition"
    if _COMPARISON.search(text):
        return "comparison"
    if _HOWTO.search(text):
        return "howto"
    if _PRECEDENT.search(text) and not re.match(r"\s*combien\b", text, _I):
        return "precedent"
    if _FUNDING.search(text):
        return "funding"
    if _PARTNERS.search(text) and not _AMOUNT.search(text):
        return "partners"
    if _LIST.search(text) and not (_AMOUNT.search(text) or _COUNT.search(text) or _FIGURE.search(text)):
        return "list"
    return "fact"


def question_detail(text: str) -> str | None:
    """What a fact answer must contain: an amount, a date, a count, a figure (rate, share) or a name.

    The first cue in the question wins: « combien de personnes… et avec quel budget ? » asks a count first."""
    found = [
        (match.start(), rank, detail)
        for rank, (detail, pattern) in enumerate(
            (("amount", _AMOUNT), ("date", _DATE), ("figure", _FIGURE), ("count", _COUNT), ("name", _NAME))
        )
        if (match := pattern.search(text))
    ]
    return min(found)[2] if found else None


_HEAD = re.compile(
    r"^\W*(?:et )?combien (?:de |d['’])\s*(\w+)|"
    r"\bquel(?:le)?s? (?:est |était |a été |sont )?(?:le |la |l['’]|les |son |sa |leur )?"
    r"(budget|co[uû]t|montant|loyer|tarif|prix|taux|part|nombre|effectif|surface|chiffre d['’]affaires)\b",
    re.I,
)


def head_word(text: str) -> str | None:
    """What a count or a price is of (« combien de personnes » -> personnes, « quel loyer » -> loyer): the
    unit giving the number must name it. Only the question's first « combien » counts."""
    first_clause = re.split(r",|;|\?| et ", text, maxsplit=1)[0]
    match = _HEAD.search(first_clause)
    if match is None:
        return None
    return match.group(1) or match.group(2)


# a clause break, and a clause that asks something of its own (« et combien de… », « , budget total ? »)
_CLAUSE_BREAK = re.compile(r"\s*[,;?]\s*(?:et\s+|mais\s+)?|\s+et\s+", re.I)
_LEADING = re.compile(r"^(?:avec|aupr[èe]s d[e'’]|pour|dans|de|d['’]|à|en|sur|par)\s*", re.I)
_ASKS = re.compile(
    r"^(?:combien|quel|quelle|quels|quelles|o[uù]|qui|quand|(?:le |la |l['’]|son |sa |leur )?"
    r"(?:budget|part|montant|enveloppe|co[uû]t|nombre|date|taux))\b",
    re.I,
)
_WHERE = re.compile(r"^(?:et\s+)?o[uù]\b", re.I)


def question_parts(text: str, entries: Sequence[GlossaryEntry] = ()) -> tuple[QuestionPart, ...]:
    """The details asked in the question's later clauses, each with its own kind and words: « Combien
    Bpifrance met dans « Ose ta boîte » et combien de boîtes créées en 2021 ? » also asks a count of
    « boîtes ». The first clause is the question itself; a clause that asks nothing (« dans les
    quartiers, » ) is no part."""
    found = []
    for piece in _CLAUSE_BREAK.split(text)[1:]:
        piece = _LEADING.sub("", piece.strip())
        if not _ASKS.match(piece):
            continue
        detail = "place" if _WHERE.match(piece) else question_detail(piece)
        found.append(QuestionPart(piece, detail, focus_terms(piece, entries), _head_forms(piece)))
    return tuple(found)


def funding_amount(text: str, entries: Sequence[GlossaryEntry] = ()) -> tuple[QuestionPart, ...]:
    """A funding question that also asks an amount before who funds (« le budget annuel de la crèche… et
    qui la finance ? »): that amount, as a part of its own; empty otherwise."""
    first = _CLAUSE_BREAK.split(text, maxsplit=1)[0]
    if not _AMOUNT.search(first) or _FUNDING.search(first):
        return ()
    return (QuestionPart(first, "amount", focus_terms(first, entries), _head_forms(first)),)


_PER_UNIT = re.compile(
    # « par an »: a budget is yearly unless said otherwise, so « Budget 2022 : … » answers it
    r"\bpar (?!(?:la|le|les|l|un|une|des|du|qui|quel|quelle|quels|quelles|quoi|rapport|exemple|ailleurs|an|ann[ée]e)\b)"
    r"([a-zéèêàâîôûç]{2,})\b",
    re.I,
)


def per_unit(text: str) -> str | None:
    """What an amount or a count is asked per (« par stagiaire », « par an »): the document must say it per
    the same thing; « par la Région » names an agent, not a unit."""
    match = _PER_UNIT.search(text)
    return match.group(1) if match else None


_COMPLEMENT = re.compile(r"^\s+(?:de la |de l['’]|de |d['’]|du |des )\s*(\w+)", re.I)


def head_complement(text: str) -> str | None:
    """What a rate, share or number is of: « taux de chômage » -> chômage (a rate of vacancy answers nothing)."""
    first_clause = re.split(r",|;|\?| et ", text, maxsplit=1)[0]
    match = _HEAD.search(first_clause)
    if match is None or (match.group(2) or "").lower() not in ("taux", "part", "nombre", "effectif"):
        return None
    complement = _COMPLEMENT.match(first_clause[match.end() :])
    return complement.group(1) if complement else None


# set phrases that say how the question is asked, not what it is about (« sans en faire une fin en soi »,
# « concrètement », « pas à pas »): their rare words (« soi ») would outweigh the subject
_SET_PHRASES = re.compile(
    r"\b(?:(?:une |des )?fins? en (?:soi|elle-m[êe]me|lui-m[êe]me)|concr[èe]tement|au quotidien|en pratique|"
    r"pas à pas|de a à z|au juste|en gros|grosso modo|dans les grandes lignes)\b",
    _I,
)


# a region or a département named as the scope of the question (« dans le Nord », « en Bretagne », « dans les
# Hauts-de-France »), not a town (« à Tourcoing »): an acronym (« en QPV ») is no area
_AREA = re.compile(
    r"\b(?:[Dd]ans (?:le |la |les |l['’])|[Ee]n )([A-ZÉÈÎ][a-zéèêëàâîïôûç]+(?:-(?:de-|du-|et-)?[A-ZÉÈÎa-zé][a-zéèêëàâîïôûç]+| (?:de |du )?[A-ZÉÈÎ][a-zéèêëàâîïôûç]+)*)"
)


def area_names(text: str) -> tuple[str, ...]:
    """The regions and départements a question names as its scope, as written (« Nord », « Hauts-de-France »)."""
    return tuple(dict.fromkeys(m.group(1) for m in _AREA.finditer(text)))


def focus_terms(text: str, entries: Sequence[GlossaryEntry] = ()) -> tuple[FocusTerm, ...]:
    """The question's content words (analysed), each once, with the forms that also cover it.

    An acronym of the glossary is covered by its expansion's words too, and each of those words by the
    acronym; the words of a term written out do not cover one another (« ville » does not stand for
    « pilier » because both are in « pilier … des contrats de ville »)."""
    text = _SET_PHRASES.sub(" ", text)
    words = [w for w in dict.fromkeys(analyze(text)) if w not in _NOT_FOCUS and (not w.isdigit() or len(w) == 4)]
    extra: dict[str, set[str]] = {}
    written_out: dict[str, set[frozenset[str]]] = {}
    for entry in entries:
        spelled = [analyze(s) for s in (entry.term, entry.expansion, *entry.synonyms)]
        single = {words_of[0] for words_of in spelled if len(words_of) == 1}
        phrases = {frozenset(words_of) for words_of in spelled if len(words_of) > 1}
        for word in single:
            extra.setdefault(word, set()).update(single)
            written_out.setdefault(word, set()).update(phrases)
        for phrase in phrases:
            for word in phrase:
                extra.setdefault(word, set()).update(single)
    terms = []
    for word in words:
        forms = {word} | extra.get(word, set())
        if word in _ALTERNATIVES:
            forms |= set(analyze(_ALTERNATIVES[word]))
        terms.append(FocusTerm(word, frozenset(forms), frozenset(written_out.get(word, ()))))
    return tuple(terms)


def covered(term: FocusTerm, words: set[str] | frozenset[str]) -> bool:
    """A focus term is covered by a text whose analysed words include one of its forms, or most of the
    words of one of its written-out phrases (3 of 5, 2 of 3, both of 2)."""
    return bool(term.forms & words) or any(
        len(phrase & words) >= max(min(2, len(phrase)), math.ceil(0.6 * len(phrase))) for phrase in term.phrases
    )


_PROPER_NAME = re.compile(
    r"(?<![\w'’])(?:[A-ZÉÈÀÂÎÔ][a-zéèêëàâîïôûç]+(?:[-'’ ](?:[dl][e'’]?|les?|la|des|du|sur|en)?[-'’ ]?[A-ZÉ][a-zéèêàâîôûç]+)*)"
)
_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
# capitalised words that name no particular place or body
_COMMON = frozenset(analyze("état etat région region département ville quartier quartiers métropole agglomération"))


def proper_names(text: str) -> list[str]:
    """The capitalised names of a question (« Valbrune », « France Services »), its first word aside: the
    first word is capitalised anyway."""
    start = len(text) - len(text.lstrip())
    return [m.group(0) for m in _PROPER_NAME.finditer(text) if m.start() != start]


def anchor_words(text: str) -> tuple[str, ...]:
    """Analysed words of the proper names (capitalised, not the first word) and years of a question.

    An answer about another place or another year is a near miss: these must be in the document that
    gives the asked detail."""
    words: list[str] = []
    for name in proper_names(text):
        words += [w for w in analyze(name) if w not in _COMMON and w not in _NOT_FOCUS]
    words += _YEAR.findall(text)
    return tuple(dict.fromkeys(words))
