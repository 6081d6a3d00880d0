"""The analysed terms of a keyword base, kept beside it so a compaction never analyses its passages again.

French analysis (fold, stopwords, stem) is most of what building a keyword index costs (about 1.3 ms
per passage window against 0.3 ms for bm25s's own indexing). A compaction folds the delta into the
base: the base's passages are unchanged, so their terms are read back from here, and only the
delta's (already analysed by the writer) are new. Stored as one ``.npz``: the vocabulary, each
passage's term ids end to end, and where each passage starts. Only writers read it; readers never
load it (it is as large as the index itself).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

TERMS_FILE = "keyword-terms.npz"


@dataclass(frozen=True)
class AnalysedTerms:
    """Each base passage's terms, in the base's row order; ``fingerprint`` names the base they belong to."""

    fingerprint: str
    vocabulary: Sequence[str]
    ids: np.ndarray  # uint32, the term ids of every passage end to end
    offsets: np.ndarray  # int64, len(passages) + 1: passage i is ids[offsets[i]:offsets[i + 1]]

    @classmethod
    def of(cls, fingerprint: str, passages: Sequence[Sequence[str]]) -> AnalysedTerms:
        vocabulary: dict[str, int] = {}
        ids = np.fromiter(
            (vocabulary.setdefault(term, len(vocabulary)) for terms in passages for term in terms), dtype=np.uint32
        )
        offsets = np.zeros(len(passages) + 1, dtype=np.int64)
        np.cumsum([len(terms) for terms in passages], out=offsets[1:])
        return cls(fingerprint, list(vocabulary), ids, offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def passages(self, rows: Sequence[int]) -> list[list[str]]:
        """The terms of passages ``rows``, in that order."""
        words = np.array(self.vocabulary, dtype=object)
        return [words[self.ids[self.offsets[r] : self.offsets[r + 1]]].tolist() for r in rows]

    def all_passages(self) -> list[list[str]]:
        return self.passages(range(len(self)))

    def gather(self, fingerprint: str, rows: Sequence[int | Sequence[str]]) -> AnalysedTerms:
        """Terms of a new base: each of ``rows`` is a row of these (its ids copied, not encoded again) or a new
        passage's terms. The vocabulary only grows (a term no passage uses any more costs its few bytes)."""
        known = {term: number for number, term in enumerate(self.vocabulary)}
        pieces = []
        for row in rows:
            if isinstance(row, int | np.integer):
                pieces.append(self.ids[self.offsets[row] : self.offsets[row + 1]])
            else:
                pieces.append(
                    np.fromiter((known.setdefault(t, len(known)) for t in row), dtype=np.uint32, count=len(row))
                )
        offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
        np.cumsum([len(piece) for piece in pieces], out=offsets[1:])
        ids = np.concatenate(pieces).astype(np.uint32, copy=False) if pieces else np.zeros(0, dtype=np.uint32)
        return AnalysedTerms(fingerprint, list(known), ids, offsets)

    def save(self, directory: Path) -> None:
        vocabulary = np.frombuffer("\n".join(self.vocabulary).encode("utf-8"), dtype=np.uint8)
        fingerprint = np.frombuffer(self.fingerprint.encode("utf-8"), dtype=np.uint8)
        with (directory / TERMS_FILE).open("wb") as out:  # a file object: numpy would add its own suffix to a name
            np.savez(out, fingerprint=fingerprint, vocabulary=vocabulary, ids=self.ids, offsets=self.offsets)

    @classmethod
    def load(cls, directory: Path) -> AnalysedTerms | None:
        """The terms saved with the base in ``directory``; None when missing or unreadable (a base built before
        they were kept: its compaction reads the store instead)."""
        try:
            with np.load(directory / TERMS_FILE) as data:
                text = data["vocabulary"].tobytes().decode("utf-8")
                return cls(
                    data["fingerprint"].tobytes().decode("utf-8"),
                    text.split("\n") if text else [],
                    data["ids"],
                    data["offsets"],
                )
        except (OSError, ValueError, KeyError) as exc:
            log.info("no analysed terms beside the keyword base in %s (%s)", directory, exc)
            return None
