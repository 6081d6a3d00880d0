"""The interface for a team: controls shown by role, and each user's saved conversations.

``TeamPanel`` builds the « Mes conversations » controls, wires them to the chat and, on load, shows each
control only to the roles it serves; API keys, accounts and usage are ``admin.AdminPanel``'s. Who is calling
comes from Gradio's request (the session's user, or ``LOCAL_USER`` when nobody logs in).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.accounts import Access, Permission, allows
from assistant.conversations import (
    ConversationStore,
    ConversationSummary,
    conversation_markdown,
    saved_turn,
    title_from,
)
from assistant.types import Answer, Citation
from assistant.ui.admin import AdminPanel, usage_markdown
from assistant.ui.chat import answer_markdown, sources_panel
from assistant.ui.safe_text import escape_markdown
from assistant.ui.updates import KEEP, Outputs

LinkFor = Callable[[Citation], str | None]


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
        self.admin = AdminPanel(access)
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
        """The settings page's part for a team (``AdminPanel``): API keys, accounts and usage by role."""
        self.admin.build()

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
        self.admin.wire()
        controls = [c for group in by_permission.values() for c in group]
        permissions = [p for p, group in by_permission.items() for _ in group]

        def on_load(request: gr.Request) -> RoleView:
            role = self.access.role_of(_user(request))
            usage = allows(role, Permission.SEE_USAGE)
            manages = allows(role, Permission.MANAGE_ACCOUNTS)
            names = [a.name for a in self.access.store.users()] if manages else []
            keys = self.admin.keys_view(request)
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
            usage=self.admin.usage,
            accounts_admin=self.admin.accounts_admin,
            account_picker=self.admin.account_picker,
            conversations=self.picker,
            key_list=self.admin.key_list,
            key_picker=self.admin.key_picker,
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
