"""Glossary of "politique de la ville" terms: query expansion, look-up and term spotting.

Practitioners write "ZFU-TE", "cite de l'emploi" or "quartiers prioritaires" while the documents may use
the other spelling, so `Glossary.expand_query` appends the missing acronym or expansion before retrieval.

Matching compares sequences of whole words (a dict keyed by each spelling's normalised words, longest
spelling first), so "ESS" never matches inside "ESSONNE". Accents and ligatures are dropped, apostrophes
and hyphens read as spaces: "l’ESS" and "l'ESS", "ZFU-TE" and "ZFU TE", "coeur" and "cœur" compare equal.

Case rule: a spelling written in capitals with at most three letters ("AI", "EI", "ESS", "PRE", "PIC")
matches only when typed in capitals, because once accents are dropped its lower-case form is an
everyday word or fragment ("j'ai", "pré", "pic"). Longer acronyms match in any case ("anru", "Npnru"):
the few that are also French words (PLIE, IRIS, SIRENE) rarely appear in a question about this field,
and an extra expansion costs less than a missed acronym. To accept a short acronym in lower case, list
the lower-case spelling as a synonym (e.g. "qpv").
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

logger = logging.getLogger(__name__)

_SHORT_ACRONYM_MAX_LETTERS = 3
_SEPARATORS = re.compile(r"[\s'’‘ʼ`´\-‐‑–—]+")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE"})
_ENTRY_KEYS = {
    "term",
    "expansion",
    "definition",
    "synonyms",
    "replaced_by",
    "replaced_in",
    "ends_on",
    "end_note",
    "succeeds",
}
# libyaml's loader is several times faster than the pure-Python one; both give the same result.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class GlossaryEntry:
    """A term as usually written, its expansion, a short French definition and other spellings users type."""

    term: str
    expansion: str
    definition: str
    synonyms: tuple[str, ...] = ()
    # what replaced this frame (a programme, an agency, a zoning) and the year it did: "ANCT", 2020
    replaced_by: str = ""
    replaced_in: int | None = None
    # a dispositif that closed with no successor: its last day (ISO date) and what ended, per which text
    ends_on: str = ""
    end_note: str = ""
    # former names this entry replaced, with the year (each also a synonym, for the queries): Pôle emploi, 2024
    succeeds: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class _Spelling:
    """One way of writing an entry, and what a query containing it is missing."""

    entry: GlossaryEntry
    adds_term: bool
    adds_expansion: bool


def normalise(text: str) -> str:
    """Return `text` without accents or ligatures, each run of spaces/apostrophes/hyphens as one space; case kept."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    without_accents = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SEPARATORS.sub(" ", without_accents).strip()


def _tokens(text: str) -> list[str]:
    """Split normalised `text` into words and single punctuation marks: "l'ESS, FSE+" -> l ESS , FSE +."""
    return _TOKEN.findall(normalise(text))


def _is_short_acronym(spelling: str) -> bool:
    letters = [char for char in spelling if char.isalpha()]
    return 0 < len(letters) <= _SHORT_ACRONYM_MAX_LETTERS and spelling == spelling.upper()


def _spellings_of(entry: GlossaryEntry) -> Iterable[tuple[str, _Spelling]]:
    """Yield (spelling, what it lacks): the term lacks the expansion and vice versa; a synonym written in
    words ("quartiers prioritaires") only lacks the term; any other synonym ("BPI", "abattement de TFPB")
    lacks both."""
    yield entry.term, _Spelling(entry, adds_term=False, adds_expansion=True)
    yield entry.expansion, _Spelling(entry, adds_term=True, adds_expansion=False)
    for synonym in entry.synonyms:
        words = normalise(synonym).split()
        in_words = len(words) > 1 and not any(len(word) > 1 and word.isupper() for word in words)
        yield synonym, _Spelling(entry, adds_term=True, adds_expansion=not in_words)


class Glossary:
    """Entries indexed by the token sequence of every spelling, matched longest first at each word."""

    def __init__(self, entries: Iterable[GlossaryEntry]) -> None:
        """Index `entries`; raise ValueError if two entries share a spelling (ignoring case and accents)."""
        self.entries: tuple[GlossaryEntry, ...] = tuple(entries)
        self._spelling_by_key: dict[str, _Spelling] = {}
        # Key -> the only casing accepted ("AI"), or None when any casing matches.
        self._exact_by_key: dict[str, str | None] = {}
        self._first_tokens: set[str] = set()
        self._max_tokens = 0
        for entry in self.entries:
            for spelling, role in _spellings_of(entry):
                tokens = _tokens(spelling)
                if not tokens:
                    raise ValueError(f"« {spelling} » ({entry.term}) ne contient aucun mot")
                exact = " ".join(tokens)
                key = exact.casefold()
                known = self._spelling_by_key.setdefault(key, role)
                if known.entry is not entry:
                    raise ValueError(f"« {spelling} » désigne à la fois « {known.entry.term} » et « {entry.term} »")
                # Within one entry, a lower-case spelling ("qpv") widens the capitals-only one ("QPV").
                capitals_only = _is_short_acronym(exact) and self._exact_by_key.get(key, exact) is not None
                self._exact_by_key[key] = exact if capitals_only else None
                self._first_tokens.add(tokens[0].casefold())
                self._max_tokens = max(self._max_tokens, len(tokens))

    def __len__(self) -> int:
        return len(self.entries)

    def lookup(self, term: str) -> GlossaryEntry | None:
        """Return the entry written `term` (term, expansion or synonym; any case or accents), or None."""
        spelling = self._spelling_by_key.get(" ".join(_tokens(term)).casefold())
        return spelling.entry if spelling else None

    def find_terms(self, text: str) -> list[GlossaryEntry]:
        """Return the entries mentioned in `text` as whole words, each once, in order of first mention."""
        return list(self._mentions(_tokens(text)))

    def former_names(self, text: str) -> list[GlossaryEntry]:
        """The former names ``text`` uses (« Pôle emploi »), each as an entry replaced by the one that succeeded it."""
        tokens = _tokens(text)
        found = []
        for entry in self._mentions(tokens):
            for name, year in entry.succeeds:
                if self._contains(tokens, name):
                    # an acronym says little alone: « CEJ (contrat d'engagement jeune) », but « France Travail »
                    successor = f"{entry.term} ({entry.expansion})" if len(entry.term) <= 4 else entry.term
                    found.append(GlossaryEntry(name, name, entry.definition, replaced_by=successor, replaced_in=year))
        return found

    def expand_query(self, query: str) -> str:
        """Return `query` followed by, for each entry it mentions, the missing expansion and/or term.

        An acronym brings its expansion, a spelled-out form its acronym; nothing is added twice nor when
        already in the query. "aides en ZFU-TE" -> "aides en ZFU-TE zone franche urbaine – territoire entrepreneur".
        """
        seen = _tokens(query)
        additions: list[str] = []
        for entry, spellings in self._mentions(seen).items():
            wanted = []
            if any(spelling.adds_term for spelling in spellings):
                wanted.append(entry.term)
            if any(spelling.adds_expansion for spelling in spellings):
                wanted.append(entry.expansion)
            for addition in wanted:
                if not self._contains(seen, addition):
                    additions.append(addition)
                    seen += _tokens(addition)
        if additions:
            logger.debug("Requête enrichie par le glossaire : %s", additions)
        return " ".join([query, *additions])

    def _mentions(self, tokens: list[str]) -> dict[GlossaryEntry, list[_Spelling]]:
        """Scan left to right, taking the longest spelling that starts at each word (so "ZFU TE" beats "ZFU")."""
        mentions: dict[GlossaryEntry, list[_Spelling]] = {}
        position = 0
        while position < len(tokens):
            step = 1
            if tokens[position].casefold() in self._first_tokens:
                for length in range(min(self._max_tokens, len(tokens) - position), 0, -1):
                    key = self._key_if_spelling(tokens[position : position + length])
                    if key is not None:
                        mentions.setdefault(self._spelling_by_key[key].entry, []).append(self._spelling_by_key[key])
                        step = length
                        break
            position += step
        return mentions

    def _key_if_spelling(self, window: list[str]) -> str | None:
        """Return the index key of `window` if it is a spelling of some entry written in an accepted case."""
        text = " ".join(window)
        key = text.casefold()
        return key if key in self._spelling_by_key and self._exact_by_key[key] in (None, text) else None

    def _contains(self, tokens: list[str], spelling: str) -> bool:
        needle = _tokens(spelling)
        key = " ".join(needle).casefold()
        windows = (tokens[start : start + len(needle)] for start in range(len(tokens) - len(needle) + 1))
        return any(self._key_if_spelling(window) == key for window in windows)


def load_glossary(path: Path) -> Glossary:
    """Read the YAML list of entries at `path` (term, expansion, definition, optional synonyms) into a Glossary.

    Raises ValueError naming the file, and the entry when one is malformed.
    """
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except yaml.YAMLError as error:
        raise ValueError(f"{path} : YAML illisible ({error})") from error
    if not isinstance(raw, list):
        raise ValueError(f"{path} : une liste d'entrées (- term: …) est attendue")
    entries = [_parse_entry(item, path, position) for position, item in enumerate(raw, start=1)]
    try:
        glossary = Glossary(entries)
    except ValueError as error:
        raise ValueError(f"{path} : {error}") from error
    logger.info("Glossaire chargé depuis %s : %d entrées", path, len(glossary))
    return glossary


def _parse_entry(item: object, path: Path, position: int) -> GlossaryEntry:
    if not isinstance(item, dict):
        raise ValueError(f"{path}, entrée n°{position} : un dictionnaire est attendu, pas {item!r}")
    where = f"{path}, entrée n°{position} ({item.get('term', 'sans term')})"
    unknown = set(item) - _ENTRY_KEYS
    if unknown:
        raise ValueError(f"{where} : clés inconnues {sorted(unknown)}")
    for key in ("term", "expansion", "definition"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            raise ValueError(f"{where} : « {key} » doit être un texte non vide")
    synonyms = item.get("synonyms") or []
    if not isinstance(synonyms, list) or not all(isinstance(synonym, str) and synonym.strip() for synonym in synonyms):
        raise ValueError(f"{where} : « synonyms » doit être une liste de textes non vides")
    replaced_by, replaced_in = item.get("replaced_by", ""), item.get("replaced_in")
    if not isinstance(replaced_by, str) or (replaced_by and not isinstance(replaced_in, int)):
        raise ValueError(f"{where} : « replaced_by » (texte) va avec « replaced_in » (année)")
    succeeds = item.get("succeeds") or {}
    if not isinstance(succeeds, dict) or not all(
        isinstance(name, str) and name in synonyms and isinstance(year, int) for name, year in succeeds.items()
    ):
        raise ValueError(f"{where} : « succeeds » associe à chaque ancien nom (aussi dans synonyms) son année")
    ends_on, end_note = item.get("ends_on", ""), item.get("end_note", "")
    if isinstance(ends_on, date):  # YAML reads an unquoted 2025-12-31 as a date
        ends_on = ends_on.isoformat()
    if not isinstance(ends_on, str) or not isinstance(end_note, str) or bool(ends_on) != bool(end_note):
        raise ValueError(f"{where} : « ends_on » (date AAAA-MM-JJ) va avec « end_note » (texte)")
    if ends_on and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", ends_on):
        raise ValueError(f"{where} : « ends_on » doit être une date AAAA-MM-JJ, pas {ends_on!r}")
    return GlossaryEntry(
        term=item["term"].strip(),
        expansion=item["expansion"].strip(),
        definition=item["definition"].strip(),
        synonyms=tuple(synonym.strip() for synonym in synonyms),
        replaced_by=replaced_by.strip(),
        replaced_in=replaced_in if replaced_by else None,
        ends_on=ends_on,
        end_note=end_note.strip(),
        succeeds=tuple(succeeds.items()),
    )
