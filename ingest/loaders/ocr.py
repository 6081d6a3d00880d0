"""Reading scanned PDF pages by OCR: Tesseract in French (``pip install -e ".[ocr]"`` + Debian's tesseract-ocr-fra).

A page without a text layer is rendered to an image (pypdfium2, the renderer pdfplumber already
brings) and read by Tesseract through pytesseract. Everything here is optional: when the Python
package or the ``tesseract`` program or its French model is missing, :func:`find_ocr_engine`
says why in French and the PDF loader indexes the pages that do have text.
"""

from __future__ import annotations

import functools
import logging
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)

OCR_HOW_TO = (
    'pour les lire, installez la reconnaissance de caractères (OCR) : pip install -e ".[ocr]" puis, sous Debian ou Ubuntu, '
    "apt-get install tesseract-ocr tesseract-ocr-fra, et relancez l'indexation"
)
OCR_DISABLED = "la reconnaissance de caractères (OCR) est désactivée (ingest.ocr = false) ; activez-la pour les lire"


class PageReader(Protocol):
    """Reads the text of one page image."""

    name: str

    def read_page(self, image: Image) -> str: ...


@dataclass(frozen=True)
class TesseractReader:
    """Tesseract through pytesseract; ``language`` is a Tesseract model name ("fra", "fra+eng")."""

    language: str = "fra"
    name: str = "tesseract"

    def read_page(self, image: Image) -> str:
        import pytesseract

        # --psm 3: automatic page segmentation (columns, headings), Tesseract's default for whole pages
        return pytesseract.image_to_string(image, lang=self.language, config="--psm 3")


@dataclass(frozen=True)
class OcrChoice:
    """The engine to use, or why there is none (a French reason that says how to get one)."""

    reader: PageReader | None
    unavailable: str = ""


@functools.cache
def _installed_languages() -> frozenset[str]:
    import pytesseract

    return frozenset(pytesseract.get_languages(config=""))


def find_ocr_engine(*, enabled: bool = True, language: str = "fra") -> OcrChoice:
    """The OCR engine the settings ask for, when this machine has it."""
    if not enabled:
        return OcrChoice(None, OCR_DISABLED)
    try:
        import pypdfium2  # noqa: F401
        import pytesseract  # noqa: F401
    except ImportError:
        return OcrChoice(None, f"la reconnaissance de caractères (OCR) n'est pas installée ; {OCR_HOW_TO}")
    if shutil.which("tesseract") is None:
        return OcrChoice(None, f"le programme tesseract est introuvable ; {OCR_HOW_TO}")
    try:
        installed = _installed_languages()
    except Exception as exc:  # pytesseract wraps a failing subprocess in several types
        log.warning("tesseract did not list its languages: %r", exc)
        return OcrChoice(None, f"tesseract ne répond pas ; {OCR_HOW_TO}")
    missing = [code for code in language.split("+") if code not in installed]
    if missing:
        return OcrChoice(None, f"le modèle de langue {', '.join(missing)} de tesseract manque ; {OCR_HOW_TO}")
    return OcrChoice(TesseractReader(language))


RENDER_DPI = 300  # Tesseract reads best at 300 dpi; lower loses accents and small figures


def render_pages(data: bytes, page_numbers: list[int], *, dpi: int = RENDER_DPI):
    """Yield ``(number, grayscale image)`` for the given 1-based pages of a PDF."""
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    try:
        for number in page_numbers:
            page = document[number - 1]
            try:
                bitmap = page.render(scale=dpi / 72, grayscale=True)
                yield number, bitmap.to_pil()
            finally:
                page.close()
    finally:
        document.close()


def page_ranges(numbers: list[int]) -> str:
    """French list of page numbers with ranges: [2, 3, 4, 7] -> "2 à 4, 7"."""
    parts: list[str] = []
    start = previous = None
    for number in sorted(numbers):
        if previous is not None and number == previous + 1:
            previous = number
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start} à {previous}")
        start = previous = number
    if start is not None:
        parts.append(str(start) if start == previous else f"{start} à {previous}")
    return ", ".join(parts)


def character_accuracy(source: str, recognised: str) -> float:
    """1 - (edit distance / source length), spaces normalised: the usual OCR character accuracy."""
    a, b = " ".join(source.split()), " ".join(recognised.split())
    if not a:
        return 1.0 if not b else 0.0
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return max(0.0, 1 - previous[-1] / len(a))
