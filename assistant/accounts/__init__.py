"""Accounts with roles, API keys and usage counts (SQLite in the data directory)."""

from assistant.accounts.access import LOCAL_USER, Access, Caller, open_access
from assistant.accounts.roles import Permission, Role, allows, parse_role, refusal
from assistant.accounts.store import Account, AccountError, AccountStore, ApiKey, Usage

__all__ = [
    "LOCAL_USER",
    "Access",
    "Account",
    "AccountError",
    "AccountStore",
    "ApiKey",
    "Caller",
    "Permission",
    "Role",
    "Usage",
    "allows",
    "open_access",
    "parse_role",
    "refusal",
]
