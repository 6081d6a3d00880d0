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
