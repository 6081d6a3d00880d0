"""Simulated users for ``python -m evals.load`` (run by locust, headless; loopback only).

Askers ask through ``/v1/chat/completions`` and ``/v1/search`` of one web worker each (users alternate
between workers, as a reverse proxy with sticky sessions would spread them); on a refused connection
(a worker being restarted) they retry once on the other worker, as the proxy's ``proxy_next_upstream``
does. One uploader sends the documents through ``/v1/documents``, a few files per request.

Its inputs come from environment variables set by ``evals.load``: ``LOAD_PORTS`` (web workers),
``LOAD_PLAN`` (a JSON file: API keys, questions, document files).
"""

from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path

from locust import HttpUser, between, constant, task
from locust.exception import StopUser

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text(encoding="utf-8"))
PORTS = [int(p) for p in os.environ["LOAD_PORTS"].split(",")]
_numbers = itertools.count()
_uploads = iter(PLAN["upload_batches"])


def base_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


class Asker(HttpUser):
    """Asks a question or searches, then reads the answer for a few seconds."""

    wait_time = between(PLAN["think_min_s"], PLAN["think_max_s"])
    host = base_url(PORTS[0])

    def on_start(self) -> None:
        number = next(_numbers)
        self.key = PLAN["asker_keys"][number % len(PLAN["asker_keys"])]
        self.ports = PORTS[number % len(PORTS) :] + PORTS[: number % len(PORTS)]
        self.random = random.Random(number)

    def _post(self, path: str, body: dict, name: str) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        for attempt, port in enumerate(self.ports[:2]):
            try:
                with self.client.post(
                    base_url(port) + path, json=body, headers=headers, name=name, catch_response=True, timeout=120
                ) as response:
                    if response.status_code == 0 and attempt == 0 and len(self.ports) > 1:
                        # refused (a worker restarting) or reset (a kept-alive connection the server closed):
                        # the proxy would try the next worker; counted apart
                        response.request_meta["name"] = f"{name} (connection lost, retried)"
                        response.success()
                        continue
                    if response.status_code != 200:
                        response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                    return
            except Exception:  # noqa: BLE001  # counted by locust already
                return

    @task(1)
    def ask(self) -> None:
        question = self.random.choice(PLAN["questions"])
        self._post("/v1/chat/completions", {"messages": [{"role": "user", "content": question}]}, "chat")

    @task(1)
    def search(self) -> None:
        self._post("/v1/search", {"query": self.random.choice(PLAN["questions"]), "k": 5}, "search")


class Uploader(HttpUser):
    """Uploads the planned documents, a batch per request, then stops."""

    fixed_count = 1
    wait_time = constant(PLAN["upload_interval_s"])  # within the API's per-key rate limit
    host = base_url(PORTS[0])

    @task
    def upload(self) -> None:
        batch = next(_uploads, None)
        if batch is None:
            raise StopUser()
        files = [("files", (Path(p).name, Path(p).read_bytes(), "text/plain")) for p in batch]
        headers = {"Authorization": f"Bearer {PLAN['uploader_key']}"}
        for port in PORTS:  # the uploader is no less stubborn than a person: the other worker if one is down
            with self.client.post(
                base_url(port) + "/v1/documents",
                files=files,
                headers=headers,
                name="upload",
                catch_response=True,
                timeout=120,
            ) as response:
                if response.status_code == 0 and port != PORTS[-1]:
                    response.request_meta["name"] = "upload (connection lost, retried)"
                    response.success()
                    continue
                if response.status_code != 200:
                    response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                return
