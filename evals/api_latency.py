"""The same questions through the HTTP API (openai client) and through the interface's chat event (Gradio client).

``python -m evals.api_latency [--questions 50] [--cache-dir DOSSIER]``: indexes the demo corpus in a temporary
folder, starts the app on a free loopback port with a temporary reader account and API key, asks each question
of ``evals/domain/questions-dev.jsonl`` both ways (offline answers), prints p50/p95 of each and writes the first
API exchange as a transcript.
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import time
from pathlib import Path

from assistant.accounts import AccountStore, Role
from assistant.factory import build_services
from assistant.settings import ApiSettings, GenerationSettings, Settings
from assistant.ui import build_ui, launch
from evals.metrics import percentile

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = REPO / "evals" / "domain" / "questions-dev.jsonl"
MODEL = "assistant-politique-ville"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    from gradio_client import Client
    from openai import OpenAI

    parser = argparse.ArgumentParser(prog="python -m evals.api_latency", description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--cache-dir", type=Path, help="cache des vecteurs (défaut : celui des réglages)")
    parser.add_argument("--transcript", type=Path, default=Path("api-transcript.json"))
    args = parser.parse_args(argv)
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]
    questions = questions[: args.questions]
    with tempfile.TemporaryDirectory(prefix="api-latency-") as folder:
        data_dir = Path(folder) / "data"
        overrides = {"cache_dir": args.cache_dir} if args.cache_dir else {}
        settings = Settings(
            data_dir=data_dir,
            generation=GenerationSettings(answerer="offline"),
            api=ApiSettings(requests_per_minute=10_000),
            **overrides,
        )
        services = build_services(settings)
        services.indexer.index_paths([REPO / "corpus" / "demo"])
        store = AccountStore(settings.paths.accounts)
        store.add_user("mesure", "mesure-secret", Role.LECTEUR)
        _, key = store.create_key("mesure", "latence")
        running = launch(build_ui(services), services, port=_free_port(), block=False)
        try:
            api = OpenAI(base_url=running.url + "v1", api_key=key, max_retries=0, timeout=300)
            ui = Client(running.url, auth=("mesure", "mesure-secret"), verbose=False)
            api_s, ui_s = [], []
            transcript = None
            for question in questions:
                started = time.perf_counter()
                completion = api.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": question}])
                api_s.append(time.perf_counter() - started)
                if transcript is None:
                    transcript = {"question": question, "response": completion.model_dump()}
                started = time.perf_counter()
                ui.predict(question, [], None, None, [], [], [], [], [], [], api_name="/respond")
                ui_s.append(time.perf_counter() - started)
        finally:
            running.close()
            services.close()
    args.transcript.write_text(json.dumps(transcript, ensure_ascii=False, indent=2), encoding="utf-8")
    for name, times in (("API /v1/chat/completions", api_s), ("interface (événement du chat)", ui_s)):
        print(
            f"{name:32} p50 {percentile(times, 50):.2f} s  p95 {percentile(times, 95):.2f} s  ({len(times)} questions)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
