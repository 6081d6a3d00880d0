"""One SQLite file opened per operation: committed on success, rolled back on error, always closed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def transaction(path: Path, *, foreign_keys: bool = False, timeout_s: float = 10) -> Iterator[sqlite3.Connection]:
    """A connection to ``path`` inside one transaction (``sqlite3``'s ``with`` commits but does not close)."""
    db = sqlite3.connect(path, timeout=timeout_s)
    if foreign_keys:
        db.execute("PRAGMA foreign_keys = ON")
    try:
        with db:
            yield db
    finally:
        db.close()


def create_database(path: Path, schema: str) -> None:
    """Create ``path`` (and its folder) with ``schema`` if missing, in WAL mode.

    Several web workers record usage on every request: in WAL mode readers never wait for a writer, and
    writers wait their turn (the connection timeout) instead of failing with « database is locked ». The mode
    is stored in the file, so it is set once here rather than on every connection.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        with db:
            db.executescript(schema)
    finally:
        db.close()
