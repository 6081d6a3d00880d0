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
    # several web workers record usage on every request: in WAL mode readers never wait for a writer, and
    # writers wait their turn (timeout) instead of failing with « database is locked »
    db.execute("PRAGMA journal_mode = WAL")
    if foreign_keys:
        db.execute("PRAGMA foreign_keys = ON")
    try:
        with db:
            yield db
    finally:
        db.close()
