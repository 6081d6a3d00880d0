"""Accounts in a real browser: a reader sees no upload controls and is refused the upload route; conversations are
saved per user, reopened the next time and continued with their context; administrators see usage."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from ui_support import DEMO, ask, browser_fixture, free_port, ui_settings  # noqa: F401

from assistant.accounts import AccountStore, Permission, Role, open_access
from assistant.backends.embedder import CachedEmbedder
from assistant.factory import build_services
from assistant.settings import Settings
from assistant.ui import build_ui, launch
from assistant.ui.guard import guarded

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")]
DOCUMENTS = ["a-fiche-ebe-saint-aurel.md", "a-fiche-garage-solidaire-lussan.md"]
QUESTION = "Que fait l'Atelier des Forges ?"


@pytest.fixture(scope="module")
def url(
    tmp_path_factory: pytest.TempPathFactory, hashing_embedder: CachedEmbedder, embedding_cache_dir: Path
) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("team") / "data"
    services = build_services(ui_settings(data_dir, embedding_cache_dir), embedder=hashing_embedder)
    report = services.indexer.index_paths([DEMO / name for name in DOCUMENTS])
    assert not report.failed, report.summary()
    store = AccountStore(services.settings.paths.accounts)
    for name, role in (("lea", Role.LECTEUR), ("bob", Role.LECTEUR), ("alice", Role.ADMINISTRATEUR)):
        store.add_user(name, f"{name}-secret", role)
    running = launch(build_ui(services), services, port=free_port(), block=False)
    try:
        yield running.url.rstrip("/")
    finally:
        running.close()
        services.close()


def login(browser: Browser, url: str, user: str) -> Page:
    page = browser.new_context(locale="fr-FR", viewport={"width": 1440, "height": 1000}).new_page()
    page.goto(url)
    page.fill("#username", user)
    page.fill("#password", f"{user}-secret")
    page.click("button[type=submit]")
    expect(page.locator("#question textarea")).to_be_visible(timeout=30_000)
    return page


def test_a_reader_sees_no_upload_controls_and_the_server_refuses_the_upload(browser: Browser, url: str):
    page = login(browser, url, "lea")
    try:
        page.get_by_role("tab", name="Documents").click()
        expect(page.locator("#documents-table")).to_be_visible()
        for control in ("#upload", "#ingest", "#folder", "#ingest-folder", "#reindex", "#delete"):
            expect(page.locator(control)).to_be_hidden()
        expect(page.locator("#export-feedback")).to_be_hidden()
        response = page.request.post(
            url + "/gradio_api/upload",
            multipart={"files": {"name": "a.md", "mimeType": "text/markdown", "buffer": b"# A\n\nTexte.\n"}},
        )
        assert response.status == 403 and "lecteur" in response.text()
        page.get_by_role("tab", name="Réglages").click()
        expect(page.locator("#settings-view")).to_be_visible()
        expect(page.locator("#usage-view")).to_be_hidden()

        # an API key made in the interface: shown once, works with the reader's rights, then revoked
        page.locator("#api-keys").get_by_text("Mes clés d'API").click()
        page.locator("#key-label textarea, #key-label input").first.fill("Open WebUI")
        page.locator("#key-create").click()
        shown = page.locator("#key-shown textarea, #key-shown input").first
        expect(shown).to_have_value(re.compile(r"^apv_[0-9a-f]{12}_\S{40,}$"))
        token = shown.input_value()
        expect(page.locator("#key-list")).to_contain_text("Open WebUI")
        bearer = {"Authorization": f"Bearer {token}"}
        assert httpx.get(url + "/v1/models", headers=bearer).status_code == 200
        assert httpx.delete(url + "/v1/documents/x", headers=bearer).status_code == 403
        page.reload()
        page.get_by_role("tab", name="Réglages").click()
        page.locator("#api-keys").get_by_text("Mes clés d'API").click()
        expect(page.locator("#key-shown")).to_be_hidden()  # never shown again
        page.locator("#key-picker input").click()
        page.get_by_role("option", name=re.compile("Open WebUI")).click()
        page.locator("#key-revoke").click()
        expect(page.locator("#key-list")).to_contain_text("Aucune clé.")
        assert httpx.get(url + "/v1/models", headers=bearer).status_code == 401
    finally:
        page.context.close()


def test_conversations_are_saved_reopened_with_their_context_and_private(browser: Browser, url: str):
    page = login(browser, url, "lea")
    try:
        ask(page, QUESTION)
        expect(page.locator("#sources-0")).to_contain_text("Atelier des Forges")
    finally:
        page.context.close()

    # the next day: a new session, the conversation is in the list, reopened, and a follow-up keeps its context
    page = login(browser, url, "lea")
    try:
        page.locator("#conversation-picker input").click()
        option = page.get_by_role("option", name=re.compile(r"Que fait l'Atelier des Forges \? \(1 question\)"))
        option.click()
        page.locator("#conversation-reopen").click()
        expect(page.locator("#chat")).to_contain_text("Atelier des Forges")
        expect(page.locator("#sources-0")).to_be_attached()
        ask(page, "Et quel est son budget ?", turn=1)
        # alone, this question finds the garage's budget (268 500 euros)
        expect(page.locator("#chat")).to_contain_text("1 260 000 euros")
        page.locator("#conversation-picker input").click()
        expect(page.get_by_role("option", name=re.compile(r"\(2 questions\)"))).to_have_count(1)
        page.keyboard.press("Escape")
        page.locator("#conversation-title").locator("textarea, input").first.fill("Atelier des Forges")
        page.locator("#conversation-rename").click()
        expect(page.locator("#conversation-status")).to_contain_text("Conversation renommée.")
        page.locator("#conversation-export").click()
        link = page.locator("#conversation-file a[href*='atelier-des-forges.md']")
        expect(link.first).to_be_attached()
        exported = page.request.get(link.first.get_attribute("href") or "").text()
        assert "## Question 2" in exported and "1 260 000 euros" in exported and "### Sources" in exported
    finally:
        page.context.close()

    page = login(browser, url, "bob")  # another reader sees none of it
    try:
        page.locator("#conversation-picker input").click()
        expect(page.get_by_role("option")).to_have_count(0)
    finally:
        page.context.close()

    page = login(browser, url, "alice")
    try:
        page.get_by_role("tab", name="Documents").click()
        expect(page.locator("#upload")).to_be_visible()
        expect(page.locator("#delete")).to_be_visible()
        page.get_by_role("tab", name="Réglages").click()
        expect(page.locator("#usage-view")).to_contain_text(re.compile(r"lea\s+interface\s+2\s+0\s+0"))
        # an administrator manages the accounts from the page
        page.locator("#account-name input, #account-name textarea").first.fill("zoe")
        page.locator("#account-password input").fill("zoe-secret")
        page.locator("#account-create").click()
        expect(page.locator("#accounts-status")).to_contain_text("Compte « zoe » créé (lecteur).")
        page.locator("#account-picker input").click()
        page.get_by_role("option", name="zoe", exact=True).click()
        page.locator("#account-new-role input").click()
        page.get_by_role("option", name="contributeur", exact=True).click()
        page.locator("#account-change-role").click()
        expect(page.locator("#accounts-status")).to_contain_text("« zoe » est maintenant contributeur.")
        expect(page.locator("#usage-view")).to_contain_text("zoe — contributeur")
        page.locator("#account-picker input").click()
        page.get_by_role("option", name="alice", exact=True).click()
        page.locator("#account-remove").click()
        expect(page.locator("#accounts-status")).to_contain_text("Vous ne pouvez pas supprimer votre propre compte.")
    finally:
        page.context.close()


def test_a_guarded_event_refuses_a_role_without_the_permission(tmp_path: Path):
    access = open_access(Settings(data_dir=tmp_path))
    access.store.add_user("lea", "lea-secret", Role.LECTEUR)
    access.store.add_user("camille", "camille-secret", Role.CONTRIBUTEUR)
    calls = []

    def ingest(files: list[str], progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        calls.append(files)
        return "indexé"

    event = guarded(ingest, Permission.UPLOAD, access)
    assert list(__import__("inspect").signature(event).parameters) == ["request", "files", "progress"]
    with pytest.raises(gr.Error, match=r"Votre rôle \(lecteur\) ne permet pas de ajouter des documents\."):
        event(gr.Request(username="lea"), ["a.md"])
    with pytest.raises(gr.Error, match="Identifiez-vous"):
        event(gr.Request(username=None), ["a.md"])
    assert calls == []
    assert event(gr.Request(username="camille"), ["a.md"]) == "indexé" and calls == [["a.md"]]

    def remove(name: str, request: gr.Request) -> str:  # a handler that reads the request itself
        return f"{request.username} retire {name}"

    removal = guarded(remove, Permission.MANAGE_ACCOUNTS, access)
    assert list(__import__("inspect").signature(removal).parameters) == ["name", "request"]
    with pytest.raises(gr.Error, match="gérer les comptes"):
        removal("lea", gr.Request(username="camille"))
    access.store.set_role("camille", Role.ADMINISTRATEUR)
    assert removal("lea", gr.Request(username="camille")) == "camille retire lea"


def test_the_interface_events_refuse_a_reader_called_directly(url: str, tmp_path: Path):
    from gradio_client import Client, handle_file

    note = tmp_path / "note.md"
    note.write_text("# Note\n\nUn texte.\n", encoding="utf-8")
    reader = Client(url, auth=("lea", "lea-secret"), verbose=False)
    with pytest.raises(Exception, match=r"Votre rôle \(lecteur\) ne permet pas de indexer un dossier du serveur"):
        reader.predict("/tmp", api_name="/ingest_folder")
    with pytest.raises(Exception, match=r"403|ne permet pas"):  # the upload route itself refuses the file
        reader.predict([handle_file(str(note))], api_name="/ingest_uploads")
    with pytest.raises(Exception, match=r"Votre rôle \(lecteur\) ne permet pas de consulter les avis"):
        reader.predict(api_name="/export_feedback")
