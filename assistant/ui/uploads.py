"""Uploaded files: safe names, size limit, and a stable place under ``<data_dir>/uploads/``.

The same file uploaded twice lands at the same path, so the synchroniser (whose
document identity is the absolute path) updates the document instead of adding
a copy. Sidecars (``<name>.meta.yaml``) are kept next to the file they describe.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.sync import SIDECAR_SUFFIX

MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^\w.\- ()]+")


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
    suffix = SIDECAR_SUFFIX if lowered.endswith(SIDECAR_SUFFIX) else Path(lowered).suffix
    if suffix != SIDECAR_SUFFIX and suffix not in SUPPORTED_SUFFIXES:
        accepted = ", ".join([*SUPPORTED_SUFFIXES, SIDECAR_SUFFIX])
        raise UploadRejected(
            f"« {base} » : format non pris en charge ({suffix or 'sans extension'}) ; acceptés : {accepted}"
        )
    if len(base) > MAX_NAME_CHARS:
        stem = base[: len(base) - len(suffix)]
        base = stem[: MAX_NAME_CHARS - len(suffix)] + base[len(base) - len(suffix) :]
    return base


def check_size(name: str, size_bytes: int, max_mb: float) -> None:
    """Raise UploadRejected (French) when the file is over the upload limit."""
    if size_bytes > max_mb * 1024 * 1024:
        raise UploadRejected(
            f"« {name} » est trop volumineux ({size_bytes / 1024 / 1024:.1f} Mo) : "
            f"la limite est de {max_mb:g} Mo par fichier. Découpez-le ou demandez à l'administrateur "
            "de relever la limite (ui.max_upload_mb)."
        )


@dataclass
class SavedUploads:
    """Where accepted files went; refused files with their French reason."""

    documents: list[Path] = field(default_factory=list)
    sidecars: list[Path] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (name as given, reason)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (name as given, name kept)


def save_uploads(files: list[tuple[str, Path]], uploads_dir: Path, *, max_mb: float) -> SavedUploads:
    """Copy ``(original name, temporary path)`` pairs into ``uploads_dir`` under safe names.

    An existing file of the same name is replaced (same document, new version).
    """
    uploads_dir.mkdir(parents=True, exist_ok=True)
    root = uploads_dir.resolve()
    saved = SavedUploads()
    for original, temporary in files:
        try:
            name = safe_filename(original)
            check_size(name, temporary.stat().st_size, max_mb)
        except UploadRejected as exc:
            saved.refused.append((original, str(exc)))
            continue
        target = (root / name).resolve()
        if target.parent != root:  # belt and braces: safe_filename already keeps one component
            saved.refused.append((original, f"« {original} » : chemin refusé"))
            continue
        shutil.copyfile(temporary, target)
        if name != original:
            saved.renamed.append((original, name))
        (saved.sidecars if name.lower().endswith(SIDECAR_SUFFIX) else saved.documents).append(target)
    return saved


def describe_saved(saved: SavedUploads) -> str:
    """French lines for the user: renamed and refused files (empty when all went through)."""
    lines = [f"⚠ « {original} » enregistré sous « {kept} »" for original, kept in saved.renamed]
    lines += [f"✗ {reason}" for _, reason in saved.refused]
    return "\n".join(lines)
