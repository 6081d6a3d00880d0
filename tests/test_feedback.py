"""The feedback store: ratings with their context, comments, the CSV export, older files."""

from __future__ import annotations

import csv
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assistant.feedback import CitedSource, FeedbackStore


def test_feedback_is_stored_with_its_context_and_exported_as_csv(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    first = store.record(
        rating=-1,
        question="Qui pilote ?",
        answer="Le comité. [1]",
        cited_chunk_ids=["c1", "c2"],
        cited_sources=[CitedSource(1, "Guide du pilotage", 4, "c1"), CitedSource(2, "Note d'étape", None, "c2")],
        answerer="offline",
        backend="offline · chroma local",
        now=when,
    )
    store.record(rating=1, question="Q2", answer="R2", cited_chunk_ids=[], answerer="offline", backend="b", now=when)
    assert store.set_comment(first, "Réponse incomplète, « manque » le budget")
    assert not store.set_comment(999, "rien")
    reopened = FeedbackStore(tmp_path / "feedback.sqlite3")  # durable: a new connection sees it
    entries = reopened.entries()
    assert [(e.id, e.rating, e.cited_chunk_ids) for e in entries] == [(1, -1, ("c1", "c2")), (2, 1, ())]
    with reopened.export_csv(tmp_path / "out" / "avis.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    monkeypatch.undo()
    time.tzset()
    assert rows[0] == [
        "n°",
        "date",
        "avis",
        "commentaire",
        "question",
        "réponse",
        "sources citées",
        "moteur",
        "configuration",
    ]
    assert rows[1] == [
        "1",
        "01/03/2026 09:30",
        "négatif",
        "Réponse incomplète, « manque » le budget",
        "Qui pilote ?",
        "Le comité. [1]",
        "[1] « Guide du pilotage », p. 4 (passage c1)\n[2] « Note d'étape » (passage c2)",
        "offline",
        "offline · chroma local",
    ]
    assert rows[2][2] == "positif" and rows[2][6] == ""
    with pytest.raises(ValueError):
        store.record(rating=0, question="", answer="", cited_chunk_ids=[], answerer="", backend="")


def test_feedback_written_before_sources_were_kept_still_opens_and_exports(tmp_path: Path):
    path = tmp_path / "feedback.sqlite3"
    with sqlite3.connect(path) as db:  # the schema of earlier versions, without cited_sources
        db.execute(
            "CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, rating INTEGER NOT NULL,"
            " comment TEXT NOT NULL DEFAULT '', question TEXT NOT NULL, answer TEXT NOT NULL,"
            " cited_chunk_ids TEXT NOT NULL, answerer TEXT NOT NULL, backend TEXT NOT NULL)"
        )
        db.execute(
            "INSERT INTO feedback (created_at, rating, question, answer, cited_chunk_ids, answerer, backend)"
            " VALUES ('2026-03-01T09:30:00+00:00', 1, 'Q', 'R', '[\"c9\"]', 'offline', 'b')"
        )
    db.close()
    store = FeedbackStore(path)
    store.record(
        rating=-1,
        question="Q2",
        answer="R2",
        cited_chunk_ids=["c1"],
        answerer="o",
        backend="b",
        cited_sources=[CitedSource(1, "Guide", 2, "c1")],
    )
    with store.export_csv(tmp_path / "avis.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert [r[6] for r in rows[1:]] == ["(passage c9)", "[1] « Guide », p. 2 (passage c1)"]
