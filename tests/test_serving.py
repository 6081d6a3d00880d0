"""Server mode's own parts: the refusal without a Chroma server, and the supervisor restarting a dead worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from assistant.serving import WebWorkers, server_mode_problem, worker_ports
from assistant.settings import Settings


class SleepingWorkers(WebWorkers):
    """Workers that only sleep: the supervision is what is tested, not the interface."""

    def command(self, port: int) -> list[str]:
        return [sys.executable, "-c", "import time; time.sleep(120)"]


def test_several_workers_need_a_chroma_server(tmp_path):
    settings = Settings(data_dir=tmp_path)
    assert server_mode_problem(settings, 1) is None
    assert "ASSISTANT_CHROMA__HOST" in server_mode_problem(settings, 2)
    settings.chroma.host = "127.0.0.1"
    assert server_mode_problem(settings, 2) is None
    assert worker_ports(7860, 3) == [7860, 7861, 7862]


def test_serve_refuses_several_workers_on_the_embedded_store_in_french(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "serve", "--workers", "2", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Plusieurs processus web demandent un serveur Chroma" in result.stderr


def test_a_web_worker_that_dies_is_started_again_and_all_stop_together():
    workers = SleepingWorkers([9001, 9002])
    workers.start()
    supervisor = threading.Thread(target=workers.supervise, kwargs={"poll_s": 0.05})
    supervisor.start()
    try:
        killed = workers.workers[0].process
        os.kill(killed.pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while workers.workers[0].starts < 2:
            assert time.monotonic() < deadline, "the dead worker was not restarted"
            time.sleep(0.05)
        assert workers.workers[0].process.pid != killed.pid
        assert workers.workers[0].process.poll() is None
        assert workers.workers[1].starts == 1
    finally:
        workers.stop()
        supervisor.join(timeout=30)
    assert all(w.process.poll() is not None for w in workers.workers)
