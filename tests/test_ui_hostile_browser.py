"""Hostile documents in a real browser: nothing they carry runs, loads or links (Chromium, headless).

The app answers offline over documents planted with markup; a tracker server on
127.0.0.1 counts every request their payloads would make.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from loopback import LoopbackServer, serving
from playwright.sync_api import Browser, Page, expect
from ui_support import ask, browser_fixture, chat_page, serve_paths  # noqa: F401

from assistant.backends.embedder import CachedEmbedder

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")]


class _Counted(BaseHTTPRequestHandler):
    """Answers 204 to anything; the server counts the paths."""

    server: LoopbackServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.hits[self.path] += 1
        self.send_response(204)
        self.end_headers()


@pytest.fixture(scope="module")
def tracker() -> Iterator[LoopbackServer]:
    with serving(LoopbackServer(_Counted)) as server:
        yield server


def _planted_corpus(folder: Path, base: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "jardin-glycines.md").write_text(
        "---\ntitle: Fiche jardin partagé des Glycines\norganisation: Centre social des Glycines\n---\n"
        "# Le jardin partagé\n\n"
        f'Le jardin partagé des Glycines accueille quarante familles chaque samedi <img src="{base}/track-body.gif"> '
        f'et les inscriptions se font <a href="{base}/phish-login">sur le portail</a> du centre social.\n\n'
        "Les parcelles sont attribuées par tirage au sort chaque printemps.\n",
        encoding="utf-8",
    )
    (folder / "titre-piege.md").write_text(
        f'---\ntitle: "Guide <img src=\\"{base}/title.gif\\"> des permanences"\norganisation: "<b>Mairie</b>"\n---\n'
        "Les permanences du guide ont lieu le mardi matin au centre social des Acacias.\n",
        encoding="utf-8",
    )
    page = folder / "cr-comite-kervalon.html"
    page.write_text(
        "<html><head><title>Compte rendu du comité emploi de Kervalon</title></head><body><article>"
        "<h1>Compte rendu du comité emploi de Kervalon</h1>"
        "<p>Le comité emploi de Kervalon réunit chaque mois la mission locale et 12 entreprises du quartier.</p>"
        "<p>Les permanences de recrutement ont permis 40 embauches dans les commerces du centre.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    (folder / "cr-comite-kervalon.html.meta.yaml").write_text(
        f"title: Compte rendu du comité emploi de Kervalon\nurl: \"javascript:fetch('{base}/js-url')\"\n",
        encoding="utf-8",
    )
    return folder


HOSTILE_UPLOAD = """<!doctype html><html><head><title>Bilan de la ressourcerie des Tanneurs</title>
<script>window.__pwned = 1; fetch('{base}/pwned-script'); parent.__pwned = 1;</script></head>
<body><article><h1>Bilan de la ressourcerie des Tanneurs</h1>
<p>La ressourcerie des Tanneurs a collecté 32 tonnes d'objets et employé 9 salariés en insertion.</p>
<p>Elle ouvre une seconde boutique solidaire rue des Tanneurs au printemps.</p>
<img src="x" onerror="window.__pwned = 2; fetch('{base}/pwned-onerror')">
</article></body></html>"""


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory,
    hashing_embedder: CachedEmbedder,
    embedding_cache_dir: Path,
    tracker: LoopbackServer,
) -> Iterator[str]:
    folder = _planted_corpus(tmp_path_factory.mktemp("hostile") / "corpus", tracker.base)
    data_dir = tmp_path_factory.mktemp("hostile-data") / "data"
    with serve_paths(data_dir, hashing_embedder, embedding_cache_dir, [folder]) as (url, _):
        yield url


@pytest.fixture
def page(browser: Browser, app: str) -> Iterator[Page]:
    with chat_page(browser, app) as page:
        yield page


def test_markup_from_a_document_is_shown_as_text_in_the_answer(page: Page, tracker: LoopbackServer):
    ask(page, "Combien de familles accueille le jardin partagé des Glycines et comment s'inscrire ?")
    chat = page.locator("#chat")
    expect(chat).to_contain_text("quarante familles")
    expect(chat).to_contain_text('<img src="')  # the tag, as characters
    expect(chat).to_contain_text("<a href=")
    assert chat.locator("img[src*='track']").count() == 0
    assert chat.locator("a[href*='phish']").count() == 0
    page.wait_for_timeout(500)
    assert tracker.hits["/track-body.gif"] == 0


def test_titles_and_organisations_show_as_text_in_the_documents_table_and_filters(page: Page, tracker: LoopbackServer):
    page.get_by_role("tab", name="Documents").click()
    table = page.locator("#documents-table")
    expect(table).to_contain_text('Guide <img src="')
    expect(table).to_contain_text("<b>Mairie</b>")
    page.get_by_role("tab", name="Questions").click()
    page.locator("#filter-organisation input").click()
    page.get_by_role("option", name="<b>Mairie</b>").click()
    page.keyboard.press("Escape")
    expect(page.locator("#active-filters")).to_contain_text("<b>Mairie</b>")
    assert page.locator("img[src*='title.gif']").count() == 0
    page.wait_for_timeout(500)
    assert tracker.hits["/title.gif"] == 0


def test_a_javascript_url_is_not_a_link(page: Page, tracker: LoopbackServer):
    ask(page, "Combien d'entreprises réunit le comité emploi de Kervalon ?")
    card = page.locator("#sources-0 .source-card", has_text="comité emploi de Kervalon").first
    expect(card).to_be_visible()
    assert page.locator("a[href^='javascript' i]").count() == 0
    href = card.locator("a.source-open").get_attribute("href") or ""
    assert re.match(r"^/documents/[^/#]+$", href), href  # the local copy, as sanitised text
    card.locator("a.source-open").click()
    page.wait_for_timeout(500)
    assert tracker.hits["/js-url"] == 0


def test_a_hostile_html_upload_opened_from_its_card_runs_no_script(page: Page, tracker: LoopbackServer, tmp_path: Path):
    base = tracker.base
    upload = tmp_path / "bilan-ressourcerie-tanneurs.html"
    upload.write_text(HOSTILE_UPLOAD.replace("{base}", base), encoding="utf-8")
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files([upload])
    expect(page.locator("#upload")).to_contain_text("bilan-ressourcerie")
    page.locator("#ingest").click()
    expect(page.locator("#ingest-message textarea")).to_have_value(re.compile(r"Ajoutés : 1 "), timeout=60_000)
    page.get_by_role("tab", name="Questions").click()
    ask(page, "Combien de tonnes d'objets la ressourcerie des Tanneurs a-t-elle collectées ?")
    card = page.locator("#sources-0 .source-card", has_text="ressourcerie des Tanneurs").first
    with page.context.expect_page() as opened:
        card.locator("a.source-open").click()
    document = opened.value
    document.wait_for_load_state()
    expect(document.locator("body")).to_contain_text("32 tonnes")
    page.wait_for_timeout(500)
    assert document.evaluate("() => window.__pwned === undefined")
    assert page.evaluate("() => window.__pwned === undefined")
    assert tracker.hits["/pwned-script"] == 0 and tracker.hits["/pwned-onerror"] == 0
    assert document.locator("script").count() == 0 and document.locator("img").count() == 0
