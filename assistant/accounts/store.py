"""Accounts, API keys and usage counts, in SQLite in the data directory.

Passwords are hashed with argon2id (``argon2-cffi``). An API key is 256 random bits shown
once; only its SHA-256 is kept: a slow hash protects guessable passwords, a key is not
guessable, and every API request checks one. One connection per call, as Gradio and the
web server call from several threads.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from assistant.accounts.roles import Role
from assistant.sqlite_file import create_database, transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    user_name TEXT NOT NULL COLLATE NOCASE,
    secret_sha256 TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    last_used_at TEXT
);
CREATE TABLE IF NOT EXISTS usage (
    user_name TEXT NOT NULL COLLATE NOCASE,
    key_id TEXT NOT NULL DEFAULT '',
    questions INTEGER NOT NULL DEFAULT 0,
    refusals INTEGER NOT NULL DEFAULT 0,
    feedback INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_name, key_id)
);
"""
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
KEY_PREFIX = "apv"
MIN_PASSWORD = 8
USAGE_FIELDS = ("questions", "refusals", "feedback")


class AccountError(ValueError):
    """A refused account operation; the message is French."""


@dataclass(frozen=True)
class Account:
    name: str
    role: Role
    created_at: str


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    user: str
    label: str
    created_at: str
    last_used_at: str | None


@dataclass(frozen=True)
class Usage:
    """Counts for one user through one channel (``key_id`` "" is the web interface)."""

    user: str
    key_id: str
    questions: int
    refusals: int
    feedback: int


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class AccountStore:
    """Users with a role and a hashed password, their API keys, their usage counts."""

    def __init__(self, path: Path, *, hasher: PasswordHasher | None = None) -> None:
        self.path = path
        self.hasher = hasher or PasswordHasher()
        # verified when the user does not exist, so that a wrong name costs as long as a wrong password
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        create_database(path, _SCHEMA)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.path)

    # users
    def has_users(self) -> bool:
        with self._connect() as db:
            return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def add_user(self, name: str, password: str, role: Role) -> Account:
        if not USER_NAME.match(name):
            raise AccountError(f"identifiant « {name} » refusé : lettres, chiffres, « . _ @ - », 64 caractères au plus")
        self._check_password(password)
        account = Account(name, role, _now())
        try:
            with self._connect() as db:
                db.execute(
                    "INSERT INTO users (name, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
                    (name, self.hasher.hash(password), role.value, account.created_at),
                )
        except sqlite3.IntegrityError:
            raise AccountError(f"le compte « {name} » existe déjà") from None
        return account

    def users(self) -> list[Account]:
        with self._connect() as db:
            rows = db.execute("SELECT name, role, created_at FROM users ORDER BY name COLLATE NOCASE").fetchall()
        return [Account(n, Role(r), c) for n, r, c in rows]

    def get(self, name: str) -> Account | None:
        with self._connect() as db:
            row = db.execute("SELECT name, role, created_at FROM users WHERE name = ?", (name,)).fetchone()
        return Account(row[0], Role(row[1]), row[2]) if row else None

    def verify(self, name: str, password: str) -> Account | None:
        """The account when ``password`` is right; None otherwise (same work whether the user exists or not)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT name, password_hash, role, created_at FROM users WHERE name = ?", (name,)
            ).fetchone()
        stored = row[1] if row else self._dummy_hash
        try:
            self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if self.hasher.check_needs_rehash(stored):
            with self._connect() as db:
                db.execute("UPDATE users SET password_hash = ? WHERE name = ?", (self.hasher.hash(password), row[0]))
        return Account(row[0], Role(row[2]), row[3])

    def set_password(self, name: str, password: str) -> None:
        self._check_password(password)
        with self._connect() as db:
            changed = db.execute(
                "UPDATE users SET password_hash = ? WHERE name = ?", (self.hasher.hash(password), name)
            ).rowcount
        if not changed:
            raise AccountError(f"aucun compte « {name} »")

    def set_role(self, name: str, role: Role) -> None:
        with self._connect() as db:
            changed = db.execute("UPDATE users SET role = ? WHERE name = ?", (role.value, name)).rowcount
        if not changed:
            raise AccountError(f"aucun compte « {name} »")

    def remove_user(self, name: str) -> None:
        """Remove the account and its API keys (its usage counts stay, for the record)."""
        with self._connect() as db:
            changed = db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount
            db.execute("DELETE FROM api_keys WHERE user_name = ?", (name,))
        if not changed:
            raise AccountError(f"aucun compte « {name} »")

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"mot de passe trop court : {MIN_PASSWORD} caractères au moins")

    # API keys
    def create_key(self, user: str, label: str = "") -> tuple[ApiKey, str]:
        """A new key for ``user``: (its record, the key itself, to show once and never again)."""
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        record = ApiKey(key_id, user, label, _now(), None)
        with self._connect() as db:
            db.execute(
                "INSERT INTO api_keys (key_id, user_name, secret_sha256, label, created_at) VALUES (?, ?, ?, ?, ?)",
                (key_id, user, _sha256(secret), label, record.created_at),
            )
        return record, f"{KEY_PREFIX}_{key_id}_{secret}"

    def keys(self, user: str | None = None) -> list[ApiKey]:
        query = "SELECT key_id, user_name, label, created_at, last_used_at FROM api_keys"
        with self._connect() as db:
            if user is None:
                rows = db.execute(query + " ORDER BY created_at").fetchall()
            else:
                rows = db.execute(query + " WHERE user_name = ? ORDER BY created_at", (user,)).fetchall()
        return [ApiKey(*row) for row in rows]

    def revoke_key(self, key_id: str, *, user: str | None = None) -> bool:
        """Delete a key (only one of ``user``'s when given); False when there was none."""
        with self._connect() as db:
            if user is None:
                return db.execute("DELETE FROM api_keys WHERE key_id = ?", (key_id,)).rowcount > 0
            sql = "DELETE FROM api_keys WHERE key_id = ? AND user_name = ?"
            return db.execute(sql, (key_id, user)).rowcount > 0

    def key_for(self, token: str) -> ApiKey | None:
        """The key record ``token`` proves, or None (malformed, unknown, or wrong secret)."""
        parts = token.strip().split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        _, key_id, secret = parts
        with self._connect() as db:
            row = db.execute(
                "SELECT key_id, user_name, label, created_at, last_used_at, secret_sha256 FROM api_keys "
                "WHERE key_id = ?",
                (key_id,),
            ).fetchone()
            if row is None or not hmac.compare_digest(row[5], _sha256(secret)):
                return None
            db.execute("UPDATE api_keys SET last_used_at = ? WHERE key_id = ?", (_now(), key_id))
        return ApiKey(*row[:5])

    # usage
    def count(self, user: str, key_id: str = "", *, questions: int = 0, refusals: int = 0, feedback: int = 0) -> None:
        """Add to ``user``'s counts through ``key_id`` ("" for the web interface)."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO usage (user_name, key_id, questions, refusals, feedback) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (user_name, key_id) DO UPDATE SET questions = questions + excluded.questions, "
                "refusals = refusals + excluded.refusals, feedback = feedback + excluded.feedback",
                (user, key_id, questions, refusals, feedback),
            )

    def usage(self) -> list[Usage]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT user_name, key_id, questions, refusals, feedback FROM usage ORDER BY user_name, key_id"
            ).fetchall()
        return [Usage(*row) for row in rows]


def accounts_exist(path: Path) -> bool:
    """True when the accounts file ``path`` holds at least one account (read only: no file is created)."""
    if not path.is_file():
        return False
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None
    except sqlite3.Error:
        return False
    finally:
        db.close()
