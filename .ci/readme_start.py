"""The README's install-and-start command, run as written on a fresh venv: it must serve the app and answer.

Reads the first ``bash`` block of the README's « Démarrer » section (``python3 -m venv .venv && … &&
python app.py``), runs it in the repository with the pip that ``python3 -m venv`` brings (no upgrade),
on a free port; waits until the page is served (the first start indexes the demo corpus), asks one
question through the Gradio HTTP API (``/gradio_api/call/respond``), checks that the answer cites its
sources, then stops the app. Any failure (a missing dependency, a crash, a timeout) exits non-zero with
the end of the app's log. Standard library only: it runs before anything is installed.

Usage: python3 .ci/readme_start.py [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QUESTION = "Comment renforcer le pilier développement économique du contrat de ville ?"


def readme_command() -> str:
    """The first bash block after the README's « Démarrer » heading."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("## Démarrer")
    block = re.search(r"```bash\n(.*?)\n```", text[start:], re.S)
    if block is None:
        raise SystemExit("✗ README : pas de bloc bash sous « Démarrer »")
    return block.group(1).strip()


def message_text(content: object) -> str:
    """A chat message's text: Gradio gives a string, or a list of parts such as {"type": "text", "text": …}."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(message_text(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text", ""))
    return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 10) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode("utf-8", "replace")


def ask(base: str, question: str, timeout: float) -> list:
    """One question through the app's API (the chat's ``respond``): the question, every other input at its
    default (empty chat, no filter); POST the inputs, then read the event stream to its end."""
    _, info = get(f"{base}/gradio_api/info")
    parameters = json.loads(info)["named_endpoints"]["/respond"]["parameters"]
    inputs = [question] + [p.get("parameter_default") for p in parameters[1:]]
    request = urllib.request.Request(
        f"{base}/gradio_api/call/respond",
        data=json.dumps({"data": inputs}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        event_id = json.load(response)["event_id"]
    event, last = "", None
    with urllib.request.urlopen(f"{base}/gradio_api/call/respond/{event_id}", timeout=timeout) as stream:
        for raw in stream:
            line = raw.decode("utf-8").rstrip("\n")
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: "):
                if event == "error":
                    raise RuntimeError(f"l'API a répondu par une erreur : {line}")
                last = json.loads(line[len("data: ") :])
                if event == "complete":
                    return last
    raise RuntimeError(f"flux de réponse interrompu (dernier événement : {event!r})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=1200, help="install + first start + answer, in seconds")
    args = parser.parse_args()
    command = readme_command()
    if not command.startswith("python3 -m venv .venv") or "python app.py" not in command:
        raise SystemExit(f"✗ README : commande de démarrage inattendue : {command}")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    scratch = Path(tempfile.mkdtemp(prefix="readme-start-"))
    env = {
        **os.environ,
        "ASSISTANT_UI__PORT": str(port),
        "GRADIO_SERVER_PORT": str(port),
        # as on a new machine: no index and no embedding cache (the first start embeds the demo corpus),
        # kept out of the clone
        "ASSISTANT_DATA_DIR": str(scratch / "data"),
        "ASSISTANT_CACHE_DIR": str(scratch / "cache"),
    }
    env.pop("VIRTUAL_ENV", None)
    log_file = (scratch / "app.log").open("w+", encoding="utf-8")
    print(f"README : {command}\n  (port {port}, journal {log_file.name})", flush=True)
    started = time.monotonic()
    app = subprocess.Popen(
        ["bash", "-c", command],
        cwd=REPO,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: stopped whole at the end
    )

    succeeded = False

    def fail(reason: str) -> int:
        log_file.flush()
        tail = Path(log_file.name).read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
        print(f"✗ {reason}\n--- fin du journal ---\n" + "\n".join(tail), file=sys.stderr)
        return 1

    try:
        served = None
        while time.monotonic() - started < args.timeout:
            if app.poll() is not None:
                return fail(f"la commande du README s'est arrêtée (code {app.returncode}) avant de servir la page")
            try:
                status, page = get(base + "/", timeout=5)
                if status == 200 and "gradio" in page.lower():
                    served = time.monotonic() - started
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(2)
        if served is None:
            return fail(f"page non servie après {args.timeout:.0f} s")
        print(f"✓ page servie sur {base} après {served:.0f} s (installation et premier démarrage)", flush=True)
        remaining = max(60.0, args.timeout - (time.monotonic() - started))
        try:
            chat, sources = ask(base, QUESTION, timeout=remaining)[:2]  # outputs: chat, sources, (state), question
        except (RuntimeError, urllib.error.URLError, OSError, ValueError) as exc:
            return fail(f"question sans réponse : {exc}")
        answer = message_text(chat[-1]["content"]) if chat else ""
        if not re.search(r"\\?\[\\?\[\d+\\?\]", answer) or "source-card" not in (sources or ""):
            return fail(f"réponse sans source citée : {answer[:300]!r}")
        print(f"✓ réponse citée en {time.monotonic() - started - served:.0f} s : {answer[:160]!r}…", flush=True)
        succeeded = True
        return 0
    finally:
        if app.poll() is None:
            os.killpg(app.pid, signal.SIGTERM)
            try:
                app.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(app.pid, signal.SIGKILL)
                app.wait()
        log_file.close()
        if succeeded:
            shutil.rmtree(scratch, ignore_errors=True)  # a failure keeps its index and log for a look
        print(f"application arrêtée ; durée totale {time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
