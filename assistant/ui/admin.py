"""The interface's settings page for a team: each user's API keys, and the administrators' accounts and usage.

The server checks every accounts event by role (``guard.guarded``), whatever the page shows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import gradio as gr

from assistant.accounts import Access, AccountError, Permission, Role, parse_role
from assistant.ui.guard import guarded
from assistant.ui.safe_text import escape_markdown
from assistant.ui.updates import KEEP, Outputs

ROLES = [r.value for r in Role]


@dataclass(frozen=True)
class KeysView:
    """The new key (shown once), the list of the user's keys, the revocation choices, the label box."""

    shown: Any
    listing: str
    picker: Any
    label: Any = KEEP


@dataclass(frozen=True)
class AccountsView:
    """The administrators' status line, usage table and account choices, and the new-account boxes."""

    status: str
    usage: str
    picker: Any
    name: Any = KEEP
    password: Any = KEEP


def _user(request: gr.Request | None) -> str | None:
    return getattr(request, "username", None)


def usage_markdown(access: Access) -> str:
    """Accounts and their counts (questions, refusals, feedback) per channel, for administrators."""
    rows = access.store.usage()
    accounts = access.store.users()
    lines = ["#### Comptes", ""]
    if accounts:
        lines += [f"- {escape_markdown(a.name)} — {a.role.value}" for a in accounts]
    else:
        lines.append("_Aucun compte : `python -m assistant users add IDENTIFIANT --role administrateur`._")
    lines += ["", "#### Utilisation", "", "| compte | canal | questions | refus | avis |", "|---|---|---|---|---|"]
    for u in rows:
        channel = f"clé {u.key_id}" if u.key_id else "interface"
        lines.append(f"| {escape_markdown(u.user)} | {channel} | {u.questions} | {u.refusals} | {u.feedback} |")
    if not rows:
        lines.append("| — | — | 0 | 0 | 0 |")
    return "\n".join(lines)


class AdminPanel:
    """« Mes clés d'API » for everyone, « Gérer les comptes » and the usage view for administrators."""

    def __init__(self, access: Access) -> None:
        self.access = access

    def build(self) -> None:
        """The user's API keys, and the administrators' view of accounts and usage (hidden from other roles)."""
        with gr.Accordion("Mes clés d'API", open=False, elem_id="api-keys"):
            gr.Markdown(
                "Une clé par outil (Open WebUI, script…) : `Authorization: Bearer <clé>` sur `/v1/…`, "
                "avec les droits de votre rôle. Elle n'est affichée qu'une fois, à sa création."
            )
            with gr.Row():
                self.key_label = gr.Textbox(label="Usage de la clé (facultatif)", scale=3, elem_id="key-label")
                self.key_create = gr.Button("Créer une clé", scale=1, elem_id="key-create")
            self.key_shown = gr.Textbox(
                label="Nouvelle clé : copiez-la maintenant, elle ne sera plus affichée",
                visible=False,
                interactive=False,
                buttons=["copy"],
                elem_id="key-shown",
            )
            self.key_list = gr.Markdown(elem_id="key-list")
            with gr.Row():
                self.key_picker = gr.Dropdown(label="Clé à révoquer", choices=[], scale=3, elem_id="key-picker")
                self.key_revoke = gr.Button("Révoquer", variant="stop", scale=1, elem_id="key-revoke")
        with gr.Group(visible=False, elem_id="accounts-admin") as self.accounts_admin:
            gr.Markdown("#### Gérer les comptes")
            with gr.Row():
                self.new_name = gr.Textbox(label="Identifiant", elem_id="account-name")
                self.new_password = gr.Textbox(label="Mot de passe", type="password", elem_id="account-password")
                self.new_role = gr.Dropdown(
                    label="Rôle", choices=ROLES, value=Role.LECTEUR.value, elem_id="account-role"
                )
            self.create_account = gr.Button("Créer le compte", elem_id="account-create")
            with gr.Row():
                self.account_picker = gr.Dropdown(label="Compte", choices=[], elem_id="account-picker")
                self.account_role = gr.Dropdown(label="Nouveau rôle", choices=ROLES, elem_id="account-new-role")
            with gr.Row():
                self.change_role = gr.Button("Changer le rôle", size="sm", elem_id="account-change-role")
                self.remove_account = gr.Button(
                    "Supprimer le compte", size="sm", variant="stop", elem_id="account-remove"
                )
            self.accounts_status = gr.Markdown(elem_id="accounts-status")
        self.usage = gr.Markdown(visible=False, elem_id="usage-view")

    def wire(self) -> None:
        """Key creation and revocation; account creation, role change and removal, each checked by role."""
        quiet = {"show_progress": "hidden"}
        keys = Outputs(shown=self.key_shown, listing=self.key_list, picker=self.key_picker)
        created = Outputs(**keys.targets, label=self.key_label)
        self.key_create.click(created.adapt(self.create_key), [self.key_label], created.components, **quiet)
        self.key_revoke.click(keys.adapt(self.revoke_key), [self.key_picker], keys.components, **quiet)
        admin = Outputs(status=self.accounts_status, usage=self.usage, picker=self.account_picker)
        added = Outputs(**admin.targets, name=self.new_name, password=self.new_password)
        manage = Permission.MANAGE_ACCOUNTS
        self.create_account.click(
            added.adapt(guarded(self.add_account, manage, self.access)),
            [self.new_name, self.new_password, self.new_role],
            added.components,
            **quiet,
        )
        self.change_role.click(
            admin.adapt(guarded(self.set_role, manage, self.access)),
            [self.account_picker, self.account_role],
            admin.components,
            **quiet,
        )
        self.remove_account.click(
            admin.adapt(guarded(self.remove_user, manage, self.access)),
            [self.account_picker],
            admin.components,
            **quiet,
        )

    # API keys
    def keys_view(self, request: gr.Request, shown: str | None = None) -> KeysView:
        """The new key (once), the list of the user's keys and the revocation choices."""
        user = _user(request)
        keys = self.access.store.keys(user) if user else []
        lines = [
            f"- clé `{k.key_id}` — {escape_markdown(k.label) or 'sans libellé'} — créée le {k.created_at[:10]}"
            f" — {('utilisée le ' + k.last_used_at[:10]) if k.last_used_at else 'jamais utilisée'}"
            for k in keys
        ]
        listing = "\n".join(lines) if lines else "_Aucune clé._"
        choices = [(f"{k.key_id} — {k.label or 'sans libellé'}", k.key_id) for k in keys]
        key_box = gr.update(value=shown or "", visible=shown is not None)
        return KeysView(key_box, listing, gr.update(choices=choices, value=None))

    def create_key(self, label: str, request: gr.Request) -> KeysView:
        user = _user(request)
        if user is None or self.access.role_of(user) is None:
            raise gr.Error("Identifiez-vous d'abord.")
        _, token = self.access.store.create_key(user, (label or "").strip()[:80])
        return replace(self.keys_view(request, shown=token), label="")

    def revoke_key(self, key_id: str | None, request: gr.Request) -> KeysView:
        user = _user(request)
        if user and key_id and self.access.store.revoke_key(key_id, user=user):
            gr.Info("Clé révoquée.")
        return self.keys_view(request)

    # accounts (administrators; each event is guarded by MANAGE_ACCOUNTS)
    def _accounts_view(self, message: str) -> AccountsView:
        names = [a.name for a in self.access.store.users()]
        return AccountsView(message, usage_markdown(self.access), gr.update(choices=names, value=None))

    def add_account(self, name: str, password: str, role: str) -> AccountsView:
        try:
            account = self.access.store.add_user((name or "").strip(), password or "", parse_role(role or ""))
        except (AccountError, ValueError) as exc:
            return replace(self._accounts_view(f"✗ {escape_markdown(str(exc))}"), password="")
        message = f"Compte « {escape_markdown(account.name)} » créé ({account.role.value})."
        return replace(self._accounts_view(message), name="", password="")

    def set_role(self, name: str | None, role: str | None, request: gr.Request) -> AccountsView:
        if not name or not role:
            return self._accounts_view("Choisissez un compte et un rôle.")
        if name.casefold() == (_user(request) or "").casefold():
            return self._accounts_view("✗ Vous ne pouvez pas changer votre propre rôle.")
        try:
            self.access.store.set_role(name, parse_role(role))
        except (AccountError, ValueError) as exc:
            return self._accounts_view(f"✗ {escape_markdown(str(exc))}")
        return self._accounts_view(f"« {escape_markdown(name)} » est maintenant {role}.")

    def remove_user(self, name: str | None, request: gr.Request) -> AccountsView:
        if not name:
            return self._accounts_view("Choisissez un compte.")
        if name.casefold() == (_user(request) or "").casefold():
            return self._accounts_view("✗ Vous ne pouvez pas supprimer votre propre compte.")
        try:
            self.access.store.remove_user(name)
        except AccountError as exc:
            return self._accounts_view(f"✗ {escape_markdown(str(exc))}")
        return self._accounts_view(f"Compte « {escape_markdown(name)} » supprimé, avec ses clés d'API.")
