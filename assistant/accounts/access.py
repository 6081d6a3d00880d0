"""Who may come in and with which role: the accounts, plus the one-administrator shortcut of the settings.

Without any account and without ``ui.auth_user``/``ui.auth_password``, nobody logs in: the
app is meant for this machine only (loopback) and its single visitor, ``LOCAL_USER``, is an
administrator, as before accounts existed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from assistant.accounts.roles import Permission, Role, allows
from assistant.accounts.store import AccountStore
from assistant.settings import Settings

LOCAL_USER = "local"


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: a user, its role, and the API key used (None in the web interface)."""

    user: str
    role: Role
    key_id: str | None = None

    def may(self, permission: Permission) -> bool:
        return allows(self.role, permission)


class Access:
    """Logins and API keys checked against ``store``, and the settings' shortcut administrator."""

    def __init__(self, store: AccountStore, *, shortcut_user: str | None, shortcut_password: str | None) -> None:
        self.store = store
        self.shortcut = (shortcut_user, shortcut_password) if shortcut_user and shortcut_password else None

    def login_required(self) -> bool:
        """True once an account exists or the settings name a user and password."""
        return self.shortcut is not None or self.store.has_users()

    def authenticate(self, user: str, password: str) -> str | None:
        """The user name when the password is right (an account first, then the settings' shortcut), else None."""
        account = self.store.verify(user, password)
        if account is not None:
            return account.name
        if self.shortcut is not None and self.store.get(user) is None:
            right_user = secrets.compare_digest(user.encode(), self.shortcut[0].encode())
            right_password = secrets.compare_digest(password.encode(), self.shortcut[1].encode())
            if right_user and right_password:
                return self.shortcut[0]
        return None

    def role_of(self, user: str | None) -> Role | None:
        """The role of a logged-in ``user``; None for nobody or a removed account."""
        if user is None:
            return None
        if user == LOCAL_USER and not self.login_required():
            return Role.ADMINISTRATEUR
        account = self.store.get(user)
        if account is not None:
            return account.role
        if self.shortcut is not None and user == self.shortcut[0]:
            return Role.ADMINISTRATEUR
        return None

    def caller(self, user: str | None) -> Caller | None:
        role = self.role_of(user)
        return None if role is None or user is None else Caller(user, role)

    def key_caller(self, token: str) -> Caller | None:
        """The caller an API key proves, with the role its user has now; None for a wrong or orphaned key."""
        key = self.store.key_for(token)
        if key is None:
            return None
        role = self.role_of(key.user)
        return None if role is None else Caller(key.user, role, key.key_id)


def open_access(settings: Settings) -> Access:
    """The accounts of the settings' data directory, with the settings' one-administrator shortcut."""
    ui = settings.ui
    store = AccountStore(settings.paths.accounts)
    return Access(store, shortcut_user=ui.auth_user, shortcut_password=ui.auth_password)
