"""Which server folders the web interface may index, and which of their files.

Anyone who can open the interface can ask it to index a folder of the server. Only folders
under an allowed root (``ingest.allowed_folders``, plus the uploads folder) are read, a link
leading out of its root is not followed, and only supported formats are kept, so the index
(and the document route serving indexed files) never holds ``/etc`` or ``/proc``.
The command line is not restricted: its operator already reads what their account can.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.corpus import SUPPORTED_SUFFIXES, FolderRefused, Source
from ingest.sync import discover


@dataclass
class FolderSelection:
    """The documents to index under an allowed folder, and how many files were left out."""

    sources: list[Source] = field(default_factory=list)
    unsupported: int = 0
    outside_links: int = 0

    def notes(self) -> str:
        """French lines about the files left out (empty when none was)."""
        lines = []
        if self.unsupported:
            lines.append(f"{self.unsupported} fichier(s) ignoré(s) : format non pris en charge")
        if self.outside_links:
            lines.append(f"{self.outside_links} lien(s) ignoré(s) : ils mènent hors des dossiers autorisés")
        return "\n".join(lines)


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def select_folder(folder: str, allowed_roots: Iterable[Path]) -> FolderSelection:
    """The supported files under ``folder`` (as typed by the user), if it lies in an allowed root.

    Paths are compared once every link is resolved, so neither ``..`` nor a link leads out of
    a root. Raise FolderRefused (French) for an empty, missing or disallowed folder.
    """
    typed = (folder or "").strip()
    if not typed:
        raise FolderRefused("Indiquez le chemin d'un dossier du serveur.")
    roots = [Path(root).expanduser().resolve() for root in allowed_roots]
    path = Path(typed).expanduser()
    if not path.is_absolute():
        raise FolderRefused(f"✗ « {typed} » : indiquez un chemin complet (commençant par /).")
    resolved = path.resolve()
    root = next((r for r in roots if _within(resolved, r)), None)
    if root is None:
        listed = ", ".join(f"« {r} »" for r in roots)
        raise FolderRefused(
            f"✗ Dossier non autorisé : « {typed} ». L'interface n'indexe que les dossiers listés dans les réglages "
            f"(ingest.allowed_folders) : {listed}. Demandez à l'administrateur d'y ajouter ce dossier, ou envoyez "
            "les fichiers par le formulaire."
        )
    if not resolved.is_dir():
        raise FolderRefused(f"✗ Dossier introuvable sur le serveur : « {typed} ».")
    selection = FolderSelection()
    kept: set[Path] = set()
    for source in discover([resolved]):
        target = source.path.resolve()
        if not _within(target, root) or not target.is_file():
            selection.outside_links += 1
        elif source.path.suffix.lower() not in SUPPORTED_SUFFIXES:
            selection.unsupported += 1
        elif target not in kept:  # a link inside the root is indexed once, as its target
            kept.add(target)
            selection.sources.append(Source(path=target, key=str(target)))
    return selection
