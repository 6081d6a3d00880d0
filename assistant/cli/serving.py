"""Command line, serving: ``serve`` (the interface, in one or several web processes) and ``stack`` (the whole
stack on one machine: Chroma, an indexer, web processes)."""

from __future__ import annotations

import argparse
import logging
import sys

from assistant.cli.locate import index_location
from assistant.factory import Services
from assistant.settings import Settings


def add_subcommands(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    serve = sub.add_parser("serve", parents=[common], help="servir l'interface (plusieurs processus web possibles)")
    serve.add_argument(
        "--workers", type=int, default=1, metavar="N", help="processus web, sur des ports consécutifs (défaut 1)"
    )
    serve.add_argument("--port", type=int, metavar="PORT", help="port du premier processus (défaut : ui.port)")
    stack = sub.add_parser(
        "stack", parents=[common], help="essai local de la pile complète : Chroma, un indexeur, des processus web"
    )
    stack.add_argument("--workers", type=int, default=2, metavar="N", help="processus web (défaut 2)")
    stack.add_argument("--port", type=int, metavar="PORT", help="port du premier processus web (défaut : ui.port)")


def _serve(services: Services, args: argparse.Namespace) -> int:
    from assistant.serving import Supervisor, server_mode_problem, web_workers, worker_ports
    from assistant.ui import PortInUse, build_ui, launch

    settings = services.settings
    logging.getLogger().setLevel(logging.INFO)
    problem = server_mode_problem(settings, args.workers)
    if problem:
        print(f"✗ {problem}", file=sys.stderr)
        return 2
    port = args.port or settings.ui.port
    if args.workers <= 1:
        try:
            launch(build_ui(services), services, port=port)
        except PortInUse as exc:
            print(f"✗ {exc}", file=sys.stderr)
            return 1
        return 0
    if settings.ingest.mode != "queue":
        logging.getLogger(__name__).warning(
            "several web workers with ingest.mode=inline: each indexes its own uploads; "
            "ASSISTANT_INGEST__MODE=queue and `python -m assistant worker` share the work instead"
        )
    ports = worker_ports(port, args.workers)
    print(
        f"{args.workers} processus web sur les ports {', '.join(map(str, ports))} · index : {index_location(settings)}"
    )
    Supervisor(web_workers(ports, args.data_dir.resolve() if args.data_dir else None)).run_until_signal()
    return 0


def stack_command(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.serving import stack

    logging.getLogger().setLevel(logging.INFO)
    port = args.port or settings.ui.port
    try:
        supervisor = stack(settings, workers=args.workers, port=port)
    except RuntimeError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 1
    print(
        f"Pile lancée : Chroma sur 127.0.0.1:{settings.chroma.port}, un indexeur, {args.workers} processus web "
        f"(http://127.0.0.1:{port}/ …) · données : {settings.data_dir.resolve()} · Ctrl+C pour tout arrêter"
    )
    supervisor.run_until_signal()
    return 0


HANDLERS = {"serve": _serve}
