"""The « Précédents » and « Note » tabs in a real browser (headless Chromium) over nine demo documents.

The app runs in this process on a free port (see ui_support); screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
from playwright.sync_api import Browser, Page, expect
from ui_support import browser_fixture, fetch, screenshot, serve_demo  # noqa: F401

from assistant.backends.embedder import CachedEmbedder
from assistant.experiences.bibliography import references_in
from assistant.experiences.compare import MISSING
from assistant.notes.note import DRAFT_NOTICE, SECTIONS

MODES_SUBSET = [
    "a-dossier-gouvernance-pilier-economique-valbrune.md",
    "a-dossier-partenaires-pilier-saint-aurel.md",
    "a-fiche-ebe-saint-aurel.md",
    "a-fiche-garage-solidaire-lussan.md",
    "a-fiche-plateforme-mobilite-valbrune.md",
    "a-fiche-sans-budget-creche-emploi-breviande.md",
    "b-dossier-mecenat-entreprises-hautefort.pdf",
    "b-fiche-chantier-insertion-sainte-gemme.docx",
    "b-fiche-plateforme-mobilite-vergnolles.html",
]
TERRITORY = "ville moyenne de 50 000 habitants en Occitanie, QPV en centre ancien"
TIMEOUT_MS = 60_000

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")]


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, hashing_embedder: CachedEmbedder, embedding_cache_dir: Path
) -> Iterator:
    with serve_demo(
        tmp_path_factory.mktemp("modes") / "data", hashing_embedder, embedding_cache_dir, MODES_SUBSET
    ) as served:
        yield served


@pytest.fixture
def page(browser: Browser, app) -> Iterator[Page]:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.goto(app[0])
    expect(page.get_by_role("tab", name="Précédents")).to_be_visible(timeout=30_000)
    yield page
    context.close()


def _fill(page: Page, elem_id: str, text: str) -> None:
    page.locator(f"#{elem_id} textarea, #{elem_id} input").first.fill(text)


def test_precedents_for_a_need_then_two_compared_with_downloads(page: Page):
    page.get_by_role("tab", name="Précédents").click()
    _fill(page, "prec-need", "plateforme mobilité")
    _fill(page, "prec-territory", TERRITORY)
    page.locator("#prec-search").click()
    cards = page.locator("#prec-results .precedent-card")
    expect(cards.first).to_be_visible(timeout=TIMEOUT_MS)
    titles = page.locator("#prec-results .precedent-title").all_inner_texts()
    assert "Valbrune" in titles[0] and "Vergnolles" in titles[1], titles
    first = cards.first
    expect(first.locator(".precedent-why")).to_contain_text("taille comparable (118 000 habitants)")
    expect(first.locator(".precedent-facts")).to_contain_text("Porteur")
    href = first.locator("a.source-open").get_attribute("href") or ""
    served = fetch(page, href)
    assert served.status == 200 and "Mob'Acacias" in served.text()
    screenshot(page, "precedents.png", full_page=False)

    picks = page.locator("#prec-pick label")
    picks.nth(0).click()
    page.locator("#prec-compare").click()
    expect(page.locator("#compare-status")).to_contain_text("Cochez de 2 à 6 expériences à comparer (1 cochée(s))")
    picks.nth(1).click()
    page.locator("#prec-compare").click()
    table = page.locator("#compare-table table.comparison")
    expect(table).to_be_visible(timeout=TIMEOUT_MS)
    headers = table.locator("thead th").all_inner_texts()
    assert headers[0] == "Champ" and len(headers) == 3 and "Valbrune" in headers[1] and "Vergnolles" in headers[2]
    cited = table.locator("tbody td:not(.missing)")
    assert cited.count() > 0
    for number in re.findall(r"\[(\d+)\]", cited.first.inner_text()):
        expect(page.locator(f"#compare-note-{number}")).to_contain_text("« ")  # the exact extract behind the cell
    missing = table.locator("td.missing")
    assert missing.count() == 0 or missing.first.inner_text() == MISSING
    screenshot(page, "comparison.png")

    csv_link = page.locator("#compare-csv a").first
    expect(csv_link).to_be_attached(timeout=15_000)
    rows = list(csv.reader(io.StringIO(fetch(page, csv_link.get_attribute("href") or "").text().lstrip("\ufeff"))))
    assert rows[0][0] == "Champ" and "Valbrune" in rows[0][1] and any(r and r[0] == "[1]" for r in rows)
    markdown = fetch(page, page.locator("#compare-md a").first.get_attribute("href") or "").text()
    assert markdown.startswith("| Champ |") and "Sources :" in markdown

    page.locator("#prec-regions input").click()  # region choices come from the cards of the index
    page.get_by_role("option", name="Occitanie").click()
    page.keyboard.press("Escape")
    page.locator("#prec-search").click()
    expect(page.locator("#prec-status")).to_contain_text("1 expérience trouvée")
    expect(cards).to_have_count(1)
    expect(cards.first.locator(".precedent-title")).to_contain_text("Garage solidaire")


def _progress_recorder(page: Page) -> None:
    page.evaluate(
        """() => { window.__progress = [];
        const target = document.querySelector('#note-progress');
        new MutationObserver(() => window.__progress.push(target.innerText))
          .observe(target, {subtree: true, childList: true, characterData: true}); }"""
    )


def test_a_note_streams_is_edited_and_the_docx_keeps_its_references_consistent(page: Page, tmp_path: Path):
    page.get_by_role("tab", name="Note").click()
    expect(page.locator("#note-topic textarea, #note-topic input").first).to_have_value(
        "pilier développement économique"
    )
    _fill(page, "note-territory", TERRITORY)
    _progress_recorder(page)
    # a slow page, as on a busy machine: it renders the streamed steps after later ones arrived, which lost
    # sections when a step skipped the box the step before had just shown (see NoteTab)
    page.context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": 6})
    page.locator("#note-draft").click()
    expect(page.locator("#note-references")).to_contain_text("[1]", timeout=TIMEOUT_MS)
    expect(page.locator("#note-notice")).to_contain_text(DRAFT_NOTICE)
    seen = page.evaluate("window.__progress")
    total = len(SECTIONS)
    assert any(f"✓ 1/{total}" in s and "⏳" in s for s in seen), seen  # a section shown while the next is written
    expect(page.locator("#note-progress")).to_contain_text(f"✓ {total}/{total}")

    boxes = [page.locator(f"#note-section-{i} textarea") for i in range(1, total + 1)]
    for box in boxes:  # every section shows up (the last step may be rendered a moment after the progress)
        expect(box).to_have_value(re.compile(r"\S"), timeout=15_000)
    drafted = [box.input_value() for box in boxes]
    screenshot(page, "note.png")
    edit = "Texte revu par l'équipe projet : la zone d'activités des Cèdres est à deux kilomètres du quartier."
    boxes[1].fill(edit)
    page.locator("#note-export").click()
    expect(page.locator("#note-export-status")).to_contain_text("Note exportée", timeout=TIMEOUT_MS)
    docx_link = page.locator("#note-docx a").first
    with page.expect_download() as download:
        docx_link.click()
    path = tmp_path / "note.docx"
    download.value.save_as(path)

    document = docx.Document(str(path))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [f"{i}. {s.heading}" for i, s in enumerate(SECTIONS, 1)] + ["Références"]
    paragraphs = [p.text for p in document.paragraphs]
    split = paragraphs.index("Références")
    body = "\n".join(paragraphs[:split])
    assert DRAFT_NOTICE in body and edit in body
    listed = [int(re.match(r"\[(\d+)\] ", entry).group(1)) for entry in paragraphs[split + 1 :]]
    assert listed == list(range(1, len(listed) + 1)) and references_in(body) == set(listed)
    kept = {n for i, text in enumerate(drafted) if i != 1 for n in references_in(text)}
    assert len(listed) == len(kept)  # references only the deleted section cited are gone
    markdown = fetch(page, page.locator("#note-md a").first.get_attribute("href") or "").text()
    assert edit in markdown and f"**{DRAFT_NOTICE}**" in markdown

    boxes[2].fill(drafted[2] + "\n\nSelon une source inventée [99].")
    page.locator("#note-export").click()
    expect(page.locator("#note-export-status")).to_contain_text("renvoi [99] sans référence dans le projet")
