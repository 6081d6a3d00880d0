"""What the browser tests share: the app on a free port over a few demo documents, headless Chromium, helpers.

Test modules import the ``browser`` fixture (as ``browser_fixture``) and ``serve_demo`` from here.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin

import pytest
from playwright.sync_api import APIResponse, Browser, Page, expect, sync_playwright

from assistant.backends.embedder import CachedEmbedder
from assistant.factory import Services, build_services
from assistant.settings import GenerationSettings, Settings, UISettings
from assistant.ui import build_ui, launch

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "corpus" / "demo"
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ui_settings(data_dir: Path, cache_dir: Path, **ui: object) -> Settings:
    """Offline answers and a 1 MB upload limit."""
    return Settings(
        data_dir=data_dir,
        cache_dir=cache_dir,
        generation=GenerationSettings(answerer="offline"),
        ui=UISettings(max_upload_mb=1, **ui),
    )


@contextmanager
def serve_demo(
    data_dir: Path, embedder: CachedEmbedder, cache_dir: Path, names: Sequence[str]
) -> Iterator[tuple[str, Services]]:
    """The app over the demo documents ``names``, answering offline: (base URL, services)."""
    with serve_paths(data_dir, embedder, cache_dir, [DEMO / name for name in names]) as served:
        yield served


@contextmanager
def serve_paths(
    data_dir: Path, embedder: CachedEmbedder, cache_dir: Path, paths: Sequence[Path]
) -> Iterator[tuple[str, Services]]:
    """The app over the files and folders ``paths``, answering offline: (base URL, services)."""
    services = build_services(ui_settings(data_dir, cache_dir), embedder=embedder)
    report = services.indexer.index_paths(paths)
    assert not report.failed, report.summary()
    running = launch(build_ui(services), services, port=free_port(), block=False)
    try:
        yield running.url.rstrip("/"), services
    finally:
        running.close()
        services.close()


@pytest.fixture(scope="module", name="browser")
def browser_fixture() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Chromium manquant : apt-get install -y chromium (fait par .ci/run)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextmanager
def chat_page(browser: Browser, url: str) -> Iterator[Page]:
    """A French browser page on the app's chat, ready for a question."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.goto(url)
    expect(page.locator("#question textarea")).to_be_visible(timeout=30_000)
    try:
        yield page
    finally:
        context.close()


def ask(page: Page, question: str, turn: int = 0, timeout_ms: int = 60_000) -> None:
    """Ask in the chat and wait for the answer's sources (group ``turn``)."""
    page.locator("#question textarea").fill(question)
    page.locator("#send").click()
    expect(page.locator(f"#sources-{turn}")).to_be_attached(timeout=timeout_ms)


def screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)


def fetch(page: Page, href: str) -> APIResponse:
    """GET a link of the page with the page's cookies (the fragment is for the browser only)."""
    return page.request.get(urljoin(page.url, href.split("#")[0]))
