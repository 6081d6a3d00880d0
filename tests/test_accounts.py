"""Accounts in SQLite: argon2 hashes, roles, API keys shown once and stored hashed, the CLI, usage counts."""

from __future__ import annotations

import io
import sqlite3
import sys
from pathlib import Path

import pytest

from assistant.accounts import LOCAL_USER, Access, AccountError, AccountStore, Permission, Role, allows
from assistant.cli import main
from assistant.settings import Settings, UISettings
from assistant.ui.about import exposed_without_auth, settings_markdown


@pytest.fixture
def store(tmp_path: Path) -> AccountStore:
    return AccountStore(tmp_path / "accounts.sqlite3")


def test_roles_grant_what_the_issue_lists():
    assert allows(Role.LECTEUR, Permission.ASK) and allows(Role.LECTEUR, Permission.FEEDBACK)
    assert not allows(Role.LECTEUR, Permission.UPLOAD)
    assert allows(Role.CONTRIBUTEUR, Permission.UPLOAD) and allows(Role.CONTRIBUTEUR, Permission.REINDEX)
    assert not allows(Role.CONTRIBUTEUR, Permission.DELETE) and not allows(Role.CONTRIBUTEUR, Permission.SEE_USAGE)
    assert all(allows(Role.ADMINISTRATEUR, p) for p in Permission)
    assert not allows(None, Permission.ASK)


def test_passwords_are_stored_as_argon2_hashes_and_checked(store: AccountStore):
    store.add_user("camille", "motdepasse-1", Role.CONTRIBUTEUR)
    with sqlite3.connect(store.path) as db:
        (stored,) = db.execute("SELECT password_hash FROM users").fetchone()
    assert stored.startswith("$argon2id$") and "motdepasse-1" not in stored
    assert store.verify("camille", "motdepasse-1").role is Role.CONTRIBUTEUR
    assert store.verify("Camille", "motdepasse-1").name == "camille"  # names ignore case
    assert store.verify("camille", "motdepasse-2") is None
    assert store.verify("personne", "motdepasse-1") is None
    with pytest.raises(AccountError, match="existe déjà"):
        store.add_user("CAMILLE", "autre-mot-de-passe", Role.LECTEUR)
    with pytest.raises(AccountError, match="trop court"):
        store.add_user("dominique", "court", Role.LECTEUR)
    store.set_password("camille", "nouveau-secret")
    assert store.verify("camille", "motdepasse-1") is None and store.verify("camille", "nouveau-secret")
    store.set_role("camille", Role.LECTEUR)
    assert store.get("camille").role is Role.LECTEUR


def test_api_keys_are_shown_once_stored_hashed_and_die_with_their_account(store: AccountStore):
    store.add_user("outil", "motdepasse-1", Role.LECTEUR)
    record, token = store.create_key("outil", "Open WebUI")
    with sqlite3.connect(store.path) as db:
        (kept,) = db.execute("SELECT secret_sha256 FROM api_keys").fetchone()
    assert token.startswith(f"apv_{record.key_id}_") and token.split("_", 2)[2] not in kept
    assert store.key_for(token).user == "outil"
    assert store.key_for(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert store.key_for("apv_" + record.key_id) is None and store.key_for("Bearer n'importe quoi") is None
    assert store.keys("outil")[0].last_used_at is not None
    store.remove_user("outil")
    assert store.key_for(token) is None


def test_access_without_accounts_is_the_local_administrator_and_the_shortcut_is_an_administrator(
    store: AccountStore,
):
    open_access = Access(store, shortcut_user=None, shortcut_password=None)
    assert not open_access.login_required() and open_access.role_of(LOCAL_USER) is Role.ADMINISTRATEUR
    shortcut = Access(store, shortcut_user="equipe", shortcut_password="s3cret")
    assert shortcut.login_required() and shortcut.role_of(LOCAL_USER) is None
    assert shortcut.authenticate("equipe", "s3cret") == "equipe" and shortcut.role_of("equipe") is Role.ADMINISTRATEUR
    assert shortcut.authenticate("equipe", "faux") is None
    store.add_user("lea", "motdepasse-1", Role.LECTEUR)
    assert open_access.login_required() and open_access.role_of(LOCAL_USER) is None
    assert open_access.authenticate("lea", "motdepasse-1") == "lea" and open_access.role_of("lea") is Role.LECTEUR


@pytest.mark.slow  # 22-38 s measured on a busy 2-core machine: many CLI commands in one test
def test_cli_manages_accounts_keys_and_usage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    data = ["--data-dir", str(tmp_path / "data")]
    monkeypatch.setattr(sys, "stdin", io.StringIO("motdepasse-1\n"))
    assert main(["users", "add", "camille", "--role", "contributeur", "--password-stdin", *data]) == 0
    assert "Compte « camille » créé (contributeur)" in capsys.readouterr().out
    assert main(["users", "role", "camille", "chef", *data]) == 1
    assert "rôle inconnu « chef »" in capsys.readouterr().err
    assert main(["users", "role", "camille", "administrateur", *data]) == 0
    assert main(["users", "list", *data]) == 0
    assert "camille\tadministrateur" in capsys.readouterr().out
    assert main(["keys", "create", "camille", "--label", "script", *data]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    store = AccountStore(Settings(data_dir=tmp_path / "data").paths.accounts)
    assert store.key_for(token).user == "camille"
    assert main(["keys", "create", "personne", *data]) == 1
    store.count("camille", "", questions=2, refusals=1)
    assert main(["users", "usage", *data]) == 0
    assert "camille\tinterface\t2\t1\t0" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.StringIO("nouveau-secret\n"))
    assert main(["users", "passwd", "camille", "--password-stdin", *data]) == 0
    assert store.verify("camille", "nouveau-secret") is not None
    assert main(["users", "remove", "camille", *data]) == 0
    assert store.get("camille") is None and store.key_for(token) is None


def test_accounts_protect_an_interface_listening_on_the_network(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, ui=UISettings(host="0.0.0.0"))
    assert exposed_without_auth(settings) and "accès protégé : non" in settings_markdown(settings, "offline", {})
    assert not settings.paths.accounts.exists()  # checking creates nothing
    AccountStore(settings.paths.accounts).add_user("alice", "alice-secret", Role.ADMINISTRATEUR)
    assert not exposed_without_auth(settings)
    assert "accès protégé : oui (comptes et rôles)" in settings_markdown(settings, "offline", {})
