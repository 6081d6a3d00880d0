"""Saved conversations, one list per user, in SQLite in the data directory; Markdown export with sources.

Each answer is kept as it was given: its text, and each citation with its quote and the
version (content hash) of the document it cited, so a later re-index never rewrites
history. Every read and write names the user: nobody reaches another user's conversations.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from assistant.sqlite_file import create_database, transaction
from assistant.types import Answer, Citation, Turn

TITLE_CHARS = 80
_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    user_name TEXT NOT NULL COLLATE NOCASE,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_by_user ON conversations (user_name, updated_at);
CREATE TABLE IF NOT EXISTS turns (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL,
    answerer TEXT NOT NULL,
    citations TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, position)
);
"""


@dataclass(frozen=True)
class SavedCitation:
    """A citation as the user saw it, with the version of the document it came from."""

    citation: Citation
    version: str  # the cited document's content hash when the answer was given ("" if unknown)


@dataclass(frozen=True)
class SavedTurn:
    question: str
    answer: str
    refused: bool
    answerer: str
    citations: tuple[SavedCitation, ...] = ()
    created_at: str = ""

    def as_answer(self) -> Answer:
        """The saved answer as an :class:`Answer`, to show again (its passages are not kept)."""
        return Answer(
            question=self.question,
            text=self.answer,
            citations=tuple(c.citation for c in self.citations),
            refused=self.refused,
            answerer=self.answerer,
        )


@dataclass(frozen=True)
class ConversationSummary:
    id: str
    title: str
    created_at: str
    updated_at: str
    first_question: str
    turns: int


@dataclass(frozen=True)
class Conversation:
    id: str
    user: str
    title: str
    created_at: str
    updated_at: str
    turns: tuple[SavedTurn, ...] = field(default_factory=tuple)

    def history(self) -> list[Turn]:
        """The turns as the pipeline's conversation context."""
        return [Turn(t.question, t.answer) for t in self.turns]


def saved_turn(answer: Answer, versions: Mapping[str, str]) -> SavedTurn:
    """``answer`` as it will be kept; ``versions`` maps document ids to their current content hash."""
    return SavedTurn(
        question=answer.question,
        answer=answer.text,
        refused=answer.refused,
        answerer=answer.answerer,
        citations=tuple(SavedCitation(c, versions.get(c.doc_id, "")) for c in answer.citations),
        created_at=_now(),
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def title_from(question: str) -> str:
    """A conversation's default title: its first question, on one line, cut at ``TITLE_CHARS``."""
    line = " ".join(question.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


def _citations_json(citations: Sequence[SavedCitation]) -> str:
    return json.dumps([{**asdict(c.citation), "version": c.version} for c in citations], ensure_ascii=False)


def _citations_from(text: str) -> tuple[SavedCitation, ...]:
    saved = []
    for item in json.loads(text):
        version = item.pop("version", "")
        # JSON gives lists where the record holds tuples (a citation's other copies)
        item = {k: tuple(v) if isinstance(v, list) else v for k, v in item.items()}
        saved.append(SavedCitation(Citation(**item), version))
    return tuple(saved)


class ConversationStore:
    """The conversations of every user; each method takes the user whose conversations it touches."""

    def __init__(self, path: Path) -> None:
        self.path = path
        create_database(path, _SCHEMA)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.path, foreign_keys=True)

    def create(self, user: str, title: str) -> str:
        """A new, empty conversation of ``user``; returns its id."""
        conversation_id = secrets.token_hex(8)
        now = _now()
        with self._connect() as db:
            db.execute(
                "INSERT INTO conversations (id, user_name, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (conversation_id, user, title_from(title) or "Conversation", now, now),
            )
        return conversation_id

    def append(self, user: str, conversation_id: str, turn: SavedTurn) -> bool:
        """Add ``turn`` at the end of ``user``'s conversation; False when it is not theirs (or gone)."""
        with self._connect() as db:
            owned = db.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ? AND user_name = ?",
                (_now(), conversation_id, user),
            ).rowcount
            if not owned:
                return False
            (position,) = db.execute(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM turns WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()
            db.execute(
                "INSERT INTO turns (conversation_id, position, question, answer, refused, answerer, citations, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    position,
                    turn.question,
                    turn.answer,
                    int(turn.refused),
                    turn.answerer,
                    _citations_json(turn.citations),
                    turn.created_at or _now(),
                ),
            )
        return True

    def list(self, user: str) -> list[ConversationSummary]:
        """``user``'s conversations, the most recently continued first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT c.id, c.title, c.created_at, c.updated_at, "
                "(SELECT question FROM turns t WHERE t.conversation_id = c.id ORDER BY position LIMIT 1), "
                "(SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id) "
                "FROM conversations c WHERE c.user_name = ? ORDER BY c.updated_at DESC, c.rowid DESC",
                (user,),
            ).fetchall()
        return [ConversationSummary(i, t, c, u, q or "", n) for i, t, c, u, q, n in rows]

    def get(self, user: str, conversation_id: str) -> Conversation | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT id, user_name, title, created_at, updated_at FROM conversations WHERE id = ? AND user_name = ?",
                (conversation_id, user),
            ).fetchone()
            if row is None:
                return None
            turns = db.execute(
                "SELECT question, answer, refused, answerer, citations, created_at FROM turns "
                "WHERE conversation_id = ? ORDER BY position",
                (conversation_id,),
            ).fetchall()
        saved = tuple(SavedTurn(q, a, bool(r), w, _citations_from(c), t) for q, a, r, w, c, t in turns)
        return Conversation(*row, turns=saved)

    def rename(self, user: str, conversation_id: str, title: str) -> bool:
        title = " ".join(title.split())[:200]
        if not title:
            return False
        with self._connect() as db:
            sql = "UPDATE conversations SET title = ? WHERE id = ? AND user_name = ?"
            return db.execute(sql, (title, conversation_id, user)).rowcount > 0

    def delete(self, user: str, conversation_id: str) -> bool:
        with self._connect() as db:
            sql = "DELETE FROM conversations WHERE id = ? AND user_name = ?"
            return db.execute(sql, (conversation_id, user)).rowcount > 0


def conversation_markdown(conversation: Conversation) -> str:
    """The conversation as Markdown: each question and answer, then the answer's sources with their quotes."""
    lines = [f"# {conversation.title}", "", f"Conversation du {conversation.created_at[:10]}.", ""]
    for number, turn in enumerate(conversation.turns, 1):
        lines += [f"## Question {number}", "", turn.question, "", "### Réponse", "", turn.answer, ""]
        if turn.citations:
            lines += ["### Sources", ""]
        for saved in turn.citations:
            c = saved.citation
            where = f", p. {c.page}" if c.page else ""
            origin = ", ".join(x for x in (c.organisation, c.date) if x)
            version = f" — version {saved.version[:12]}" if saved.version else ""
            lines.append(f"[{c.number}] {c.title}{' (' + origin + ')' if origin else ''}{where}{version}")
            if c.url:
                lines.append(f"    {c.url}")
            quote = " ".join(c.quote.split())
            lines += [f"    > {quote}", ""]
    return "\n".join(lines).rstrip() + "\n"
