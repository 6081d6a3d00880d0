"""Choosing the reference copy of a document on the Documents page, in a real browser (headless Chromium).

Two files of one text (plain text, the first by path, and Markdown) are indexed once; the control (shown
from the contributor role) makes the Markdown file the reference, and the page shows it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from ui_support import browser_fixture, serve_paths  # noqa: F401

from assistant.backends.embedder import CachedEmbedder
from assistant.copies import DUPLICATE_OF

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")]

TITLE = "Diagnostic des mobilités du quartier des Aubiers"
BODY = (
    "Le diagnostic a interrogé 312 habitants du quartier des Aubiers sur leurs trajets vers l'emploi. "
    "Quarante-deux pour cent n'ont pas le permis de conduire et un tiers des emplois proposés par l'agence "
    "commencent avant six heures, quand aucun bus ne circule encore.\n\n"
    "La plateforme mobilité propose un apprentissage du vélo, un prêt de scooters pendant trois mois et un "
    "accompagnement au permis avec des heures de conduite financées par la région et le département."
)


def test_a_copy_is_made_the_reference_from_the_documents_page(
    browser: Browser, tmp_path: Path, embedder: CachedEmbedder, embedding_cache_dir: Path
):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "diagnostic.md").write_text(f"# {TITLE}\n\n{BODY}\n", "utf-8")
    (folder / "diagnostic-copie.txt").write_text(f"{TITLE}\n\n{BODY}\n", "utf-8")
    with serve_paths(tmp_path / "data", embedder, embedding_cache_dir, [folder]) as (url, services):
        context = browser.new_context(locale="fr-FR", viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        page.goto(url)
        expect(page.locator("#question textarea")).to_be_visible(timeout=30_000)
        page.get_by_role("tab", name="Documents").click()
        table = page.locator("#documents-table")
        expect(table).to_contain_text("exemplaire de référence ; copies : diagnostic.md", timeout=30_000)

        page.locator("#picker input").click()
        page.get_by_role("option", name=re.compile(r"diagnostic\.md")).click()
        page.locator("#choose-reference").click()
        message = page.locator("#ingest-message textarea")
        expect(message).to_have_value(
            re.compile(r"copie de référence à la place de .*diagnostic-copie\.txt"), timeout=60_000
        )
        expect(table).to_contain_text("exemplaire de référence choisi ; copies : diagnostic-copie.txt", timeout=30_000)
        context.close()

        records = {Path(r.source).name: r for r in services.store.documents().values()}
        assert not records["diagnostic.md"].metadata.get(DUPLICATE_OF)
        assert records["diagnostic-copie.txt"].metadata[DUPLICATE_OF] == records["diagnostic.md"].doc_id
