"""Server mode's own parts: the refusal without a Chroma server, and the supervisor restarting a dead worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from assistant.serving import Supervised, Supervisor, server_mode_problem, web_workers, worker_ports
from assistant.settings import Settings

SLEEP = [sys.executable, "-c", "import time; time.sleep(120)"]  # the supervision is tested, not the interface


def test_several_workers_need_a_chroma_server(tmp_path):
    settings = Settings(data_dir=tmp_path)
    assert server_mode_problem(settings, 1) is None
    assert "ASSISTANT_CHROMA__HOST" in server_mode_problem(settings, 2)
    settings.chroma.host = "127.0.0.1"
    assert server_mode_problem(settings, 2) is None
    assert worker_ports(7860, 3) == [7860, 7861, 7862]
    [web] = web_workers([7861], tmp_path)
    assert web.name == "web :7861"
    assert web.command[1:] == [
        "-m",
        "assistant",
        "serve",
        "--workers",
        "1",
        "--port",
        "7861",
        "--data-dir",
        str(tmp_path),
    ]


def test_serve_refuses_several_workers_on_the_embedded_store_in_french(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "serve", "--workers", "2", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Plusieurs processus web demandent un serveur Chroma" in result.stderr


def test_a_process_that_dies_is_started_again_and_all_stop_together():
    workers = Supervisor([Supervised("web :9001", SLEEP), Supervised("web :9002", SLEEP)])
    workers.start()
    supervisor = threading.Thread(target=workers.supervise, kwargs={"poll_s": 0.05})
    supervisor.start()
    try:
        killed = workers.processes[0].process
        os.kill(killed.pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while workers.processes[0].starts < 2:
            assert time.monotonic() < deadline, "the dead worker was not restarted"
            time.sleep(0.05)
        assert workers.processes[0].process.pid != killed.pid
        assert workers.processes[0].process.poll() is None
        assert workers.processes[1].starts == 1
    finally:
        workers.stop()
        supervisor.join(timeout=30)
    assert all(w.process.poll() is not None for w in workers.processes)
