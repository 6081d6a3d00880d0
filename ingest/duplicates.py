"""One document, several copies: near-duplicate detection on extracted text (MinHash, datasketch).

The same étude saved as PDF and DOCX, a file indexed twice under two names, a web page and its PDF:
their texts differ by a few characters (typography, page footers, navigation) but share almost all
their word 5-grams. A copy is indexed once: its registry record names the reference document
(``duplicate_of``) and holds no passage, so answers can never cite two copies of one text, and every
copy is listed as a location of the reference. An updated version (same title, most text shared, a
different date) is indexed in full and linked (``supersedes`` / ``superseded_by``), the newer preferred.

Each document's MinHash is stored with its registry record (:func:`fingerprint`), so a new file is
compared with the indexed ones without reading their texts again.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

from assistant.copies import DUPLICATE_OF, SUPERSEDED_BY, SUPERSEDES

NUM_PERM = 128
SHINGLE_WORDS = 5
# Copies of one text across formats score 0.9-1.0 (measured on the demo corpus and the duplicate set
# of evals/duplicates.py); related documents of one series (same template, other facts) stay below 0.5.
COPY_THRESHOLD = 0.85
VERSION_THRESHOLD = 0.4
_WORD = re.compile(r"\w+")
_FOLD = str.maketrans({"œ": "oe", "æ": "ae", "€": " eur ", "’": "'", "ʼ": "'"})

# the registry key of a document's MinHash; its value names the parameters it was computed with, so a
# change of shingle size or permutations makes old fingerprints unreadable (computed again) not wrong
FINGERPRINT = "minhash"
_SCHEME = "affine32"  # datasketch 2's hashing: 32-bit values, the same for every process
_FINGERPRINT_FORMAT = f"{_SCHEME}-{SHINGLE_WORDS}w-{NUM_PERM}p:"

__all__ = [
    "DUPLICATE_OF",
    "FINGERPRINT",
    "SUPERSEDED_BY",
    "SUPERSEDES",
    "CopyFinder",
    "Known",
    "Match",
    "MinHash",
    "fingerprint",
    "read_fingerprint",
    "signature",
]


def words(text: str) -> list[str]:
    """Lower-case words without accents: PDF and DOCX renderings of a text give the same list."""
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    return _WORD.findall("".join(c for c in folded if not unicodedata.combining(c)))


def signature(text: str) -> MinHash:
    """MinHash of the text's word 5-grams (a text shorter than that: of its words)."""
    tokens = words(text)
    shingles = {" ".join(tokens[i : i + SHINGLE_WORDS]) for i in range(max(len(tokens) - SHINGLE_WORDS + 1, 1))}
    minhash = MinHash(num_perm=NUM_PERM, seed=1, scheme=_SCHEME)
    minhash.update_batch([s.encode("utf-8") for s in shingles if s])
    return minhash


def fingerprint(minhash: MinHash) -> str:
    """The MinHash as the registry stores it: a short string (about 700 characters)."""
    return _FINGERPRINT_FORMAT + base64.b64encode(minhash.hashvalues.astype("<u4").tobytes()).decode("ascii")


def read_fingerprint(value: object) -> MinHash | None:
    """The MinHash a registry value holds; None when absent or computed with other parameters."""
    if not isinstance(value, str) or not value.startswith(_FINGERPRINT_FORMAT):
        return None
    try:
        raw = base64.b64decode(value[len(_FINGERPRINT_FORMAT) :], validate=True)
    except ValueError:
        return None
    if len(raw) != NUM_PERM * 4:
        return None
    # lean: a stored MinHash is only compared, never updated, so it needs no permutations (whose set-up
    # cost 0.3 ms each: 14 s for the 53,000 references of a 500,000-passage index)
    return LeanMinHash(seed=1, scheme=_SCHEME, hashvalues=np.frombuffer(raw, dtype="<u4"))


def _same_title(a: str, b: str) -> bool:
    return bool(a) and words(a) == words(b)


@dataclass(frozen=True)
class Known:
    """A reference document as the finder knows it."""

    doc_id: str
    minhash: MinHash
    title: str
    date: str
    source: str = ""  # its path or URL, for reports
    stamp: str = ""  # the fingerprint its registry record holds ("" for a record indexed before they were)


@dataclass(frozen=True)
class Match:
    """What a new text is to a known document: a ``copy`` of it, or another ``version`` of it."""

    kind: Literal["copy", "version"]
    doc_id: str
    similarity: float
    newer: bool = False  # for a version: the new text is the more recent one
    source: str = ""  # the known document's path or URL


class CopyFinder:
    """Reference documents indexed by MinHash LSH; ``match`` tells whether a new text copies one."""

    def __init__(self) -> None:
        # the LSH band threshold is the lowest score of interest; candidates are then scored exactly
        self._lsh = MinHashLSH(threshold=VERSION_THRESHOLD, num_perm=NUM_PERM)
        self._known: dict[str, Known] = {}

    def __contains__(self, doc_id: str) -> bool:
        return doc_id in self._known

    def known(self) -> dict[str, Known]:
        """The reference documents it holds, by doc id (a copy of its table)."""
        return dict(self._known)

    def add(self, known: Known) -> None:
        self.remove(known.doc_id)
        self._lsh.insert(known.doc_id, known.minhash)
        self._known[known.doc_id] = known

    def remove(self, doc_id: str) -> None:
        if self._known.pop(doc_id, None) is not None:
            self._lsh.remove(doc_id)

    def match(self, minhash: MinHash, *, title: str, date: str, exclude: str = "") -> Match | None:
        """The best known document this text copies, else the one it is a version of, else None.

        Two texts with the same title and different dates are versions unless they are identical
        (a re-dated copy); otherwise a score above :data:`COPY_THRESHOLD` makes a copy.
        """
        best: Match | None = None
        for doc_id in sorted(self._lsh.query(minhash)):
            if doc_id == exclude:
                continue
            known = self._known[doc_id]
            score = minhash.jaccard(known.minhash)
            dated_apart = bool(date and known.date and date != known.date)
            if _same_title(title, known.title) and dated_apart and VERSION_THRESHOLD <= score < 0.98:
                candidate = Match("version", doc_id, score, newer=date > known.date, source=known.source)
            elif score >= COPY_THRESHOLD:
                candidate = Match("copy", doc_id, score, source=known.source)
            else:
                continue
            rank = (candidate.kind == "copy", candidate.similarity)
            if best is None or rank > (best.kind == "copy", best.similarity):
                best = candidate
        return best
