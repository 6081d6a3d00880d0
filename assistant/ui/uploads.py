"""Uploaded files: safe names, size limit, and a stable place under ``<data_dir>/uploads/``.

Each file is stored as its readable, cleaned name plus a short hash of its bytes
(``Bilan _ Tarnac-3f2a9c41d0.md``): two different files whose names clean to the same
text stay two documents, and the same bytes sent again land at the same path, so the
synchroniser (whose document identity is the absolute path) finds the same document.
A sidecar (``<name>.meta.yaml``) is stored next to the document it describes. The
temporary copy of every file sent is removed, whatever became of it.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from assistant.corpus import SIDECAR_SUFFIX, SUPPORTED_SUFFIXES
from assistant.settings import MB

MAX_STEM_BYTES = 120  # the readable part; with hash, suffix and ".meta.yaml", far below the 255-byte file name limit
HASH_CHARS = 10
_UNSAFE = re.compile(r"[^\w.\- ()]+")
_CHUNK = 1024 * 1024


class UploadRejected(ValueError):
    """A file the upload form refuses; the message is French, for the user."""


def safe_filename(name: str) -> str:
    """The last component of ``name``, without traversal, control or shell-special characters.

    ``../../etc/passwd.md`` becomes ``passwd.md``; a name with nothing usable left,
    or of an unsupported format, raises UploadRejected.
    """
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    base = _UNSAFE.sub("_", base).strip(" .")  # leading dots would hide the file from discover()
    if not base or base.strip("_") == "":
        raise UploadRejected(f"nom de fichier « {name} » inutilisable : renommez le fichier puis recommencez")
    lowered = base.lower()
    if lowered.endswith(SIDECAR_SUFFIX) and len(base) > len(SIDECAR_SUFFIX):
        # a sidecar's name is the name of the document it describes, cleaned the same way
        return safe_filename(base[: -len(SIDECAR_SUFFIX)]) + SIDECAR_SUFFIX
    suffix = Path(lowered).suffix
    if suffix not in SUPPORTED_SUFFIXES:
        accepted = ", ".join([*SUPPORTED_SUFFIXES, SIDECAR_SUFFIX])
        raise UploadRejected(
            f"« {base} » : format non pris en charge ({suffix or 'sans extension'}) ; acceptés : {accepted}"
        )
    stem = base[: len(base) - len(suffix)]
    if len(stem.encode("utf-8")) > MAX_STEM_BYTES:
        stem = stem.encode("utf-8")[:MAX_STEM_BYTES].decode("utf-8", errors="ignore").rstrip(" .")
        base = stem + base[len(base) - len(suffix) :]
    return base


def stored_name(safe_name: str, digest: str) -> str:
    """``safe_name`` with the first characters of the file's hash before its extension."""
    path = Path(safe_name)
    return f"{path.stem}-{digest[:HASH_CHARS]}{path.suffix}"


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def check_size(name: str, size_bytes: int, max_mb: float) -> None:
    """Raise UploadRejected (French) when the file is over the upload limit."""
    if size_bytes > max_mb * MB:
        raise UploadRejected(
            f"« {name} » est trop volumineux ({size_bytes / MB:.1f} Mo) : "
            f"la limite est de {max_mb:g} Mo par fichier. Découpez-le ou demandez à l'administrateur "
            "de relever la limite (ui.max_upload_mb)."
        )


@dataclass
class SavedUploads:
    """Where accepted files went; refused files with their French reason."""

    documents: list[Path] = field(default_factory=list)
    sidecars: list[Path] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (name as given, reason)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (name as given, readable name kept)

    def to_index(self) -> list[Path]:
        """The documents to index: those sent, and those a sidecar sent alone describes (it re-indexes them)."""
        documents = list(self.documents)
        for sidecar in self.sidecars:
            described = sidecar.with_name(sidecar.name[: -len(SIDECAR_SUFFIX)])
            if described.is_file() and described not in documents:
                documents.append(described)
        return documents


def _store(temporary: Path, target: Path) -> None:
    """Copy into place through a hidden partial file, so a half-copied upload is never indexed."""
    partial = target.with_name(f".{target.name}.part")
    try:
        shutil.copyfile(temporary, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _described_document(name: str, batch: dict[str, Path], root: Path) -> Path | None:
    """The stored document a sidecar for ``name`` describes: sent with it, else the latest stored version."""
    if name in batch:
        return batch[name]
    path = Path(name)
    versions = [
        p
        for p in root.glob(f"{glob.escape(path.stem)}-*{glob.escape(path.suffix)}")
        if re.fullmatch(rf"{re.escape(path.stem)}-[0-9a-f]{{{HASH_CHARS}}}{re.escape(path.suffix)}", p.name)
    ]
    if (root / name).is_file():  # stored before names carried a hash
        versions.append(root / name)
    return max(versions, key=lambda p: p.stat().st_mtime_ns, default=None)


def save_uploads(files: list[tuple[str, Path]], uploads_dir: Path, *, max_mb: float) -> SavedUploads:
    """Store ``(original name, temporary path)`` pairs in ``uploads_dir``; every temporary path is removed.

    Documents are stored under their readable name plus a hash of their bytes, sidecars
    next to the document they describe (sent with them, or stored earlier).
    """
    uploads_dir.mkdir(parents=True, exist_ok=True)
    root = uploads_dir.resolve()
    saved = SavedUploads()
    batch: dict[str, Path] = {}  # readable name -> stored document, for the sidecars sent with it
    sidecars: list[tuple[str, str, Path]] = []
    try:
        for original, temporary in files:
            try:
                name = safe_filename(original)
                check_size(name, temporary.stat().st_size, max_mb)
            except UploadRejected as exc:
                saved.refused.append((original, str(exc)))
                continue
            except OSError:
                saved.refused.append((original, f"« {original} » : fichier reçu introuvable, envoyez-le de nouveau"))
                continue
            if name != original:
                saved.renamed.append((original, name))
            if name.lower().endswith(SIDECAR_SUFFIX):
                sidecars.append((original, name, temporary))
                continue
            target = root / stored_name(name, file_digest(temporary))
            batch[name] = target
            if target not in saved.documents:  # the same bytes twice in one batch are one document
                _store(temporary, target)
                saved.documents.append(target)
        for original, name, temporary in sidecars:
            described = name[: -len(SIDECAR_SUFFIX)]
            document = _described_document(described, batch, root)
            if document is None:
                saved.refused.append(
                    (original, f"« {original} » : envoyez-le avec le document qu'il décrit (« {described} »)")
                )
                continue
            target = document.with_name(document.name + SIDECAR_SUFFIX)
            _store(temporary, target)
            saved.sidecars.append(target)
    finally:
        for _, temporary in files:
            temporary.unlink(missing_ok=True)
    return saved


def describe_saved(saved: SavedUploads) -> str:
    """French lines for the user: renamed and refused files (empty when all went through)."""
    lines = [f"⚠ « {original} » enregistré sous « {kept} »" for original, kept in saved.renamed]
    lines += [f"✗ {reason}" for _, reason in saved.refused]
    return "\n".join(lines)
