"""The interface for a team: controls shown by role, saved conversations, API keys, accounts and usage.

``TeamPanel`` builds the « Mes conversations » controls and the administrators' usage view, and
wires them to the chat; the server checks each administrators' event by role (``guard.guarded``).
Who is calling comes from Gradio's request (the session's user, or ``LOCAL_USER`` when nobody logs in).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.accounts import Access, AccountError, Permission, Role, allows, parse_role
from assistant.conversations import (
    ConversationStore,
    ConversationSummary,
    conversation_markdown,
    saved_turn,
    title_from,
)
from assistant.types import Answer, Citation
from assistant.ui.chat import answer_markdown, sources_panel
from assistant.ui.guard import guarded
from assistant.ui.safe_text import escape_markdown
from assistant.ui.updates import KEEP, Outputs

log = logging.getLogger(__name__)

LinkFor = Callable[[Citation], str | None]
ROLES = [r.value for r in Role]


@dataclass(frozen=True)
class ConversationView:
    """What a « Mes conversations » event sets: the chat it reopens, the saved conversation, the controls."""

    chatbot: Any = KEEP
    sources: Any = KEEP
    answers: Any = KEEP
    current: Any = KEEP
    picker: Any = KEEP
    title: Any = KEEP
    export_file: Any = KEEP
    status: Any = KEEP


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


@dataclass(frozen=True)
class RoleView:
    """What the page shows a user on load, by role: the controls, the usage and accounts views, their lists."""

    controls: tuple[Any, ...]
    usage: Any
    accounts_admin: Any
    account_picker: Any
    conversations: Any
    key_list: str
    key_picker: Any


def _user(request: gr.Request | None) -> str | None:
    return getattr(request, "username", None)


def conversation_label(summary: ConversationSummary) -> str:
    """« 2026-11-29 · Titre (3 questions) » for the list of conversations."""
    count = f"{summary.turns} question{'s' if summary.turns > 1 else ''}"
    return f"{summary.updated_at[:10]} · {summary.title} ({count})"


def chat_messages(answers: Sequence[Answer]) -> list[dict[str, str]]:
    """The chat as it looked: each question, then its answer with linked markers."""
    messages: list[dict[str, str]] = []
    for turn, answer in enumerate(answers):
        messages.append({"role": "user", "content": answer.question})
        messages.append({"role": "assistant", "content": answer_markdown(answer, turn)})
    return messages


def export_name(title: str) -> str:
    stem = re.sub(r"[^\w-]+", "-", title.lower(), flags=re.UNICODE).strip("-")[:60] or "conversation"
    return f"{stem}.md"


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


class TeamPanel:
    """Saved conversations and the usage view, for the logged-in user."""

    def __init__(
        self,
        access: Access,
        conversations: ConversationStore,
        *,
        versions: Callable[[], Mapping[str, str]],
        link_for: LinkFor,
        exports_dir: Path,
    ) -> None:
        self.access = access
        self.conversations = conversations
        self.versions = versions
        self.link_for = link_for
        self.exports_dir = exports_dir

    # building
    def build_conversations(self) -> None:
        """The « Mes conversations » controls, where they are called (the chat's side column)."""
        gr.Markdown("### Mes conversations")
        self.picker = gr.Dropdown(label="Conversation enregistrée", choices=[], elem_id="conversation-picker")
        with gr.Row():
            self.reopen = gr.Button("Rouvrir", size="sm", elem_id="conversation-reopen")
            self.delete = gr.Button("Supprimer", size="sm", variant="stop", elem_id="conversation-delete")
        self.title = gr.Textbox(label="Nouveau titre", elem_id="conversation-title")
        with gr.Row():
            self.rename = gr.Button("Renommer", size="sm", elem_id="conversation-rename")
            self.export = gr.Button("Exporter (Markdown)", size="sm", elem_id="conversation-export")
        self.export_file = gr.File(
            label="Conversation exportée", visible=False, interactive=False, elem_id="conversation-file"
        )
        self.status = gr.Markdown(elem_id="conversation-status")
        self.current = gr.State(None)  # {"id": …, "saved": number of answers already kept}

    def build_usage(self) -> None:
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

    # events
    def wire(
        self,
        blocks: gr.Blocks,
        *,
        answered: Sequence[Any],
        cleared: Sequence[Any],
        rated: Any,
        chatbot: gr.Chatbot,
        sources: gr.HTML,
        answers: gr.State,
        by_permission: Mapping[Permission, Sequence[gr.components.Component]],
    ) -> None:
        """Connect to the chat: ``answered`` are the events after which answers are saved, ``cleared`` those that
        start a new conversation, ``rated`` the rating event; ``by_permission`` the controls each permission shows."""
        quiet = {"show_progress": "hidden"}
        saved = Outputs(current=self.current, picker=self.picker)
        for event in answered:
            event.then(saved.adapt(self.save), [answers, self.current], saved.components, **quiet)
        for event in cleared:
            event.then(lambda: None, None, self.current, **quiet)
        rated.then(self.count_feedback, None, None, **quiet)
        chat = Outputs(chatbot=chatbot, sources=sources, answers=answers, current=self.current, status=self.status)
        self.reopen.click(chat.adapt(self.open), [self.picker], chat.components, **quiet)
        removed = Outputs(picker=self.picker, current=self.current, status=self.status)
        self.delete.click(removed.adapt(self.remove), [self.picker, self.current], removed.components, **quiet)
        renamed = Outputs(picker=self.picker, title=self.title, status=self.status)
        self.rename.click(renamed.adapt(self.retitle), [self.picker, self.title], renamed.components, **quiet)
        exported = Outputs(export_file=self.export_file, status=self.status)
        self.export.click(exported.adapt(self.export_markdown), [self.picker], exported.components, **quiet)
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
        controls = [c for group in by_permission.values() for c in group]
        permissions = [p for p, group in by_permission.items() for _ in group]

        def on_load(request: gr.Request) -> RoleView:
            role = self.access.role_of(_user(request))
            usage = allows(role, Permission.SEE_USAGE)
            manages = allows(role, Permission.MANAGE_ACCOUNTS)
            names = [a.name for a in self.access.store.users()] if manages else []
            keys = self.keys_view(request)
            return RoleView(
                controls=tuple(gr.update(visible=allows(role, p)) for p in permissions),
                usage=gr.update(visible=usage, value=usage_markdown(self.access) if usage else ""),
                accounts_admin=gr.update(visible=manages),
                account_picker=gr.update(choices=names, value=None),
                conversations=self.choices(request),
                key_list=keys.listing,
                key_picker=keys.picker,
            )

        loaded = Outputs(
            controls=controls,
            usage=self.usage,
            accounts_admin=self.accounts_admin,
            account_picker=self.account_picker,
            conversations=self.picker,
            key_list=self.key_list,
            key_picker=self.key_picker,
        )
        blocks.load(loaded.adapt(on_load), None, loaded.components, **quiet)

    def choices(self, request: gr.Request, value: str | None = None) -> dict[str, Any]:
        user = _user(request)
        found = self.conversations.list(user) if user else []
        return gr.update(choices=[(conversation_label(s), s.id) for s in found], value=value)

    def save(self, answers: list[Answer], current: dict[str, Any] | None, request: gr.Request) -> ConversationView:
        """Keep the answers given since the last save in the user's conversation (created at its first answer)."""
        user = _user(request)
        if user is None or not answers:
            return ConversationView(current=current)
        current = dict(current or {})
        if not current.get("id"):
            current = {"id": self.conversations.create(user, title_from(answers[0].question)), "saved": 0}
        new = answers[current["saved"] :]
        if not new:
            return ConversationView(current=current)
        versions = self.versions()
        for answer in new:
            if not self.conversations.append(user, current["id"], saved_turn(answer, versions)):
                return ConversationView(
                    current=None, picker=self.choices(request)
                )  # deleted meanwhile: the next answer starts a new one
        self.access.store.count(user, questions=len(new), refusals=sum(a.refused for a in new))
        current["saved"] = len(answers)
        return ConversationView(current=current, picker=self.choices(request, current["id"]))

    def count_feedback(self, request: gr.Request) -> None:
        user = _user(request)
        if user is not None:
            self.access.store.count(user, feedback=1)

    def open(self, conversation_id: str | None, request: gr.Request) -> ConversationView:
        """Show a saved conversation again; the next question continues it, with its context."""
        user = _user(request)
        conversation = self.conversations.get(user, conversation_id or "") if user else None
        if conversation is None:
            return ConversationView(status="Choisissez une de vos conversations.")
        answers = [t.as_answer() for t in conversation.turns]
        current = {"id": conversation.id, "saved": len(answers)}
        message = f"Conversation « {escape_markdown(conversation.title)} » rouverte : vos questions la poursuivent."
        return ConversationView(
            chatbot=chat_messages(answers),
            sources=sources_panel(answers, self.link_for),
            answers=answers,
            current=current,
            status=message,
        )

    def remove(
        self, conversation_id: str | None, current: dict[str, Any] | None, request: gr.Request
    ) -> ConversationView:
        user = _user(request)
        if not user or not conversation_id or not self.conversations.delete(user, conversation_id):
            return ConversationView(current=current, status="Choisissez une de vos conversations.")
        if current and current.get("id") == conversation_id:
            current = None  # the chat on screen is no longer saved; its next answer starts a new conversation
        return ConversationView(picker=self.choices(request), current=current, status="Conversation supprimée.")

    def retitle(self, conversation_id: str | None, title: str, request: gr.Request) -> ConversationView:
        user = _user(request)
        if not user or not conversation_id:
            return ConversationView(title=title, status="Choisissez une de vos conversations.")
        if not self.conversations.rename(user, conversation_id, title or ""):
            return ConversationView(title=title, status="Indiquez un titre.")
        return ConversationView(
            picker=self.choices(request, conversation_id), title="", status="Conversation renommée."
        )

    def export_markdown(self, conversation_id: str | None, request: gr.Request) -> ConversationView:
        user = _user(request)
        conversation = self.conversations.get(user, conversation_id or "") if user else None
        if conversation is None:
            return ConversationView(export_file=gr.update(visible=False), status="Choisissez une de vos conversations.")
        folder = self.exports_dir / "conversations" / conversation.id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / export_name(conversation.title)
        path.write_text(conversation_markdown(conversation), encoding="utf-8")
        return ConversationView(
            export_file=gr.update(value=str(path), visible=True), status="Conversation exportée avec ses sources."
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
