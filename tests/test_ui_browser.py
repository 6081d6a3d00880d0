"""The web interface in a real browser (Debian's Chromium, headless) over a small real index.

The app runs in this process on a free port, with the offline answerer and a 1 MB
upload limit; screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from files import write_docx, write_docx_bomb, write_pdf
from playwright.sync_api import Browser, Locator, Page, expect
from ui_support import DEMO, browser_fixture, fetch, free_port, screenshot, serve_demo, ui_settings  # noqa: F401

from assistant.backends.embedder import CachedEmbedder
from assistant.factory import Services, build_services
from assistant.ui import build_ui, launch
from assistant.ui.document_view import document_link

DEMO_SUBSET = [
    "a-dossier-gouvernance-pilier-economique-valbrune.md",
    "a-dossier-partenaires-pilier-saint-aurel.md",
    "a-fiche-ebe-saint-aurel.md",
    "a-fiche-garage-solidaire-lussan.md",
    "b-dossier-mecenat-entreprises-hautefort.pdf",
    "b-fiche-chantier-insertion-sainte-gemme.docx",
]
PILIER = "Comment renforcer le pilier développement économique du contrat de ville ?"
ANSWER_TIMEOUT_MS = 60_000

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")]


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, hashing_embedder: CachedEmbedder, embedding_cache_dir: Path
) -> Iterator:
    """The app on a six-document index, answering offline; yields (base URL, services)."""
    with serve_demo(
        tmp_path_factory.mktemp("ui") / "data", hashing_embedder, embedding_cache_dir, DEMO_SUBSET
    ) as served:
        yield served


@pytest.fixture
def page(browser: Browser, app) -> Iterator[Page]:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.goto(app[0])
    expect(page.locator("#question textarea")).to_be_visible(timeout=30_000)
    yield page
    context.close()


def _ask(page: Page, question: str, turn: int = 0) -> None:
    page.locator("#question textarea").fill(question)
    page.locator("#send").click()
    expect(page.locator(f"#sources-{turn}")).to_be_attached(timeout=ANSWER_TIMEOUT_MS)


def _card_titles(page: Page, turn: int) -> list[str]:
    return page.locator(f"#sources-{turn} .source-title").all_inner_texts()


def _open_first_source(page: Page, turn: int = 0) -> Locator:
    """Click the answer's first ``[1]`` marker; its source card opens and is highlighted."""
    marker = page.locator(f"#chat a[href='#source-{turn}-1']").first
    expect(marker).to_have_text("[1]")
    marker.click()
    card = page.locator(f"#source-{turn}-1")
    expect(card).to_have_class(re.compile(r"\bactive\b"))
    return card


def test_answer_streams_and_a_citation_opens_its_source_card(page: Page):
    _ask(page, PILIER)
    card = _open_first_source(page)
    expect(card.locator(".source-title")).to_contain_text("Piloter le volet emploi et développement économique")
    quote = card.locator(".source-quote mark")
    expect(quote).not_to_be_empty()
    assert len(quote.inner_text()) > 40
    link = card.locator("a.source-open")
    href = link.get_attribute("href") or ""
    assert href.startswith("/documents/")
    served = fetch(page, href)
    assert served.status == 200 and "Piloter le volet" in served.text()
    assert "title:" not in served.text()  # a Markdown source opens without its YAML header

    # a follow-up keeps the conversation: its sources open on top, the first answer's fold below
    _ask(page, "Et quels partenaires associer ?", turn=1)
    expect(page.locator("#sources-0")).not_to_have_attribute("open", "")
    page.locator("#chat a[href='#source-1-1']").first.click()
    expect(page.locator("#source-1-1")).to_have_class(re.compile(r"\bactive\b"))
    screenshot(page, "chat.png")
    page.locator("#new-chat").click()
    expect(page.locator("#sources .source-card")).to_have_count(0)


def test_pdf_citation_links_to_its_page(page: Page):
    _ask(page, "Comment mobiliser le mécénat des entreprises pour les quartiers ?")
    links = page.locator("#sources-0 a.source-open").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    pdf = [h for h in links if "#page=" in h]
    assert pdf and re.search(r"^/documents/[^/#]+#page=\d+$", pdf[0]), links
    served = fetch(page, pdf[0])
    assert served.status == 200 and served.headers["content-type"] == "application/pdf"


# asked before the tests below change the index (one of them removes the garage fiche)
def test_precedent_question_names_territory_and_partners_with_working_citations(page: Page):
    _ask(page, "Y a-t-il un exemple de garage solidaire en milieu rural, et avec quels partenaires ?")
    chat = page.locator("#chat")
    expect(chat).to_contain_text("Lussan-la-Plaine")
    expect(chat).to_contain_text("Partenaires :")
    expect(chat).to_contain_text("Auto-école Cap Conduite (fictif), partenaire pour le permis")
    card = _open_first_source(page)
    expect(card.locator(".source-title")).to_contain_text("Garage solidaire de la Plaine")
    expect(card.locator(".source-quote")).to_contain_text("Auto-école Cap Conduite")
    screenshot(page, "precedent-answer.png")


def test_filter_changes_the_sources_and_is_shown_as_active(page: Page, app):
    _ask(page, PILIER)
    unfiltered = set(_card_titles(page, 0))
    services: Services = app[1]
    organisations = {r.metadata["organisation"] for r in services.store.documents().values()}
    target = next(o for o in sorted(organisations) if "Grand Est" in o)  # Saint-Aurel's documents
    page.locator("#filter-organisation input").click()
    page.get_by_role("option", name=target).click()
    page.keyboard.press("Escape")
    expect(page.locator("#active-filters")).to_contain_text(f"Organisation : {target}")
    _ask(page, PILIER, turn=1)
    facts = page.locator("#sources-1 .source-facts").all_inner_texts()
    assert facts and all(target in f for f in facts), facts
    assert set(_card_titles(page, 1)) != unfiltered


def test_uploaded_docx_and_pdf_are_indexed_with_progress_then_answer(page: Page, tmp_path: Path, app):
    docx_path = write_docx(
        tmp_path / "fiche-tiers-lieu-zephyrine.docx",
        [
            ("h1", "Le tiers-lieu Zéphyrine à Kervalon"),
            (
                "p",
                "Le tiers-lieu Zéphyrine accueille chaque semaine quarante porteurs de projet du quartier des Glycines.",
            ),
            ("p", "Son atelier de réparation de vélos a créé six emplois en insertion depuis son ouverture."),
        ],
        title="Fiche expérience : le tiers-lieu Zéphyrine",
    )
    pdf_path = write_pdf(
        tmp_path / "bilan-zephyrine.pdf",
        [
            "Bilan financier du tiers-lieu Zephyrine.",
            "Le budget annuel du tiers-lieu Zephyrine est de 180 000 euros, finance par la commune et la region.",
        ],
        title="Bilan du tiers-lieu Zephyrine",
    )
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files([docx_path, pdf_path])
    expect(page.locator("#upload")).to_contain_text("bilan-zephyrine")
    page.evaluate(
        """() => { window.__progress = [];
        new MutationObserver(() => { const t = document.querySelector('#ingest-message').innerText;
          if (t.includes('Calcul des vecteurs')) window.__progress.push(t); })
        .observe(document.querySelector('#ingest-message'), {subtree: true, childList: true, characterData: true}); }"""
    )
    page.locator("#ingest").click()
    message = page.locator("#ingest-message textarea")
    expect(message).to_have_value(re.compile(r"Ajoutés : 2 "), timeout=ANSWER_TIMEOUT_MS)
    assert page.evaluate("window.__progress.length") > 0, "no progress bar was shown"
    expect(page.locator("#documents-table")).to_contain_text("Fiche expérience : le tiers-lieu Zéphyrine")
    expect(page.locator("#documents-table")).to_contain_text("Bilan du tiers-lieu Zephyrine")
    uploads = app[1].settings.data_dir / "uploads"
    stored = {re.sub(r"-[0-9a-f]{10}(?=\.)", "", p.name) for p in uploads.iterdir()}  # readable name + hash
    assert {"bilan-zephyrine.pdf", "fiche-tiers-lieu-zephyrine.docx"} <= stored
    screenshot(page, "documents.png")
    page.locator("#doc-search input, #doc-search textarea").first.fill("zephyrine bilan")
    expect(page.locator("#documents-table tbody tr")).to_have_count(1)

    page.get_by_role("tab", name="Questions").click()
    _ask(page, "Quel est le budget annuel du tiers-lieu Zephyrine ?")
    assert "Bilan du tiers-lieu Zephyrine" in _card_titles(page, 0)
    expect(page.locator("#chat")).to_contain_text("180 000 euros")


def test_dislike_with_comment_is_found_in_the_exported_csv(page: Page, app):
    _ask(page, PILIER)
    labels = page.locator("#chat button").evaluate_all("els => els.map(e => e.getAttribute('aria-label') || '')")
    assert "Copier le message" in labels and not [label for label in labels if "Copy" in label], labels
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app[0])
    page.locator("#chat").get_by_role("button", name="Copier la conversation").click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.startswith(f"Question : {PILIER}\n\nRéponse : ") and "[1]" in copied, copied
    assert "#source-" not in copied and "<sub>" not in copied
    page.get_by_role("button", name="Je n'aime pas").last.click()
    expect(page.locator("#feedback-status")).to_contain_text("Avis 👎 enregistré")
    comment = "Il manque le calendrier du comité de pilotage"
    page.locator("#comment textarea").fill(comment)
    page.locator("#send-comment").click()
    expect(page.locator("#feedback-status")).to_contain_text("Commentaire enregistré")
    page.locator("#export-feedback").click()
    link = page.locator("#export-file a[href*='avis-']").first
    expect(link).to_be_attached(timeout=15_000)
    exported = fetch(page, link.get_attribute("href") or "").text()
    rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    mine = [r for r in rows if r["commentaire"] == comment]
    assert len(mine) == 1
    assert mine[0]["avis"] == "négatif" and mine[0]["question"] == PILIER and mine[0]["moteur"] == "offline"
    titles = {r.metadata["title"] for r in app[1].store.documents().values()}
    cited = mine[0]["sources citées"].splitlines()
    assert cited and all(re.match(r"\[\d+\] « (.+) »(, p\. \d+)? \(passage \S+\)$", line) for line in cited), cited
    assert {re.match(r"\[\d+\] « (.+) »", line).group(1) for line in cited} <= titles


def test_traversal_name_lands_inside_uploads_and_oversized_file_is_refused_in_french(page: Page, app):
    data_dir: Path = app[1].settings.data_dir
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(
        [
            {"name": "../../etc/passwd.md", "mimeType": "text/markdown", "buffer": b"# Note\n\nTexte anodin."},
            {"name": "enorme.txt", "mimeType": "text/plain", "buffer": b"mot " * 400_000},  # 1.6 MB > 1 MB
        ]
    )
    expect(page.locator("#upload")).to_contain_text("enorme")
    page.locator("#ingest").click()
    message = page.locator("#ingest-message textarea")
    expect(message).to_have_value(re.compile("trop volumineux"), timeout=ANSWER_TIMEOUT_MS)
    text = message.input_value()
    assert "« enorme.txt » est trop volumineux (1.6 Mo) : la limite est de 1 Mo par fichier" in text
    assert "Ajoutés : 1 " in text
    assert len(list((data_dir / "uploads").glob("passwd-*.md"))) == 1
    assert not list((data_dir / "uploads").glob("enorme*"))
    assert not any(p.name == "passwd.md" for p in data_dir.parent.rglob("etc/*"))


def test_a_bomb_is_refused_and_two_names_that_clean_alike_stay_two_documents(page: Page, app, tmp_path: Path):
    services: Services = app[1]
    bomb = write_docx_bomb(tmp_path / "rapport-annuel.docx", 30)  # 0.2 MB sent, 30 MB of XML inside
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(
        [
            {"name": bomb.name, "mimeType": "application/octet-stream", "buffer": bomb.read_bytes()},
            {
                "name": "Bilan ★ Tarnac.md",
                "mimeType": "text/markdown",
                "buffer": b"# Bilan\n\nLa laverie de Tarnac.",
            },
            {
                "name": "Bilan ☆ Tarnac.md",
                "mimeType": "text/markdown",
                "buffer": b"# Bilan\n\nLa ressourcerie.",
            },
        ]
    )
    expect(page.locator("#upload")).to_contain_text("Tarnac")
    page.locator("#ingest").click()
    message = page.locator("#ingest-message textarea")
    expect(message).to_have_value(re.compile(r"Ajoutés : 2 "), timeout=ANSWER_TIMEOUT_MS)
    assert "bombe de décompression possible" in message.input_value()
    sources = [r.source for r in services.store.documents().values() if "Bilan _ Tarnac-" in r.source]
    assert len(sources) == 2 and len(set(sources)) == 2


def test_conversations_are_private_to_each_session(browser: Browser, page: Page, app):
    _ask(page, PILIER)
    other = browser.new_context(locale="fr-FR").new_page()
    other.goto(app[0])
    expect(other.locator("#question textarea")).to_be_visible(timeout=30_000)
    expect(other.locator("#sources .sources-empty")).to_be_visible()
    expect(other.locator("#chat")).not_to_contain_text("pilier")
    other.context.close()


def test_settings_page_shows_the_active_configuration(page: Page, app):
    page.get_by_role("tab", name="Réglages").click()
    view = page.locator("#settings-view")
    expect(view).to_contain_text("hors ligne")
    expect(view).to_contain_text(str(app[1].settings.data_dir.resolve()))
    expect(view).to_contain_text("1 Mo")


def test_reindex_then_delete_a_document_and_a_folder_outside_the_allowed_list_is_refused(page: Page, app):
    services: Services = app[1]
    record = next(r for r in services.store.documents().values() if "garage" in r.source)
    title = str(record.metadata["title"])
    page.get_by_role("tab", name="Documents").click()
    message = page.locator("#ingest-message textarea")

    page.locator("#folder textarea, #folder input").first.fill("/etc")
    page.locator("#ingest-folder").click()
    expect(message).to_have_value(re.compile(r"^✗ Dossier non autorisé : « /etc »"))
    assert not any(r.source.startswith("/etc") for r in services.store.documents().values())

    page.locator("#picker input").click()
    page.get_by_role("option", name=title).click()
    page.locator("#reindex").click()
    expect(message).to_have_value(re.compile(r"^Ajoutés : 0 · mis à jour : 1 "), timeout=ANSWER_TIMEOUT_MS)
    assert record.doc_id in services.store.documents()

    page.locator("#picker input").click()
    page.get_by_role("option", name=title).click()
    page.locator("#delete").click()
    expect(message).to_have_value(f"Document « {title} » retiré de l'index.")
    expect(page.locator("#documents-table")).not_to_contain_text(title)
    assert record.doc_id not in services.store.documents()
    assert (DEMO / "a-fiche-garage-solidaire-lussan.md").is_file()  # a file outside uploads/ is left alone


def test_with_a_password_the_page_and_the_documents_need_a_login(
    tmp_path: Path, hashing_embedder: CachedEmbedder, embedding_cache_dir: Path
):
    settings = ui_settings(tmp_path / "data", embedding_cache_dir, auth_user="equipe", auth_password="s3cret")
    services = build_services(settings, embedder=hashing_embedder)
    services.indexer.index_paths([DEMO / "a-fiche-ebe-saint-aurel.md"])
    running = launch(build_ui(services), services, port=free_port(), block=False)
    url = running.url
    doc_id = next(iter(services.store.documents()))
    document = urljoin(url, document_link(doc_id, {"source": str(DEMO / "a-fiche-ebe-saint-aurel.md"), "format": "md"}))
    try:
        with httpx.Client() as client:
            assert client.get(urljoin(url, "config")).status_code == 401
            assert client.get(document).status_code == 401
            refused = client.post(urljoin(url, "login"), data={"username": "equipe", "password": "faux"})
            assert refused.status_code == 400
            client.post(urljoin(url, "login"), data={"username": "equipe", "password": "s3cret"}).raise_for_status()
            served = client.get(document)
            assert served.status_code == 200 and "Atelier des Forges" in served.text
    finally:
        running.close()
        services.close()
