"""Where the index is, whether there is one, and what to say when it is empty (French), for every command."""

from __future__ import annotations

from pathlib import Path

from assistant.settings import Settings

# the commands that read the index: on an empty one they say so instead of answering from nothing
READS_INDEX = frozenset({"search", "ask", "experiences", "precedents", "compare", "note"})
DEMO_CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "demo"


def index_location(settings: Settings) -> str:
    """Where the index is looked for, in French: the data folder (absolute) or the Chroma server."""
    if settings.chroma.host:
        return f"le serveur Chroma {settings.chroma.host}:{settings.chroma.port} (collection « {settings.chroma.collection} »)"
    return f"le dossier {settings.data_dir.resolve()}"


def index_exists(settings: Settings) -> bool:
    """Whether there is an index to open: a Chroma server, or a data folder that holds one (never created here)."""
    return bool(settings.chroma.host) or settings.paths.chroma.is_dir()


def empty_index_help(settings: Settings) -> str:
    """What to do when the index is empty (French): where it was looked for, how to build or point to one."""
    shown = _relative_to_cwd(DEMO_CORPUS) if DEMO_CORPUS.is_dir() else Path("corpus/demo")
    return (
        f"✗ L'index est vide : aucun document indexé dans {index_location(settings)}.\n"
        f"  Construisez-le, par exemple avec le corpus de démonstration :\n"
        f"    python -m assistant ingest {shown}\n"
        f"  ou indiquez un index existant : --data-dir DOSSIER (ou la variable ASSISTANT_DATA_DIR)."
    )


def _relative_to_cwd(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd().resolve())
    except ValueError:
        return path
