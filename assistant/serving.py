"""Server mode: ``python -m assistant serve --workers N`` runs N web workers that share a Chroma server;
``python -m assistant stack`` starts the whole stack on this machine for a try (Chroma server, ingest
worker, web workers).

Each web worker is one uvicorn process on its own port (``port``, ``port + 1``…), not N processes on one
socket: the interface keeps each visitor's conversation and login in the process that served them
(Gradio's session state), so the reverse proxy in front must send a visitor back to the same worker
(nginx ``ip_hash``, see the README). This process supervises them: a process that dies is started again.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from assistant.settings import Settings

log = logging.getLogger(__name__)
RESTART_DELAY_S = 1.0
CHROMA_START_TIMEOUT_S = 60.0


def server_mode_problem(settings: Settings, workers: int) -> str | None:
    """Why these settings cannot run ``workers`` web workers (French), or None when they can."""
    if workers > 1 and not settings.chroma.host:
        return (
            "Plusieurs processus web demandent un serveur Chroma (la base intégrée ne se partage pas entre "
            "processus) : lancez « chroma run --path DOSSIER --port 8000 » puis indiquez-le avec "
            "ASSISTANT_CHROMA__HOST=127.0.0.1 (et ASSISTANT_CHROMA__PORT)."
        )
    return None


def worker_ports(first: int, workers: int) -> list[int]:
    """The ports of ``workers`` web workers: ``first`` and the next ones."""
    return [first + i for i in range(workers)]


@dataclass
class Supervised:
    """One process of the stack: its name in the journal, its command, and how many times it started."""

    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    starts: int = 0
    log_file: Path | None = None  # where its output goes (appended, across restarts); None: this terminal


def assistant_command(*args: str, data_dir: Path | None = None) -> list[str]:
    command = [sys.executable, "-m", "assistant", *args]
    return command + ["--data-dir", str(data_dir)] if data_dir is not None else command


def web_workers(ports: list[int], data_dir: Path | None = None) -> list[Supervised]:
    """One ``serve --workers 1 --port P`` process per port."""
    return [
        Supervised(f"web :{port}", assistant_command("serve", "--workers", "1", "--port", str(port), data_dir=data_dir))
        for port in ports
    ]


@dataclass
class Supervisor:
    """Starts processes in order and starts again any that dies, until :meth:`stop`."""

    processes: list[Supervised]
    env: Mapping[str, str] | None = None  # None: this process's environment
    _stopping: bool = field(default=False, repr=False)

    def start(self) -> None:
        for supervised in self.processes:
            self._spawn(supervised)

    def _spawn(self, supervised: Supervised) -> None:
        output = None
        if supervised.log_file is not None:
            output = supervised.log_file.open("ab")  # the child holds its own descriptor: ours is closed at once
        try:
            supervised.process = subprocess.Popen(
                supervised.command, env=self.env, stdout=output, stderr=subprocess.STDOUT if output else None
            )
        finally:
            if output is not None:
                output.close()
        supervised.starts += 1
        log.info("%s started (pid %d)", supervised.name, supervised.process.pid)

    def run_until_signal(self) -> None:
        """Supervise until SIGTERM or SIGINT (main thread only), then stop the processes."""
        signal.signal(signal.SIGTERM, self._stop_signal)
        signal.signal(signal.SIGINT, self._stop_signal)
        self.supervise()

    def supervise(self, *, poll_s: float = 1.0) -> None:
        """Start again the processes that die until :meth:`stop`, then stop them all."""
        try:
            while not self._stopping:
                for supervised in self.processes:
                    code = supervised.process.poll() if supervised.process else 0
                    if code is not None and not self._stopping:
                        log.warning("%s ended (code %s): starting it again", supervised.name, code)
                        time.sleep(RESTART_DELAY_S)
                        if not self._stopping:
                            self._spawn(supervised)
                time.sleep(poll_s)
        finally:
            self.stop()

    def _stop_signal(self, signum: int, _frame: object) -> None:
        self._stopping = True

    def stop(self) -> None:
        """Stop every process, the last started first (web workers before the Chroma server)."""
        self._stopping = True
        running = [s.process for s in reversed(self.processes) if s.process is not None and s.process.poll() is None]
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def chroma_command(path: Path, host: str, port: int) -> list[str]:
    """``chroma run`` (installed with the chromadb package, beside this Python)."""
    executable = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    return [executable, "run", "--path", str(path), "--host", host, "--port", str(port)]


def wait_for_chroma(host: str, port: int, process: subprocess.Popen, timeout_s: float = CHROMA_START_TIMEOUT_S) -> None:
    """Return once the Chroma server answers its heartbeat; raises RuntimeError (French) otherwise."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"http://{host}:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(
                f"Le serveur Chroma ne répond pas sur {host}:{port} : le port est-il libre ? "
                "Choisissez-en un autre avec ASSISTANT_CHROMA__PORT."
            )
        time.sleep(0.3)


def stack(settings: Settings, *, workers: int, port: int, log_dir: Path | None = None) -> Supervisor:
    """The whole stack on this machine, started: Chroma server (under the data folder), one ingest worker
    and ``workers`` web workers, all sharing ``settings.data_dir`` and the queue. Stop it with ``stop()``.
    With ``log_dir``, each process writes its output to a file there (``chroma.log``, ``ingest.log``…)."""
    data_dir = settings.data_dir.resolve()
    host = "127.0.0.1"
    env = {
        **os.environ,
        "ASSISTANT_DATA_DIR": str(data_dir),
        "ASSISTANT_CHROMA__HOST": host,
        "ASSISTANT_CHROMA__PORT": str(settings.chroma.port),
        "ASSISTANT_INGEST__MODE": "queue",
    }
    chroma = Supervised("chroma", chroma_command(data_dir / "chroma-server", host, settings.chroma.port))
    ingest = Supervised("ingest worker", assistant_command("worker"))
    supervisor = Supervisor([chroma, ingest, *web_workers(worker_ports(port, workers))], env=env)
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        for supervised in supervisor.processes:
            supervised.log_file = log_dir / f"{supervised.name.replace(' ', '-').replace(':', '')}.log"
    supervisor._spawn(chroma)
    try:
        wait_for_chroma(host, settings.chroma.port, chroma.process)
    except RuntimeError:
        supervisor.stop()
        raise
    for supervised in supervisor.processes[1:]:
        supervisor._spawn(supervised)
    return supervisor
