"""Server mode: ``python -m assistant serve --workers N`` runs N web workers that share a Chroma server.

Each worker is one uvicorn process on its own port (``port``, ``port + 1``…), not N processes on one
socket: the interface keeps each visitor's conversation and login in the process that served them
(Gradio's session state), so the reverse proxy in front must send a visitor back to the same worker
(nginx ``ip_hash``, see the README). This process supervises them: a worker that dies is started again.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from assistant.settings import Settings

log = logging.getLogger(__name__)
RESTART_DELAY_S = 1.0


def server_mode_problem(settings: Settings, workers: int) -> str | None:
    """Why these settings cannot run ``workers`` web workers (French), or None when they can."""
    if workers > 1 and not settings.chroma.host:
        return (
            "Plusieurs processus web demandent un serveur Chroma (la base intégrée ne se partage pas entre "
            "processus) : lancez « chroma run --path DOSSIER --port 8000 » puis indiquez-le avec "
            "ASSISTANT_CHROMA__HOST=127.0.0.1 (et ASSISTANT_CHROMA__PORT)."
        )
    return None


@dataclass
class WebWorker:
    port: int
    process: subprocess.Popen | None = None
    starts: int = 0


@dataclass
class WebWorkers:
    """N ``python -m assistant serve --workers 1 --port P`` children, restarted when one dies."""

    ports: list[int]
    data_dir: Path | None = None
    workers: list[WebWorker] = field(default_factory=list)
    _stopping: bool = False

    def command(self, port: int) -> list[str]:
        command = [sys.executable, "-m", "assistant", "serve", "--workers", "1", "--port", str(port)]
        if self.data_dir is not None:
            command += ["--data-dir", str(self.data_dir)]
        return command

    def start(self) -> None:
        self.workers = [WebWorker(port) for port in self.ports]
        for worker in self.workers:
            self._spawn(worker)

    def _spawn(self, worker: WebWorker) -> None:
        worker.process = subprocess.Popen(self.command(worker.port))
        worker.starts += 1
        log.info("web worker on port %d started (pid %d)", worker.port, worker.process.pid)

    def run_until_signal(self) -> None:
        """Supervise until SIGTERM or SIGINT (main thread only), then stop the workers."""
        signal.signal(signal.SIGTERM, self._stop_signal)
        signal.signal(signal.SIGINT, self._stop_signal)
        self.supervise()

    def supervise(self, *, poll_s: float = 1.0) -> None:
        """Restart workers that die until :meth:`stop`, then stop them all."""
        try:
            while not self._stopping:
                for worker in self.workers:
                    code = worker.process.poll() if worker.process else 0
                    if code is not None and not self._stopping:
                        log.warning("web worker on port %d ended (code %s): restarting it", worker.port, code)
                        time.sleep(RESTART_DELAY_S)
                        self._spawn(worker)
                time.sleep(poll_s)
        finally:
            self.stop()

    def _stop_signal(self, signum: int, _frame: object) -> None:
        self._stopping = True

    def stop(self) -> None:
        self._stopping = True
        running = [w.process for w in self.workers if w.process is not None and w.process.poll() is None]
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def worker_ports(first: int, workers: int) -> list[int]:
    """The ports of ``workers`` web workers: ``first`` and the next ones."""
    return [first + i for i in range(workers)]
