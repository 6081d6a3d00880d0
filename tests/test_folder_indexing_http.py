"""Server-folder indexing through the app's HTTP API (the path a script would take, no browser).

The app runs on a free loopback port over an empty index, with one allowed folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from ui_support import free_port, ui_settings

from assistant.backends.embedder import CachedEmbedder
from assistant.factory import Services, build_services
from assistant.ui import build_ui, launch

pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, hashing_embedder: CachedEmbedder, embedding_cache_dir: Path
) -> Iterator[tuple[str, Services, Path]]:
    root = tmp_path_factory.mktemp("http")
    settings = ui_settings(root / "data", embedding_cache_dir)
    settings.ingest.allowed_folders = [root / "partage"]
    services = build_services(settings, embedder=hashing_embedder)
    running = launch(build_ui(services), services, port=free_port(), block=False)
    try:
        yield running.url.rstrip("/"), services, root / "partage"
    finally:
        running.close()
        services.close()


def _index_folder(base: str, folder: str) -> str:
    """Call the folder-indexing event as any HTTP client can; its first output is the message shown."""
    with httpx.Client(base_url=base, timeout=120) as client:
        event = client.post("/gradio_api/call/ingest_folder", json={"data": [folder]}).raise_for_status().json()
        stream = client.get(f"/gradio_api/call/ingest_folder/{event['event_id']}").raise_for_status().text
    assert "event: complete" in stream, stream
    data = stream.split("event: complete\ndata: ", 1)[1].split("\n", 1)[0]
    return httpx.Response(200, content=data).json()[0]


@pytest.mark.parametrize("folder", ["/etc", "/proc/self", "/"])
def test_folders_outside_the_allowed_list_are_refused_over_http(app, folder):
    base, services, _ = app
    message = _index_folder(base, folder)
    assert message.startswith(f"✗ Dossier non autorisé : « {folder} »")
    assert services.store.documents() == {}


def test_an_allowed_folder_is_indexed_without_the_link_that_leaves_it(app):
    base, services, shared = app
    (shared / "fiches").mkdir(parents=True)
    (shared / "fiches" / "fiche.md").write_text("# Fiche\n\nUne épicerie solidaire au pied des tours.\n", "utf-8")
    (shared / "fiches" / "motdepasse.txt").symlink_to("/etc/passwd")
    (shared / "fiches" / "systeme").symlink_to("/etc")
    message = _index_folder(base, f"{shared}/fiches/../fiches")
    assert message.startswith("1 lien(s) ignoré(s) : ils mènent hors des dossiers autorisés\nAjoutés : 1 ")
    assert [r.source for r in services.store.documents().values()] == [str(shared / "fiches" / "fiche.md")]
