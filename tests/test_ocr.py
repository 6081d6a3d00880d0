"""Scanned PDFs: pages without a text layer read by Tesseract in French, page numbers kept.

Generated scans (typeset, rasterised, only the picture kept) are read by the real engine where it
is installed (`.ci/run` installs it, so CI always runs these); without it, the pages with text are
still indexed and the summary says which pages need OCR and how to enable it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from files import write_scanned_pdf

from assistant.factory import build_services
from ingest.loaders import LoadError, load_file
from ingest.loaders.limits import ReadBudget
from ingest.loaders.ocr import OcrChoice, character_accuracy, find_ocr_engine, page_ranges
from ingest.sync import Progress, discover

# CI installs tesseract (.ci/run): there a missing engine fails the tests instead of skipping them
_NO_TESSERACT = shutil.which("tesseract") is None and not os.environ.get("CI")


def needs_tesseract(test):
    """Marked ``ocr``; skipped on a developer machine without Tesseract, never in CI."""
    skip = pytest.mark.skipif(_NO_TESSERACT, reason="tesseract-ocr absent de cette machine")
    return pytest.mark.ocr(skip(test))


SCAN_PAGE_1 = (
    "Rapport d'activité 2008 de la zone urbaine sensible des Tilleuls.\n\n"
    "Le taux de chômage atteignait 23,5 % en 2007, contre 9,8 % dans l'agglomération. "
    "La boutique de gestion a accompagné 146 porteurs de projet."
)
SCAN_PAGE_3 = "Le dispositif Ville Vie Vacances a accueilli 312 jeunes pendant l'été 2008 au gymnase Jean-Moulin."
NO_ENGINE = OcrChoice(None, "la reconnaissance de caractères (OCR) n'est pas installée ; installez-la")


def test_page_ranges_are_french_and_compact():
    assert page_ranges([7, 2, 3, 4]) == "2 à 4, 7"
    assert page_ranges([1]) == "1" and page_ranges([]) == ""


def test_character_accuracy_counts_edits_against_the_source():
    assert character_accuracy("Le quartier", "Le quartier") == 1.0
    assert character_accuracy("Le quartier", "Le quart1er") == pytest.approx(1 - 1 / 11)
    assert character_accuracy("abc", "") == 0.0


def test_without_an_engine_text_pages_are_indexed_and_scanned_ones_named(tmp_path):
    path = write_scanned_pdf(tmp_path / "rapport.pdf", [SCAN_PAGE_1, None, SCAN_PAGE_3])
    loaded = load_file(path.read_bytes(), path, ReadBudget(ocr=NO_ENGINE))
    assert [(b.page, b.text) for b in loaded.blocks] == [(2, "Page dactylographiée avec une couche de texte.")]
    assert loaded.notices == [
        "page(s) 1, 3 sans texte (numérisées) non lues : "
        "la reconnaissance de caractères (OCR) n'est pas installée ; installez-la"
    ]
    assert loaded.metadata["pages_sans_texte"] == "1, 3"


def test_a_wholly_scanned_pdf_without_engine_fails_saying_how_to_enable_ocr(tmp_path):
    path = write_scanned_pdf(tmp_path / "scan.pdf", [SCAN_PAGE_3])
    with pytest.raises(LoadError, match=r"page\(s\) 1 sans texte .*OCR"):
        load_file(path.read_bytes(), path, ReadBudget(ocr=NO_ENGINE))


def test_the_setting_turns_ocr_off_with_a_french_reason():
    choice = find_ocr_engine(enabled=False)
    assert choice.reader is None and "ingest.ocr" in choice.unavailable


@needs_tesseract
def test_missing_language_model_is_reported():
    choice = find_ocr_engine(language="fra+zzz")
    assert choice.reader is None and "zzz" in choice.unavailable and "tesseract-ocr-fra" in choice.unavailable


@needs_tesseract
def test_scanned_pages_are_read_in_french_with_their_page_numbers(tmp_path):
    path = write_scanned_pdf(tmp_path / "rapport.pdf", [SCAN_PAGE_1, None, SCAN_PAGE_3], noise=0.5)
    recognised: list[tuple[int, int]] = []
    budget = ReadBudget(ocr=find_ocr_engine(), on_ocr_page=lambda done, total: recognised.append((done, total)))
    loaded = load_file(path.read_bytes(), path, budget)
    by_page = {page: " ".join(b.text for b in loaded.blocks if b.page == page) for page in (1, 2, 3)}
    assert "23,5 % en 2007" in by_page[1] and "146 porteurs de projet" in by_page[1]
    assert "chômage" in by_page[1] and "l'agglomération" in by_page[1]  # French accents and elisions
    assert "312 jeunes pendant l'été 2008" in by_page[3]
    assert by_page[2] == "Page dactylographiée avec une couche de texte."
    assert character_accuracy(SCAN_PAGE_3, by_page[3]) > 0.97
    assert loaded.metadata["pages_ocr"] == "1, 3" and loaded.notices == []
    assert recognised == [(1, 2), (2, 2)]


@needs_tesseract
def test_an_ocr_page_is_searchable_and_cited_with_its_page(services, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    write_scanned_pdf(folder / "rapport-2008.pdf", [SCAN_PAGE_1, SCAN_PAGE_3])
    events: list[Progress] = []
    report = services.indexer.sync(discover([folder]), on_progress=events.append)
    assert [Path(p).name for p in report.added] == ["rapport-2008.pdf"] and report.failed == []
    assert [(e.done, e.total) for e in events if e.stage == "ocr"] == [(1, 2), (2, 2)]
    answer = services.assistant.ask("Combien de jeunes a accueilli le dispositif Ville Vie Vacances en 2008 ?")
    assert not answer.refused
    cited = answer.citations[0]
    assert cited.page == 2 and "312 jeunes" in cited.quote


@needs_tesseract
def test_ocr_off_leaves_scanned_pages_unread_and_the_summary_says_so(settings, services, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    write_scanned_pdf(folder / "mixte.pdf", [None, SCAN_PAGE_3])
    settings.ingest.ocr = False
    off = build_services(settings, embedder=services.embedder)
    report = off.indexer.sync(discover([folder]))
    assert [Path(p).name for p in report.added] == ["mixte.pdf"]
    summary = report.summary()
    assert "mixte.pdf : page(s) 2 sans texte (numérisées) non lues" in summary and "ingest.ocr" in summary
