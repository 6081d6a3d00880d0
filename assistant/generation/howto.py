"""How-to answers (pure): steps and levers from the most relevant document, then from others."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from assistant.citations import Idf
from assistant.generation.parts import Candidate, Label, Part, candidates, claim, coverage, title_of, type_of
from assistant.generation.question import QuestionAnalysis, covered
from assistant.generation.units import Unit
from assistant.retrieval.french import analyze
from assistant.retrieval.french import fold_accents as fold
from assistant.types import Passage

STEP = re.compile(r"^(é|e)tape|^\d+[.)]|^levier|^phase|^pr[ée]requis|^question \d|^conseil|^action \d", re.I)

_ACTING = re.compile(
    r"^(se |s['’]|ne pas |ne jamais )?[A-ZÉÀa-zéèêàâîôûç]+(er|ir|re)\b|\b(doit|doivent|faut|fallait|permet|"
    r"recommand\w*|[ée]viter|veiller|privil[ée]gier|pr[ée]voir|associer|m[ée]thode la plus)\b",
    re.IGNORECASE,
)
# headings of sections that say what to do, and of sections that describe (folded, lower case)
_ADVICE_HEADING = re.compile(
    r"action|recommand|preconis|levier|piste|conseil|etape|methode|demarche|cle|reussite|marche|fonctionne|"
    r"enseignement|lecon|vigilance|pratique|comment|mode d.emploi|retenir|mise en oeuvre|faire|outil|"
    r"propos|strateg|deroule|organis|principe|ingredient|condition"
)
_DESCRIBING_HEADING = re.compile(
    r"contexte|constat|diagnostic|rappel|^objet|presentation|chiffre|historique|enjeu|origine|territoire|"
    r"public|budget|financ|partenaire|contact|calendrier|moyens|en bref|a propos|sommaire|introduction"
)
# sections that describe a place or a record, not what to do
_NOT_ADVICE = frozenset({"territory", "contact", "partners", "funding", "period", "public", "lead"})


def document_candidates(passages: Sequence[Passage], units: dict[str, Sequence[Unit]]) -> dict[str, list[Candidate]]:
    """Every unit of each retrieved document, as candidates of the document's first passage."""
    found: dict[str, list[Candidate]] = {}
    for rank, passage in enumerate(passages):
        doc = passage.chunk.doc_id
        if doc in found or doc not in units:
            continue
        found[doc] = candidates([passage], {passage.number: list(units[doc])})
        found[doc] = [replace(c, rank=rank) for c in found[doc]]
    return found


def heading_role(heading: str) -> float:
    """What a section's heading says of its units: positive for a section that says what to do
    (« Plan d'actions proposé », « Recommandations »), negative for one that describes (« Constats
    locaux », « Contexte »), 0 otherwise."""
    folded = fold(heading).lower()
    if not folded:
        return 0.0
    if STEP.search(folded) or _ADVICE_HEADING.search(folded):
        return 0.3
    if _DESCRIBING_HEADING.search(folded):
        return -0.3
    return 0.0


def compose_howto(
    analysis: QuestionAnalysis,
    ranked: list[tuple[float, Candidate]],
    passages: Sequence[Passage],
    documents: dict[str, list[Candidate]],
    idf: Idf,
) -> list[Part]:
    """Steps and levers: the best unit of each section of the most relevant document (a guide's steps, a
    dossier's lessons), then the best levers of two other documents; grouped by document, the most relevant
    first, each labelled guide, experience or document."""
    if not ranked:
        return []
    # the document of the best unit, with a prior for the retrieval rank of its passage
    best = max(ranked, key=lambda vc: vc[0] + 0.3 / (vc[1].rank + 1))[1]
    best_doc = best.doc_id
    # a document presenting the very thing the question asks to set up (« Présentation de la formation
    # action… » for « Comment organiser une formation-action ? ») answers by how it was set up: its public,
    # its calendar, its process count as much as its lessons
    account = bool(analysis.subject) and analysis.subject <= frozenset(analyze(title_of(passages, best.passage)))
    units = documents.get(best_doc) or [c for _, c in ranked if c.doc_id == best_doc]
    chosen = _advice(analysis, units, idf, account=account)
    # and the three units that answer the question best, wherever they are: a page on many subjects has
    # no section about the question, only sentences
    spans = {(c.doc_id, c.unit.span.start) for c in chosen}
    best_units = [c for _, c in ranked if c.unit.kind != "heading"]
    # when the question names what to set up, the units that name it come first: « la Plateforme RSE… freins »
    # shares two words with « monter une plateforme mobilité… lever les freins » but speaks of another thing
    naming = [c for c in best_units if analysis.subject and analysis.subject <= c.words]
    best_units = (naming or best_units)[:3]
    chosen += [c for c in best_units if (c.doc_id, c.unit.span.start) not in spans]
    spans = {(c.doc_id, c.unit.span.start) for c in chosen}
    for unit in best_units:
        for following in continuation(analysis, unit, documents.get(unit.doc_id, [])):
            if (following.doc_id, following.unit.span.start) not in spans:
                chosen.append(following)
                spans.add((following.doc_id, following.unit.span.start))
    # then the levers of two other documents: their own best advice (a dossier's « Enseignements »), else
    # their best unit
    floor = 0.6 * ranked[0][0]
    others: list[str] = []
    for value, candidate in ranked:
        if len(others) >= 2 or value < floor:
            break
        if candidate.doc_id == best_doc or candidate.doc_id in others or candidate.unit.kind == "heading":
            continue
        others.append(candidate.doc_id)
        advice = _advice(analysis, documents.get(candidate.doc_id, []), idf, limit=3, steps=False)
        for found in advice or [candidate]:
            if (found.doc_id, found.unit.span.start) not in spans:
                chosen.append(found)
                spans.add((found.doc_id, found.unit.span.start))
    # « … ? Des exemples ? »: the lines of the documents used that name an example of the subject asked
    if "precedent" in analysis.also:
        for doc in dict.fromkeys(c.doc_id for c in chosen):
            for line in example_lines(analysis, documents.get(doc, [])):
                if (line.doc_id, line.unit.span.start) not in spans:
                    chosen.append(line)
                    spans.add((line.doc_id, line.unit.span.start))
    order = {best_doc: -1}
    for candidate in [*(c for _, c in ranked)]:
        if any(c.doc_id == candidate.doc_id for c in chosen):
            order.setdefault(candidate.doc_id, len(order))
    chosen.sort(key=lambda c: (order[c.doc_id], c.unit.span.start))
    parts: list[Part] = [Label("Plusieurs leviers ressortent des documents :")]
    current = None
    for candidate in chosen:
        if candidate.doc_id != current:
            current = candidate.doc_id
            kind = type_of(passages, candidate.passage)
            source = "le guide" if "guide" in kind else ("l'expérience" if "expérience" in kind else "le document")
            parts.append(Label(f"D'après {source} « {title_of(passages, candidate.passage)} » :", strong=True))
        parts.append(claim(candidate))
    return parts


_EXAMPLE = re.compile(r"\bl['’]exemple\b|\bexemples?\b|\bexp[ée]riences?\b", re.IGNORECASE)


def example_lines(analysis: QuestionAnalysis, units: Sequence[Candidate]) -> list[Candidate]:
    """The headings or lines of a document that name an example of the subject asked: « L'exemple de
    Mobil'Job, la plateforme mobilité d'Alès Agglomération » for « Comment monter une plateforme
    mobilité ? Des exemples ? » (two words of the question's focus at least)."""
    return [
        c for c in units if _EXAMPLE.search(c.unit.span.text) and sum(covered(t, c.words) for t in analysis.focus) >= 2
    ]


def continuation(
    analysis: QuestionAnalysis, unit: Candidate, units: Sequence[Candidate], most: int = 4
) -> list[Candidate]:
    """The units that carry on a unit in its paragraph or the next one and still speak of the question's
    focus: on a page about many subjects, the paragraph about the subject asked goes on (« Selon le CGET,
    les 2 missions principales d'une plateforme mobilité sont… »), the next subject does not."""
    ordered = sorted((c for c in units if c.unit.kind != "heading"), key=lambda c: c.unit.span.start)
    found: list[Candidate] = []
    end = unit.unit.span.end
    for candidate in ordered:
        if candidate.unit.span.start < end:
            continue
        if len(found) >= most or candidate.unit.span.start - end > 3:
            break
        if not any(covered(t, candidate.words) for t in analysis.focus) or is_title_line(candidate.unit.span.text):
            break  # the next subject, or the title of the next one
        found.append(candidate)
        end = candidate.unit.span.end
    return found


def _advice(
    analysis: QuestionAnalysis,
    units: Sequence[Candidate],
    idf: Idf,
    limit: int = 8,
    *,
    steps: bool = True,
    account: bool = False,
) -> list[Candidate]:
    """The best acting units of each section of one document (two when the section is a list or long),
    the introduction aside, in document order; with ``steps``, the headings of a method's steps and the
    rest of a short list too; with ``account`` (the document presents the thing asked), the best units of
    its describing sections too."""
    sections: dict[str, list[Candidate]] = {}
    headed = [c for c in units if c.unit.heading]
    introduction = min(headed, key=lambda c: c.unit.span.start).unit.heading if headed else ""
    if STEP.search(introduction):
        introduction = ""  # the document opens on its first step
    for candidate in units:
        unit = candidate.unit
        if unit.kind == "heading" or not unit.heading or unit.heading == introduction or unit.section in _NOT_ADVICE:
            continue
        if len(unit.span.text.split()) < 4 or unit.span.text.rstrip(" »").endswith(("?", ":")):
            continue
        if unit.kind == "sentence" and is_title_line(unit.span.text):
            continue
        sections.setdefault(unit.heading, []).append(candidate)

    def value(candidate: Candidate) -> float:
        acting = 0.3 if _ACTING.search(candidate.unit.span.text) else 0.0
        role = heading_role(candidate.unit.heading)
        return (
            coverage(analysis, candidate.words | candidate.context, idf)
            + acting
            + 0.1 * (candidate.unit.kind == "item")
            + (max(0.0, role) if account else role)
        )

    sections = {
        h: [c for c in found if coverage(analysis, c.words | c.context, idf) > 0] for h, found in sections.items()
    }
    best = []
    for found in sections.values():
        ordered = sorted(found, key=value, reverse=True)
        best += ordered[: 2 if len(found) >= 3 else 1]
    top = max((value(c) for c in best), default=0.0)
    best = [c for c in best if (account or value(c) >= 0.5 * top) and value(c) > 0.1]
    best = sorted(best, key=value, reverse=True)[:limit]
    if not steps:
        return sorted(best, key=lambda c: c.unit.span.start)
    # a step's heading says the step (« Étape 2 — Construire une offre d'engagement graduée »): it leads its units
    headings = {c.unit.span.text: c for c in units if c.unit.kind == "heading" and STEP.search(c.unit.span.text)}
    leading = {
        headings[c.unit.heading].unit.span.start: headings[c.unit.heading] for c in best if c.unit.heading in headings
    }
    # a method in steps is answered by its steps: every step's heading, when there are several
    if len(headings) >= 3:
        leading |= {c.unit.span.start: c for c in headings.values()}
    best += [c for c in list_siblings(best, units) if c not in best]
    return sorted([*best, *leading.values()], key=lambda c: c.unit.span.start)


_END = (".", "!", "…", ";", ":", "?", ")", "»")
# the label of a link on a web page (« Voir le communiqué… », « Télécharger le rapport… »)
_LINK_LABEL = re.compile(
    r"^(voir|t[ée]l[ée]charger|lire|consulter|en savoir plus|retrouver|cliquez|acc[ée]der)\b", re.IGNORECASE
)


def is_link_label(text: str) -> bool:
    """The label of a link on a web page (« Télécharger le rapport… », « Voir le communiqué… »)."""
    return bool(_LINK_LABEL.match(text.lstrip(" *_\"'")))


def is_title_line(text: str) -> bool:
    """A short line that ends like no sentence (« Séminaire du 9 juillet 2019 », « Retrouver ici le rapport
    d'étude », « Voir le communiqué de l'IRDSU… ») : a title, a date or a link's label, never a lever,
    whatever its first word looks like."""
    stripped = text.rstrip(" *_\"'")
    return (len(stripped.split()) < 10 and not stripped.endswith(_END)) or bool(_LINK_LABEL.match(stripped))


def list_siblings(chosen: Sequence[Candidate], units: Sequence[Candidate], most: int = 6) -> list[Candidate]:
    """The other items of the lists a chosen item belongs to, when the list is short (``most`` items):
    a list of indicators or of criteria answers as a whole."""
    items = sorted((c for c in units if c.unit.kind == "item"), key=lambda c: c.unit.span.start)
    runs: list[list[Candidate]] = []
    for item in items:
        if (
            runs
            and item.unit.span.start - runs[-1][-1].unit.span.end <= 6  # a line break and a marker (« ;\n- », « \n2. »)
            and item.unit.heading == runs[-1][-1].unit.heading
        ):
            runs[-1].append(item)
        else:
            runs.append([item])
    taken = {(c.doc_id, c.unit.span.start) for c in chosen}
    return [
        c
        for run in runs
        if len(run) <= most and any((c.doc_id, c.unit.span.start) in taken for c in run)
        for c in run
        if (c.doc_id, c.unit.span.start) not in taken
    ]
