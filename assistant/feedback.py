"""Feedback on answers (👍 / 👎 and a comment), kept in SQLite in the data directory, exported as CSV.

One connection per call: Gradio runs callbacks on several threads, and a
short-lived connection is the simplest way to stay safe with sqlite3.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from assistant.french_dates import french_timestamp

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    cited_chunk_ids TEXT NOT NULL,
    answerer TEXT NOT NULL,
    backend TEXT NOT NULL,
    cited_sources TEXT NOT NULL DEFAULT '[]'
)
"""
COLUMNS = (
    "id",
    "created_at",
    "rating",
    "comment",
    "question",
    "answer",
    "cited_chunk_ids",
    "answerer",
    "backend",
    "cited_sources",
)
# the exported CSV, for people: French headers, dates, ratings, and each cited source by title and page
CSV_HEADERS = ("n°", "date", "avis", "commentaire", "question", "réponse", "sources citées", "moteur", "configuration")
RATINGS = {1: "positif", -1: "négatif"}


@dataclass(frozen=True)
class CitedSource:
    """A source cited by a rated answer, as the reader saw it: its number, document title and page."""

    number: int
    title: str
    page: int | None
    chunk_id: str

    def describe(self) -> str:
        page = f", p. {self.page}" if self.page else ""
        return f"[{self.number}] « {self.title} »{page} (passage {self.chunk_id})"


@dataclass(frozen=True)
class FeedbackEntry:
    """One rating as stored; ``rating`` is 1 (👍) or -1 (👎)."""

    id: int
    created_at: str
    rating: int
    comment: str
    question: str
    answer: str
    cited_chunk_ids: tuple[str, ...]
    answerer: str
    backend: str
    cited_sources: tuple[CitedSource, ...] = ()

    def sources_text(self) -> str:
        """The cited sources for a reader; ratings stored before sources were kept give their passage ids."""
        if self.cited_sources:
            return "\n".join(s.describe() for s in self.cited_sources)
        return "\n".join(f"(passage {chunk_id})" for chunk_id in self.cited_chunk_ids)


class FeedbackStore:
    """Ratings of answers in ``<data_dir>/feedback.sqlite3``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ready = False  # the file is created on first use: a command that never rates writes nothing

    def _prepare(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._open() as db:
            db.execute(_SCHEMA)
            known = {row[1] for row in db.execute("PRAGMA table_info(feedback)")}
            if "cited_sources" not in known:  # a file written before the sources were kept
                db.execute("ALTER TABLE feedback ADD COLUMN cited_sources TEXT NOT NULL DEFAULT '[]'")
        self._ready = True

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self._prepare()
        with self._open() as db:
            yield db

    @contextmanager
    def _open(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:  # commits, or rolls back on error
                yield db
        finally:
            db.close()

    def record(
        self,
        *,
        rating: int,
        question: str,
        answer: str,
        cited_chunk_ids: Sequence[str],
        answerer: str,
        backend: str,
        comment: str = "",
        cited_sources: Sequence[CitedSource] = (),
        now: datetime | None = None,
    ) -> int:
        """Store a rating; returns its id (to attach a comment later)."""
        if rating not in (-1, 1):
            raise ValueError(f"rating must be 1 or -1, not {rating}")
        created = (now or datetime.now(UTC)).isoformat(timespec="seconds")
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO feedback (created_at, rating, comment, question, answer, cited_chunk_ids, answerer, backend,"
                " cited_sources) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    created,
                    rating,
                    comment,
                    question,
                    answer,
                    json.dumps(list(cited_chunk_ids)),
                    answerer,
                    backend,
                    json.dumps([asdict(source) for source in cited_sources], ensure_ascii=False),
                ),
            )
            return int(cursor.lastrowid or 0)

    def set_comment(self, entry_id: int, comment: str) -> bool:
        """Attach (or replace) the comment of a stored rating; False if there is no such rating."""
        with self._connect() as db:
            return db.execute("UPDATE feedback SET comment = ? WHERE id = ?", (comment, entry_id)).rowcount == 1

    def entries(self) -> list[FeedbackEntry]:
        """All ratings, oldest first."""
        with self._connect() as db:
            rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id").fetchall()
        return [
            FeedbackEntry(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                tuple(json.loads(r[6])),
                r[7],
                r[8],
                tuple(CitedSource(**source) for source in json.loads(r[9])),
            )
            for r in rows
        ]

    def export_csv(self, path: Path) -> Path:
        """Write every rating to ``path`` (UTF-8 with BOM, so spreadsheet software reads the accents): French
        headers, local date and time, « positif » / « négatif », one line per cited source (title, page,
        passage id)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(CSV_HEADERS)
            for e in self.entries():
                writer.writerow(
                    (
                        e.id,
                        french_timestamp(e.created_at),
                        RATINGS[e.rating],
                        e.comment,
                        e.question,
                        e.answer,
                        e.sources_text(),
                        e.answerer,
                        e.backend,
                    )
                )
        return path
