"""What the app runs on, in French, for the settings panel and the feedback records."""

from __future__ import annotations

from collections.abc import Mapping

from assistant.accounts.store import accounts_exist
from assistant.corpus import DocumentRecord
from assistant.settings import Settings

ANSWERERS = {
    "offline": "hors ligne : réponses composées d'extraits du corpus (aucun modèle de langue)",
    "local": "modèle local (llama.cpp sur cette machine)",
    "openai": "service compatible OpenAI",
}
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def backend_label(settings: Settings, answerer_kind: str) -> str:
    """Short record of what produced an answer: answerer, model, embedder, index."""
    model = "" if answerer_kind == "offline" else f" ({settings.generation.model})"
    if answerer_kind == "local":
        model = " (qwen2.5-coder-1.5b-instruct)"
    index = f"chroma {settings.chroma.host}:{settings.chroma.port}" if settings.chroma.host else "chroma local"
    return f"{answerer_kind}{model} · embeddings {settings.embedder.kind} · {index}"


def settings_markdown(settings: Settings, answerer_kind: str, records: Mapping[str, DocumentRecord]) -> str:
    """The active configuration, shown rather than hidden."""
    g = settings.generation
    answerer = ANSWERERS.get(answerer_kind, answerer_kind)
    if answerer_kind == "openai":
        answerer += f" — modèle **{g.model}** à {g.base_url or 'l’adresse par défaut'}"
    elif answerer_kind == "local":
        answerer += " — modèle **Qwen2.5-Coder-1.5B-Instruct**"
    ui = settings.ui
    protected = "non"
    if accounts_exist(settings.paths.accounts):
        protected = "oui (comptes et rôles)"
    elif ui.auth_user and ui.auth_password:
        protected = "oui (identifiant et mot de passe)"
    index = (
        f"serveur Chroma {settings.chroma.host}:{settings.chroma.port}" if settings.chroma.host else "Chroma embarqué"
    )
    return "\n".join(
        [
            f"- **Rédaction des réponses :** {answerer}",
            f"- **Embeddings :** {settings.embedder.kind} ({settings.embedder.model})",
            f"- **Index :** {len(records)} documents, {sum(r.chunk_count for r in records.values())} passages — {index}",
            f"- **Dossier des données :** `{settings.data_dir.resolve()}`",
            f"- **Adresse d'écoute :** {ui.host}:{ui.port} · accès protégé : {protected}",
            f"- **Taille maximale d'un fichier envoyé :** {ui.max_upload_mb:g} Mo",
        ]
    )


def exposed_without_auth(settings: Settings) -> bool:
    """True when the app listens beyond this machine and nobody has to log in (no account, no password setting)."""
    ui = settings.ui
    if ui.host in LOCAL_HOSTS or (ui.auth_user and ui.auth_password):
        return False
    return not accounts_exist(settings.paths.accounts)
