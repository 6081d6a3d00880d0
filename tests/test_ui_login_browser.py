"""Logging in from a real browser: the French form, a growing delay after failures, then the app."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from ui_support import DEMO, ask, browser_fixture, free_port, ui_settings  # noqa: F401

from assistant.backends.embedder import CachedEmbedder
from assistant.factory import build_services
from assistant.ui import build_ui, launch

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")]


def test_login_form_slows_down_wrong_passwords_then_opens_the_app(
    browser: Browser, tmp_path: Path, hashing_embedder: CachedEmbedder, embedding_cache_dir: Path
):
    settings = ui_settings(
        tmp_path / "data", embedding_cache_dir, auth_user="equipe", auth_password="s3cret", login_delay_s=1
    )
    services = build_services(settings, embedder=hashing_embedder)
    services.indexer.index_paths([DEMO / "a-fiche-ebe-saint-aurel.md"])
    running = launch(build_ui(services), services, port=free_port(), block=False)
    page = browser.new_page(locale="fr-FR")
    try:
        page.goto(running.url)
        assert page.url.endswith("/login")

        def submit(password: str) -> None:
            page.fill("#username", "equipe")
            page.fill("#password", password)
            page.click("button[type=submit]")

        for _ in range(3):
            submit("faux")
            expect(page.locator(".error")).to_have_text("Identifiant ou mot de passe incorrect.")
        submit("s3cret")  # right, but within the delay the third failure imposed
        expect(page.locator(".error")).to_contain_text("Trop d'essais infructueux : réessayez dans")
        page.wait_for_timeout(1_200)
        submit("s3cret")
        expect(page.locator("#question textarea")).to_be_visible(timeout=30_000)
        ask(page, "Que fait l'Atelier des Forges ?")
        href = page.locator("#sources-0 a.source-open").first.get_attribute("href") or ""
        assert href.startswith("/documents/")
        assert page.request.get(running.url.rstrip("/") + href).status == 200
    finally:
        page.context.close()
        running.close()
        services.close()
