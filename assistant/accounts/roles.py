"""Roles and what each one may do (pure).

``lecteur`` asks, looks up precedents, drafts notes and gives feedback; ``contributeur`` also
adds and re-indexes documents; ``administrateur`` also deletes documents, manages accounts and
reads feedback and usage.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    LECTEUR = "lecteur"
    CONTRIBUTEUR = "contributeur"
    ADMINISTRATEUR = "administrateur"


class Permission(StrEnum):
    ASK = "ask"
    PRECEDENTS = "precedents"
    NOTES = "notes"
    FEEDBACK = "feedback"
    UPLOAD = "upload"
    INDEX_FOLDER = "index_folder"
    REINDEX = "reindex"
    DELETE = "delete"
    MANAGE_ACCOUNTS = "manage_accounts"
    SEE_FEEDBACK = "see_feedback"
    SEE_USAGE = "see_usage"


_READER = frozenset({Permission.ASK, Permission.PRECEDENTS, Permission.NOTES, Permission.FEEDBACK})
_CONTRIBUTOR = _READER | {Permission.UPLOAD, Permission.INDEX_FOLDER, Permission.REINDEX}
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.LECTEUR: _READER,
    Role.CONTRIBUTEUR: frozenset(_CONTRIBUTOR),
    Role.ADMINISTRATEUR: frozenset(Permission),
}
# what a refusal says the user lacks (French)
ACTIONS = {
    Permission.ASK: "poser des questions",
    Permission.PRECEDENTS: "chercher des précédents",
    Permission.NOTES: "rédiger des notes",
    Permission.FEEDBACK: "donner un avis",
    Permission.UPLOAD: "ajouter des documents",
    Permission.INDEX_FOLDER: "indexer un dossier du serveur",
    Permission.REINDEX: "réindexer un document",
    Permission.DELETE: "retirer un document de l'index",
    Permission.MANAGE_ACCOUNTS: "gérer les comptes",
    Permission.SEE_FEEDBACK: "consulter les avis",
    Permission.SEE_USAGE: "consulter l'utilisation",
}


def allows(role: Role | None, permission: Permission) -> bool:
    """True when ``role`` may do ``permission``; nobody (None) may do anything."""
    return role is not None and permission in PERMISSIONS[role]


def refusal(role: Role | None, permission: Permission) -> str:
    """The French message of a refused action."""
    if role is None:
        return "Identifiez-vous d'abord."
    return f"Votre rôle ({role.value}) ne permet pas de {ACTIONS[permission]}."


def parse_role(text: str) -> Role:
    """``"lecteur"`` -> Role.LECTEUR; ValueError in French for an unknown role."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise ValueError(f"rôle inconnu « {text} » : choisissez parmi {choices}") from None
