"""Territories (pure): reading a fiche's "Territoire" section, and comparing places.

No offline package carries the official list of French territories (insee-cogpy is a
client of INSEE's online COG API), so the 18 regions are listed here and the 101
départements in ``departments``; communes, intercommunalities and QPV are read from the
text as the document names them. The region is the one the text names, else the
region of the département it names, else the document's ``region`` metadata (marked).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from assistant.experiences.departments import department_named, find_departments
from assistant.experiences.records import Evidence, FieldValue, Territory, count_inhabitants
from assistant.experiences.sections import fold
from assistant.types import Span

REGIONS = (
    "Auvergne-Rhône-Alpes",
    "Bourgogne-Franche-Comté",
    "Bretagne",
    "Centre-Val de Loire",
    "Corse",
    "Grand Est",
    "Hauts-de-France",
    "Île-de-France",
    "Normandie",
    "Nouvelle-Aquitaine",
    "Occitanie",
    "Pays de la Loire",
    "Provence-Alpes-Côte d'Azur",
    "Guadeloupe",
    "Martinique",
    "Guyane",
    "La Réunion",
    "Mayotte",
)
_REGION_ALIASES = {"paca": "Provence-Alpes-Côte d'Azur", "region sud": "Provence-Alpes-Côte d'Azur"}
_NUMBER = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+"
_INHABITANTS = re.compile(rf"({_NUMBER})\s+habitants")
_NAME = r"(?:[A-ZÀ-Þ][\w'’]*(?:-[\w'’]+)*)"
_PARTICLE = r"(?:de|du|des|la|le|les|sur|en|aux|d'|l')"
_PROPER = rf"{_NAME}(?:[ -](?:{_NAME}|{_PARTICLE}(?=[ -]?[A-ZÀ-Þ])))*"
_FICTIF = r"(?: \(fictif\))?"
# intercommunality names may join words with "et" ("Plaine et Coteaux du Lussanais")
_PROPER_ET = rf"{_NAME}(?:[ -](?:{_NAME}|(?:{_PARTICLE}|et)(?=[ -]?[A-ZÀ-Þ])))*"
_INTERCO = re.compile(
    rf"(?:(?:Communauté d'agglomération|Communauté urbaine|Communauté de communes|communauté de communes"
    rf"|communauté d'agglomération|Métropole|Établissement public territorial)(?: (?:de la|du|des|de l'|de|d'))?"
    rf" ?{_PROPER_ET}|{_PROPER}[ -](?:Agglomération|Métropole)){_FICTIF}"
)
_COMMUNE_PREFIX = re.compile(rf"(?:Commune|Ville) (?:de la |du |des |de l'|de |d')({_PROPER}{_FICTIF})")
_BARE_NAME = re.compile(rf"^{_PROPER}{_FICTIF}$")
_DEPARTMENT = re.compile(rf"[Dd]épartement (?:de la |du |des |de l'|de |d')({_PROPER})")
_QPV = re.compile(r"quartiers? prioritaires?|QPV", re.IGNORECASE)
_QPV_NAME = re.compile(rf"(?:cité (?:du|de la|des) )?{_PROPER}")
_LOWER_ARTICLE = re.compile(r"^(?:les |la |le |l'|l’)")


def _field(doc_id: str, text: str, start: int, end: int, offset: int, value: str | None = None) -> FieldValue:
    """The slice ``text[start:end]`` as a value (or ``value``, which the slice supports) with its evidence."""
    quote = text[start:end]
    return FieldValue(quote if value is None else value, Evidence(doc_id, offset + start, offset + end, quote))


def _sentence_end(text: str, start: int) -> int:
    match = re.search(r"\.(?:\s|$)", text[start:])
    return start + match.start() if match else len(text)


def _qpv_names(text: str, start: int) -> Iterator[tuple[int, int]]:
    """Names listed after "quartier(s) prioritaire(s)" at ``start``: "… : les A, B et la C" or "… du A et des B"."""
    end = _sentence_end(text, start)
    colon = text.find(":", start, end)
    listed = colon != -1 and not re.search(r"\d", text[start:colon])
    if listed:
        cursor = colon + 1
    else:
        preposition = re.match(r"\s+(?:de la |du |des |de l'|de |d')", text[start:end])
        if not preposition:
            return
        cursor = start + preposition.end()
    while cursor < end:
        rest = text[cursor:end]
        article = re.match(r"\s*(?:et )?(?:,\s*)?(?:de la |du |des |de l'|de |d'|les |la |le |l'|l’)?", rest)
        cursor += article.end() if article else 0
        name = _QPV_NAME.match(text, cursor, end)
        if not name:
            return
        yield name.start(), name.end()
        cursor = name.end()
        parenthesis = re.match(r"\s*\([^)]*\)", text[cursor:end])
        cursor += parenthesis.end() if parenthesis else 0
        # a colon list goes on after commas; "quartiers du A et des B" only after "et"
        if not re.match(r"\s*(?:,|et )" if listed else r"\s*et ", text[cursor:end]):
            return


def _top_level_segments(sentence: str) -> Iterator[tuple[int, int]]:
    """Comma-separated segments outside parentheses."""
    depth, start = 0, 0
    for i, char in enumerate(sentence):
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            yield start, i
            start = i + 1
    yield start, len(sentence)


def parse_territory(
    doc_id: str, section: Span | None, *, preamble: str = "", preamble_offset: int = 0, region: str | None = None
) -> Territory:
    """A Territory from the "Territoire" section (exact slices), the introduction for the population
    when the section gives only a neighbourhood's, and the ``region`` metadata when the text names none."""
    if section is None:
        return Territory(region=FieldValue(region) if region else None)
    text, offset = section.text, section.start
    first_end = text.find("\n\n")
    paragraph_end = first_end if first_end != -1 else len(text)

    intercos = sorted(
        ((m.start(), -m.end()) for m in _INTERCO.finditer(text, 0, paragraph_end)), key=lambda s: (s[0], s[1])
    )
    interco = _field(doc_id, text, intercos[0][0], -intercos[0][1], offset) if intercos else None

    commune = None
    if match := _COMMUNE_PREFIX.search(text, 0, paragraph_end):
        commune = _field(doc_id, text, match.start(1), match.end(1), offset)
    else:
        first_sentence = text[: _sentence_end(text, 0)]
        for start, end in _top_level_segments(first_sentence):
            piece = first_sentence[start:end]
            lead = len(piece) - len(piece.lstrip())
            name = piece.strip()
            inside_interco = any(s <= start + lead < -e for s, e in intercos)
            if _BARE_NAME.match(name) and not inside_interco and not _QPV.search(name):
                commune = _field(doc_id, text, start + lead, start + lead + len(name), offset)
                break

    department = region_value = named = None
    if match := _DEPARTMENT.search(text, 0, paragraph_end):
        department = _field(doc_id, text, match.start(1), match.end(1), offset)
        if (known := department_named(match.group(1))) is not None:
            named = (known, match.start(1), match.end(1))
    elif (named := next(find_departments(text[:paragraph_end]), None)) is not None:
        department = _field(doc_id, text, named[1], named[2], offset, value=named[0].name)
    regions = [(m.start(), m.end()) for r in REGIONS for m in re.finditer(re.escape(r), text[:paragraph_end])]
    if regions:
        region_value = _field(doc_id, text, *min(regions), offset)
    elif named is not None:  # the région of the département the text names: "Bobigny (93)" is in Île-de-France
        region_value = _field(doc_id, text, named[1], named[2], offset, value=named[0].region)
    elif region:
        region_value = FieldValue(region)

    qpv: list[FieldValue] = []
    for mention in _QPV.finditer(text, 0, paragraph_end):
        for start, end in _qpv_names(text, mention.end()):
            if text[start:end] not in {v.value for v in qpv}:
                qpv.append(_field(doc_id, text, start, end, offset))

    population = qpv_population = None
    qpv_population_in_parenthesis = False
    starts_with_qpv = bool(re.match(r"(?:Le |Les )?[Qq]uartiers? prioritaires?", text))
    for match in _INHABITANTS.finditer(text, 0, paragraph_end):
        before = text[max(0, match.start() - 20) : match.start()]
        in_sentence_one = match.start() < _sentence_end(text, 0)
        about_neighbourhood = (
            before.endswith("(") or re.search(r"soit (?:environ )?$", before) or (starts_with_qpv and in_sentence_one)
        )
        value = _field(doc_id, text, match.start(), match.end(), offset)
        if about_neighbourhood:
            if qpv_population is None:
                qpv_population, qpv_population_in_parenthesis = value, before.endswith("(")
        elif population is None and not re.search(r"(?:compte|comptent) (?:environ )?$", before):
            population = value
    if population is None and preamble:
        pattern = rf"(?:[Vv]ille|[Cc]ommune|[Aa]gglomération|[Mm]étropole)[^.]{{0,40}}? de ({_NUMBER}) habitants"
        if match := re.search(pattern, preamble):
            start, end = match.start(1), match.end(0)
            population = _field(doc_id, preamble, start, end, preamble_offset)

    if qpv_population_in_parenthesis and len(qpv) > 1:
        qpv_population = None  # the first of several neighbourhoods' populations, not theirs together
    description = _field(doc_id, text, 0, paragraph_end, offset)
    return Territory(
        commune=commune,
        intercommunality=interco,
        department=department,
        region=region_value,
        qpv=tuple(qpv),
        population=population,
        qpv_population=qpv_population,
        description=description,
    )


def canonical_region(text: str) -> str | None:
    """The official name of the region written in ``text`` (accents, case and hyphens ignored)."""
    folded = " " + re.sub(r"[^a-z0-9]+", " ", fold(text)) + " "
    for name in sorted(REGIONS, key=len, reverse=True):
        if " " + re.sub(r"[^a-z0-9]+", " ", fold(name)) + " " in folded:
            return name
    for alias, name in _REGION_ALIASES.items():
        if f" {alias} " in folded:
            return name
    return None


def inhabitants_in(text: str) -> int | None:
    """ "ville de 50 000 habitants" -> 50000."""
    match = _INHABITANTS.search(text)
    return count_inhabitants(match.group(1)) if match else None


def french_number(n: int) -> str:
    """118000 -> "118 000"."""
    return f"{n:,}".replace(",", " ")
