"""What reading one file may cost: characters, unpacked size, time; checked while it is read.

A document is data from anyone (an upload, a partner's file): a small DOCX can unpack to
gigabytes of XML, a long one can hold millions of passages. Each limit refuses the file with
a French reason before it holds the single ingest queue for hours.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from assistant.corpus import LoadError

MB = 1024 * 1024
# entries this small may compress very well without being a threat (styles, settings)
_RATIO_FLOOR_BYTES = MB
_MAX_MEMBERS = 10_000


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on one file; the defaults are IngestSettings' (see their descriptions)."""

    max_chars: int = 3_000_000
    max_unzipped_bytes: int = 200 * MB
    max_zip_ratio: float = 100.0
    seconds: float = 180.0


PageCallback = Callable[[int, int], None]


class ReadBudget:
    """One file's reading: counts the text read and the time spent, reports pages read.

    Loaders call ``add_text`` as text comes out and ``page_read`` after each page, so an
    oversized file stops early rather than after it has filled the memory.
    """

    def __init__(
        self,
        limits: ReadLimits | None = None,
        *,
        on_page: PageCallback | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits or ReadLimits()
        self.chars = 0
        self._on_page = on_page
        self._clock = clock
        self._deadline = clock() + self.limits.seconds

    def check_time(self) -> None:
        """Raise LoadError once the file has taken longer than its time budget."""
        if self._clock() > self._deadline:
            raise LoadError(
                f"lecture trop longue (plus de {self.limits.seconds:g} s pour ce seul fichier) : document trop lourd "
                "ou piégé ; découpez-le, ou relevez la limite (ingest.max_seconds_per_file) s'il est sûr"
            )

    def add_text(self, text: str) -> None:
        """Count ``text`` towards the file's character limit (and check the time)."""
        self.chars += len(text)
        self.check_length(self.chars)
        self.check_time()

    def check_length(self, chars: int) -> None:
        """Raise LoadError when ``chars`` characters are over the limit (also for an estimate, not counted)."""
        if chars > self.limits.max_chars:
            raise LoadError(
                f"document trop long (plus de {self.limits.max_chars:_} caractères de texte) : ".replace("_", " ")
                + "découpez-le, ou relevez la limite (ingest.max_extracted_chars)"
            )

    def page_read(self, number: int, total: int) -> None:
        """Page ``number`` of ``total`` has been read: report it, then check the time."""
        if self._on_page is not None:
            self._on_page(number, total)
        self.check_time()


def check_archive(data: bytes, limits: ReadLimits) -> None:
    """Refuse a zip-based file (DOCX…) that would unpack beyond the limits, before any parser opens it.

    The sizes are those the archive declares; Python's zip reader never unpacks more than
    declared, so a lying header cannot get past them. A file that is not a readable zip is
    left to its loader, which reports it as corrupt.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return
    advice = "document refusé par précaution (bombe de décompression possible)"
    if len(members) > _MAX_MEMBERS:
        raise LoadError(f"archive de {len(members)} éléments : {advice}")
    unpacked = sum(m.file_size for m in members)
    if unpacked > limits.max_unzipped_bytes:
        raise LoadError(
            f"contenu trop volumineux une fois décompressé ({unpacked / MB:.0f} Mo pour un fichier de "
            f"{len(data) / MB:.1f} Mo ; limite {limits.max_unzipped_bytes / MB:.0f} Mo) : {advice} ; "
            "relevez ingest.max_unzipped_mb si le document est sûr"
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_FLOOR_BYTES and ratio > limits.max_zip_ratio:
            raise LoadError(
                f"contenu anormalement compressé ({member.file_size / MB:.0f} Mo décompressés, {ratio:.0f} fois "
                f"la taille compressée ; limite {limits.max_zip_ratio:g}) : {advice} ; "
                "relevez ingest.max_zip_ratio si le document est sûr"
            )
