"""Command line for accounts and API keys: ``python -m assistant users …`` and ``python -m assistant keys …``.

Passwords are typed (not echoed) or read from standard input with ``--password-stdin``
(scripts); they never appear in the command line, where ``ps`` and shell history would show them.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from dataclasses import asdict
from pathlib import Path

from assistant.accounts.roles import Role, parse_role
from assistant.accounts.store import AccountError, AccountStore


def add_subcommands(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``users`` and ``keys`` to ``python -m assistant``'s subparsers."""
    roles = ", ".join(r.value for r in Role)
    users = sub.add_parser("users", help="comptes et rôles (lecteur, contributeur, administrateur)")
    actions = users.add_subparsers(dest="action", required=True, title="actions", metavar="ACTION")
    add = actions.add_parser("add", parents=[common], help="créer un compte")
    add.add_argument("name", metavar="IDENTIFIANT")
    add.add_argument("--role", default=Role.LECTEUR.value, metavar="RÔLE", help=f"{roles} (défaut : lecteur)")
    add.add_argument("--password-stdin", action="store_true", help="lire le mot de passe sur l'entrée standard")
    listing = actions.add_parser("list", parents=[common], help="lister les comptes")
    listing.add_argument("--json", action="store_true", help="sortie JSON")
    passwd = actions.add_parser("passwd", parents=[common], help="changer le mot de passe d'un compte")
    passwd.add_argument("name", metavar="IDENTIFIANT")
    passwd.add_argument("--password-stdin", action="store_true", help="lire le mot de passe sur l'entrée standard")
    remove = actions.add_parser("remove", parents=[common], help="supprimer un compte et ses clés d'API")
    remove.add_argument("name", metavar="IDENTIFIANT")
    role = actions.add_parser("role", parents=[common], help="changer le rôle d'un compte")
    role.add_argument("name", metavar="IDENTIFIANT")
    role.add_argument("role", metavar="RÔLE", help=roles)
    usage = actions.add_parser("usage", parents=[common], help="questions, refus et avis par compte et par clé")
    usage.add_argument("--json", action="store_true", help="sortie JSON")

    keys = sub.add_parser("keys", help="clés d'API (une par outil qui appelle l'assistant)")
    key_actions = keys.add_subparsers(dest="action", required=True, title="actions", metavar="ACTION")
    create = key_actions.add_parser(
        "create", parents=[common], help="créer une clé pour un compte (affichée une seule fois)"
    )
    create.add_argument("name", metavar="IDENTIFIANT")
    create.add_argument("--label", default="", metavar="LIBELLÉ", help="à quoi sert la clé (ex. « Open WebUI »)")
    key_list = key_actions.add_parser("list", parents=[common], help="lister les clés (sans leur secret)")
    key_list.add_argument("name", nargs="?", metavar="IDENTIFIANT")
    revoke = key_actions.add_parser("revoke", parents=[common], help="révoquer une clé")
    revoke.add_argument("key_id", metavar="CLÉ", help="identifiant de la clé (colonne « clé » de keys list)")


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Mot de passe : ")
    if getpass.getpass("Confirmez le mot de passe : ") != first:
        raise AccountError("les deux mots de passe diffèrent")
    return first


def users_command(accounts: Path, args: argparse.Namespace) -> int:
    """``users add|list|passwd|remove|role|usage`` on the accounts file ``accounts``; French messages, exit code 1
    on a refused operation."""
    store = AccountStore(accounts)
    try:
        if args.action == "add":
            role = parse_role(args.role)
            account = store.add_user(args.name, _password(args), role)
            print(f"Compte « {account.name} » créé ({account.role.value}).")
        elif args.action == "list":
            accounts = store.users()
            if args.json:
                print(json.dumps([asdict(a) for a in accounts], ensure_ascii=False, indent=2))
            elif not accounts:
                print("Aucun compte : python -m assistant users add IDENTIFIANT --role administrateur")
            for account in accounts if not args.json else ():
                print(f"{account.name}\t{account.role.value}\tcréé le {account.created_at[:10]}")
        elif args.action == "passwd":
            store.set_password(args.name, _password(args))
            print(f"Mot de passe de « {args.name} » changé.")
        elif args.action == "remove":
            store.remove_user(args.name)
            print(f"Compte « {args.name} » supprimé, avec ses clés d'API.")
        elif args.action == "role":
            role = parse_role(args.role)
            store.set_role(args.name, role)
            print(f"« {args.name} » est maintenant {role.value}.")
        elif args.action == "usage":
            rows = store.usage()
            if args.json:
                print(json.dumps([asdict(u) for u in rows], ensure_ascii=False, indent=2))
                return 0
            print("compte\tcanal\tquestions\trefus\tavis")
            for u in rows:
                print(
                    f"{u.user}\t{('clé ' + u.key_id) if u.key_id else 'interface'}\t{u.questions}\t{u.refusals}\t{u.feedback}"
                )
    except (AccountError, ValueError) as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 1
    return 0


def keys_command(accounts: Path, args: argparse.Namespace, *, shortcut_user: str | None = None) -> int:
    """``keys create|list|revoke`` on the accounts file ``accounts``: a key is shown once, at its creation."""
    store = AccountStore(accounts)
    if args.action == "create":
        if store.get(args.name) is None and args.name != shortcut_user:
            print(f"✗ aucun compte « {args.name} » : créez-le d'abord (python -m assistant users add)", file=sys.stderr)
            return 1
        record, token = store.create_key(args.name, args.label)
        print(f"Clé {record.key_id} créée pour « {record.user} ». Copiez-la maintenant, elle ne sera plus affichée :")
        print(token)
    elif args.action == "list":
        for key in store.keys(args.name):
            used = key.last_used_at[:16] if key.last_used_at else "jamais utilisée"
            print(f"clé {key.key_id}\t{key.user}\t{key.label or '—'}\tcréée le {key.created_at[:10]}\t{used}")
    elif args.action == "revoke":
        if not store.revoke_key(args.key_id):
            print(f"✗ aucune clé « {args.key_id} »", file=sys.stderr)
            return 1
        print(f"Clé {args.key_id} révoquée.")
    return 0
