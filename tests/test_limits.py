"""Reading limits: characters, unpacked size and ratio of zip-based files, time; on real generated files."""

from __future__ import annotations

import pytest
from files import write_docx, write_docx_bomb

from assistant.corpus import LoadError
from ingest.loaders import load_file
from ingest.loaders.limits import MB, ReadBudget, ReadLimits, check_archive


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_time_budget_runs_out_after_its_seconds_and_pages_are_reported():
    clock = _Clock()
    pages: list[tuple[int, int]] = []
    budget = ReadBudget(ReadLimits(seconds=10), on_page=lambda n, total: pages.append((n, total)), clock=clock)
    budget.page_read(1, 3)
    clock.now = 110.0
    budget.page_read(2, 3)
    clock.now = 110.5
    with pytest.raises(LoadError, match=r"lecture trop longue \(plus de 10 s pour ce seul fichier\)"):
        budget.page_read(3, 3)
    assert pages == [(1, 3), (2, 3), (3, 3)]


def test_the_character_limit_counts_across_calls():
    budget = ReadBudget(ReadLimits(max_chars=10))
    budget.add_text("12345")
    budget.add_text("67890")
    with pytest.raises(LoadError, match=r"document trop long \(plus de 10 caractères de texte\) : découpez-le, ou"):
        budget.add_text("1")


def test_a_docx_bomb_is_refused_from_its_declared_sizes_before_parsing(tmp_path):
    bomb = write_docx_bomb(tmp_path / "bombe.docx", 30)
    assert bomb.stat().st_size < 1 * MB  # a small file…
    with pytest.raises(LoadError, match=r"contenu anormalement compressé \(30 Mo décompressés, \d+ fois"):
        check_archive(bomb.read_bytes(), ReadLimits())
    with pytest.raises(LoadError, match="bombe de décompression possible"):
        load_file(bomb.read_bytes(), bomb)


def test_an_archive_over_the_absolute_unpacked_size_is_refused(tmp_path):
    bomb = write_docx_bomb(tmp_path / "gros.docx", 3, varied=True)
    with pytest.raises(LoadError, match=r"contenu trop volumineux une fois décompressé \(3 Mo .* limite 2 Mo\)"):
        check_archive(bomb.read_bytes(), ReadLimits(max_unzipped_bytes=2 * MB))


def test_a_docx_of_ordinary_compression_is_stopped_at_the_character_limit(tmp_path):
    bomb = write_docx_bomb(tmp_path / "long.docx", 3, varied=True)
    check_archive(bomb.read_bytes(), ReadLimits())  # compresses like prose: only its length gives it away
    budget = ReadBudget(ReadLimits(max_chars=200_000))
    with pytest.raises(LoadError, match="document trop long"):
        load_file(bomb.read_bytes(), bomb, budget)
    assert budget.chars < 201_000  # stopped as soon as the limit was passed, not at the end


def test_ordinary_files_pass_every_check(tmp_path):
    path = write_docx(tmp_path / "fiche.docx", [("h1", "Fiche"), ("p", "Un texte ordinaire. " * 200)])
    check_archive(path.read_bytes(), ReadLimits())
    budget = ReadBudget()
    assert load_file(path.read_bytes(), path, budget).blocks[0].text == "Fiche"
    assert budget.chars == len("Fiche") + len(("Un texte ordinaire. " * 200).strip())


def test_an_oversized_html_page_is_refused_before_its_main_content_is_extracted(tmp_path, monkeypatch):
    import trafilatura

    calls = []
    monkeypatch.setattr(trafilatura, "extract", lambda *a, **k: calls.append(1))
    page = tmp_path / "page.html"
    page.write_text("<html><body>" + "<p>Un paragraphe.</p>" * 2000 + "</body></html>", "utf-8")
    with pytest.raises(LoadError, match="document trop long"):
        load_file(page.read_bytes(), page, ReadBudget(ReadLimits(max_chars=20_000)))
    assert calls == []
