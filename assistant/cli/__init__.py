"""Command line: ``python -m assistant COMMANDE``, one parser over the command families of this package (index,
answers, queue, serving, experiences) and of ``assistant.accounts.cli`` (users, keys). Output is for people, or
JSON with --json."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from assistant.accounts.cli import add_subcommands as add_account_subcommands
from assistant.accounts.cli import keys_command, users_command
from assistant.argparse_fr import french
from assistant.cli import answers, experiences, index, queue, serving
from assistant.cli.index import print_stats
from assistant.cli.locate import READS_INDEX, empty_index_help, index_exists
from assistant.factory import build_services
from assistant.settings import load_settings

FAMILIES = (index, answers, queue, serving, experiences)  # in the order of the help


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir", type=Path, metavar="DOSSIER", help="dossier de l'index (défaut : ./data ou ASSISTANT_DATA_DIR)"
    )
    common.add_argument("-v", "--verbose", action="store_true", help="journal détaillé")
    parser = argparse.ArgumentParser(
        prog="python -m assistant", description="Assistant documentaire politique de la ville"
    )
    sub = parser.add_subparsers(dest="command", required=True, title="commandes", metavar="COMMANDE")
    for family in FAMILIES:
        family.add_subcommands(sub, common)
    add_account_subcommands(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    with french():  # usage, help and errors in French
        args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    settings = load_settings(data_dir=args.data_dir)
    # accounts and keys live beside the index, which they never open
    if args.command == "users":
        return users_command(settings.paths.accounts, args)
    if args.command == "keys":
        return keys_command(settings.paths.accounts, args, shortcut_user=settings.ui.auth_user)
    if args.command == "stack":  # starts its own Chroma server: nothing to open here
        return serving.stack_command(settings, args)
    if getattr(args, "recents", False):
        settings.retrieval.recent_first = True
    if not index_exists(settings):
        if args.command == "stats":
            return print_stats(settings, {}, args)
        if args.command in READS_INDEX:
            print(empty_index_help(settings), file=sys.stderr)
            return 1
    services = build_services(settings)
    try:
        if args.command in READS_INDEX and not services.store.documents():
            print(empty_index_help(settings), file=sys.stderr)
            return 1
        handlers = {name: handler for family in FAMILIES for name, handler in family.HANDLERS.items()}
        return handlers[args.command](services, args)
    finally:
        services.close()  # stops what was started (the local model server)
