"""Starting the interface: the web app on its port."""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass

import gradio as gr
import uvicorn

from assistant.accounts import open_access
from assistant.ui.about import exposed_without_auth
from assistant.ui.api_wiring import api_services
from assistant.ui.services import AppServices
from assistant.ui.web import build_web_app

log = logging.getLogger(__name__)
START_TIMEOUT_S = 30.0


class PortInUse(Exception):
    """The port is taken; the message is French and says how to choose another."""


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; raises :class:`PortInUse` when another program holds it."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        # "localhost" may resolve to ::1 first: IPv4 is what browsers and 127.0.0.1 links reach
        family, _, _, _, address = min(infos, key=lambda info: info[0] != socket.AF_INET)
        return socket.create_server(address[:2], family=family)
    except OSError as exc:
        raise PortInUse(
            f"Le port {port} est déjà utilisé sur {host} (une autre instance de l'assistant ou un autre "
            f"programme ?). Choisissez-en un autre, par exemple ASSISTANT_UI__PORT=7861 python app.py "
            f"(ou GRADIO_SERVER_PORT=7861), ou arrêtez le programme qui l'occupe. Détail : {exc.strerror or exc}"
        ) from exc


@dataclass
class RunningApp:
    """The served interface: its address and how to stop it."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread | None
    blocks: gr.Blocks

    def close(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
        self.blocks.close(verbose=False)


def launch(blocks: gr.Blocks, services: AppServices, *, port: int | None = None, block: bool = True) -> RunningApp:
    """Serve ``blocks`` with the UI settings; ``block=False`` returns once the app answers (tests).

    Raises :class:`PortInUse` when the port is taken.
    """
    ui = services.settings.ui
    if exposed_without_auth(services.settings):
        log.warning(
            "the interface listens on %s without a password: anyone who reaches this address can read and change "
            "the index; create an account (python -m assistant users add) or set ASSISTANT_UI__AUTH_USER and "
            "ASSISTANT_UI__AUTH_PASSWORD",
            ui.host,
        )
    port = port or ui.port
    sock = bind(ui.host, port)
    access = open_access(services.settings)
    app = build_web_app(
        blocks, ui, services.store, services.indexer.readable_text, access=access, api=api_services(services, access)
    )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
    shown = "127.0.0.1" if ui.host in ("0.0.0.0", "::", "") else ui.host
    url = f"http://{shown if ':' not in shown else f'[{shown}]'}:{port}/"
    running = RunningApp(url, server, None, blocks)
    if block:
        log.info("interface ready at %s", url)
        server.run(sockets=[sock])
        return running
    running.thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    running.thread.start()
    started = time.monotonic()
    while not server.started:
        if not running.thread.is_alive() or time.monotonic() - started > START_TIMEOUT_S:
            raise RuntimeError(f"the interface did not start on {url}")
        time.sleep(0.01)
    return running
