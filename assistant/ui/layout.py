"""The interface: a chat with filters and sources, precedents and notes, a documents page, the active settings.

``build_ui`` receives the components and wires components to ``Actions``; it holds no logic.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from assistant.accounts import Access, Permission, open_access
from assistant.conversations import ConversationStore
from assistant.notes.export import ExportFolder
from assistant.retrieval.filters import Filters
from assistant.ui.actions import Actions, citation_link
from assistant.ui.chat import sources_panel
from assistant.ui.documents import COLUMNS
from assistant.ui.facets import FACETS, describe_filters
from assistant.ui.guard import guarded
from assistant.ui.note_tab import build_note_tab
from assistant.ui.precedents_tab import build_precedents_tab
from assistant.ui.services import AppServices
from assistant.ui.team import TeamPanel
from assistant.ui.updates import Outputs

TITLE = "Assistant documentaire — politique de la ville"
UPLOAD_TYPES = [".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt", ".yaml"]
# title, organisation, date, format, pages, passages, ingested at, file, id
COLUMN_WIDTHS = ["30%", "18%", "9%", "6%", "6%", "7%", "8%", "10%", "6%"]
PLACEHOLDER = (
    "**Posez une question sur les documents indexés.**  \n"
    "Chaque phrase de la réponse renvoie à sa source [n] : cliquez dessus pour voir le passage cité."
)


# Gradio's own texts that its French catalogue lacks (the chat's per-message copy button); given for every
# language, since the whole interface is in French whatever the browser's language
GRADIO_TEXTS = {"chatbot.copy_message": "Copier le message", "chatbot.copied_message": "Message copié"}
FRENCH = gr.I18n(**{locale: GRADIO_TEXTS for locale in ("en", "fr")})
# the conversation as plain text, for the clipboard: markers [n] without their links, no HTML
COPY_CONVERSATION_JS = r"""
(messages) => {
  const raw = (content) =>
    typeof content === "string" ? content
    : Array.isArray(content) ? content.map(raw).join("\n")
    : (content && typeof content.text === "string") ? content.text : "";
  const plain = (content) => raw(content)
    .replace(/\[\\\[(\d+)\\\]\]\(#source-[\d-]+\)/g, "[$1]")
    .replace(/<[^>]+>/g, "")
    .trim();
  const text = (messages || [])
    .map((m) => (m.role === "user" ? "Question : " : "Réponse : ") + plain(m.content))
    .join("\n\n");
  if (navigator.clipboard) navigator.clipboard.writeText(text);
  return [];
}
"""


@dataclass(frozen=True)
class ChatTab:
    """The « Questions » tab's components that events read or update."""

    facets: list[gr.Dropdown]
    year_from: gr.Dropdown
    year_to: gr.Dropdown
    recent_first: gr.Checkbox
    clear_filters: gr.Button
    active: gr.Markdown
    copy_all: gr.Button
    chatbot: gr.Chatbot
    question: gr.Textbox
    send: gr.Button
    new_chat: gr.Button
    export: gr.Button
    feedback_status: gr.Markdown
    comment: gr.Textbox
    send_comment: gr.Button
    export_file: gr.File
    sources: gr.HTML


@dataclass(frozen=True)
class DocumentsTab:
    """The « Documents » tab's components that events read or update."""

    upload: gr.File
    ingest_uploads: gr.Button
    folder: gr.Textbox
    ingest_folder: gr.Button
    message: gr.Textbox
    stats: gr.Markdown
    picker: gr.Dropdown
    reindex: gr.Button
    choose_reference: gr.Button
    delete: gr.Button
    search: gr.Textbox
    table: gr.Dataframe


def build_chat_tab(team: TeamPanel) -> ChatTab:
    """The « Questions » tab: filters, the conversation, ratings, and the sources of the answers."""
    with gr.Tab("Questions", id="chat"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=230):
                gr.Markdown("### Filtres")
                facets = [
                    gr.Dropdown(label=label, multiselect=True, choices=[], elem_id=f"filter-{key}")
                    for key, label in FACETS.items()
                ]
                year_from = gr.Dropdown(label="Depuis l'année", choices=[], elem_id="year-from")
                year_to = gr.Dropdown(label="Jusqu'à l'année", choices=[], elem_id="year-to")
                recent_first = gr.Checkbox(
                    label="Sources récentes d'abord",
                    info="chaque année d'ancienneté fait reculer une source ; aucune n'est écartée",
                    elem_id="recent-first",
                )
                clear_filters = gr.Button("Retirer les filtres", size="sm")
                team.build_conversations()
            with gr.Column(scale=3):
                active = gr.Markdown(describe_filters(Filters()), elem_id="active-filters")
                # Gradio's own "copy_all" button is labelled in English whatever the language: ours
                copy_all = gr.Button("Copier la conversation", size="sm", elem_id="copy-conversation")
                chatbot = gr.Chatbot(
                    label="Conversation",
                    height=540,
                    elem_id="chat",
                    placeholder=PLACEHOLDER,
                    feedback_options=("Like", "Dislike"),
                    buttons=["copy", copy_all],  # no "share": it would publish to an outside service
                )
                with gr.Row():
                    question = gr.Textbox(
                        placeholder="Posez votre question…", show_label=False, scale=5, elem_id="question"
                    )
                    send = gr.Button("Envoyer", variant="primary", scale=1, elem_id="send")
                with gr.Row():
                    new_chat = gr.Button("Nouvelle conversation", size="sm", elem_id="new-chat")
                    export = gr.Button("Exporter les avis (CSV)", size="sm", elem_id="export-feedback")
                feedback_status = gr.Markdown(
                    "Notez une réponse avec 👍 ou 👎 sous le message ; un commentaire est bienvenu.",
                    elem_id="feedback-status",
                )
                with gr.Row():
                    comment = gr.Textbox(
                        label="Commentaire sur la réponse notée (facultatif)", scale=5, elem_id="comment"
                    )
                    send_comment = gr.Button("Envoyer le commentaire", scale=1, size="md", elem_id="send-comment")
                export_file = gr.File(label="Avis exportés", interactive=False, visible=False, elem_id="export-file")
            with gr.Column(scale=2, min_width=300):
                gr.Markdown("### Sources")
                sources = gr.HTML(sources_panel([], citation_link), elem_id="sources")
    return ChatTab(
        facets,
        year_from,
        year_to,
        recent_first,
        clear_filters,
        active,
        copy_all,
        chatbot,
        question,
        send,
        new_chat,
        export,
        feedback_status,
        comment,
        send_comment,
        export_file,
        sources,
    )


def build_documents_tab(max_mb: float) -> DocumentsTab:
    """The « Documents » tab: uploads, server folders, and the table of indexed documents."""
    with gr.Tab("Documents", id="documents"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                gr.Markdown("### Ajouter des documents")
                upload = gr.File(
                    label=f"Fichiers PDF, DOCX, HTML, Markdown ou texte, et leurs métadonnées "
                    f"« nom.ext.meta.yaml » ({max_mb:g} Mo au plus par fichier)",
                    file_count="multiple",
                    file_types=UPLOAD_TYPES,
                    type="filepath",
                    elem_id="upload",
                )
                ingest_uploads = gr.Button("Indexer les fichiers envoyés", variant="primary", elem_id="ingest")
                with gr.Row():
                    folder = gr.Textbox(
                        label="…ou un dossier du serveur",
                        placeholder="/srv/documents",
                        scale=4,
                        elem_id="folder",
                    )
                    ingest_folder = gr.Button("Indexer ce dossier", scale=1, size="md", elem_id="ingest-folder")
                message = gr.Textbox(label="Résultat", lines=6, interactive=False, elem_id="ingest-message")
            with gr.Column(scale=2):
                gr.Markdown("### La base documentaire")
                stats = gr.Markdown(elem_id="corpus-stats")
                picker = gr.Dropdown(label="Document", choices=[], elem_id="picker")
                with gr.Row():
                    reindex = gr.Button("Réindexer", size="sm", elem_id="reindex")
                    choose_reference = gr.Button("Exemplaire de référence", size="sm", elem_id="choose-reference")
                    delete = gr.Button("Retirer de l'index", size="sm", variant="stop", elem_id="delete")
        search = gr.Textbox(label="Rechercher un document (titre, organisation, fichier…)", elem_id="doc-search")
        table = gr.Dataframe(
            headers=COLUMNS,
            interactive=False,
            wrap=True,
            column_widths=COLUMN_WIDTHS,
            elem_id="documents-table",
        )
    return DocumentsTab(
        upload,
        ingest_uploads,
        folder,
        ingest_folder,
        message,
        stats,
        picker,
        reindex,
        choose_reference,
        delete,
        search,
        table,
    )


def build_ui(services: AppServices) -> gr.Blocks:
    """The Blocks of the whole app; per-visitor state lives in ``gr.State``."""
    settings = services.settings
    actions = Actions.from_services(services)
    desk = services.desk  # experience cards, shared by the Précédents and Note tabs
    exports = ExportFolder(settings.paths.exports)
    access = open_access(settings)
    team = TeamPanel(
        access,
        ConversationStore(settings.paths.conversations),
        versions=lambda: {doc_id: r.content_hash for doc_id, r in services.store.documents().items()},
        link_for=citation_link,
        exports_dir=settings.paths.exports,
    )
    # uploaded and exported files in Gradio's cache are deleted after a day (checked every hour)
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 86400)) as blocks:
        answers = gr.State([])  # this session's answers, in order: the conversation's memory
        feedback_entry = gr.State(None)  # id of this session's last rating, for its comment
        gr.Markdown(f"## {TITLE}")
        with gr.Tabs():
            chat = build_chat_tab(team)
            build_precedents_tab(blocks, desk, exports)
            build_note_tab(desk, exports)
            documents = build_documents_tab(settings.ui.max_upload_mb)
            with gr.Tab("Réglages", id="settings"):
                settings_view = gr.Markdown(elem_id="settings-view")
                team.build_usage()
        wire_events(blocks, actions, chat, documents, settings_view, answers, feedback_entry, access=access, team=team)
    return blocks


def wire_events(
    blocks: gr.Blocks,
    actions: Actions,
    chat: ChatTab,
    documents: DocumentsTab,
    settings_view: gr.Markdown,
    answers: gr.State,
    feedback_entry: gr.State,
    *,
    access: Access,
    team: TeamPanel,
) -> None:
    """What each control does; the Documents tab's refresh also resets the chat's filters (their choices change).

    The server checks the role of each indexing event (``access``); ``team`` saves the conversations and shows
    each control only to the roles it serves."""
    filter_inputs = [chat.recent_first, chat.year_from, chat.year_to, *chat.facets]
    refreshed = Outputs(
        table=documents.table,
        stats=documents.stats,
        picker=documents.picker,
        settings=settings_view,
        facets=chat.facets,
        year_from=chat.year_from,
        year_to=chat.year_to,
    )
    # Gradio's progress overlay speaks English (« processing | 0.3/0.8s », « queue: 1/2 »): hidden on every
    # event, but the chat's spinner and the indexing progress bar, which shows our French description
    quiet = {"show_progress": "hidden"}
    blocks.load(refreshed.adapt(actions.refresh), outputs=refreshed.components, **quiet)

    chat_in = [chat.question, chat.chatbot, answers, *filter_inputs]
    chat_out = Outputs(chatbot=chat.chatbot, sources=chat.sources, answers=answers, question=chat.question)
    respond = chat_out.adapt(actions.respond)
    answered = [
        trigger(respond, chat_in, chat_out.components, concurrency_limit=2, show_progress="minimal")
        for trigger in (chat.question.submit, chat.send.click)
    ]
    conversation = Outputs(
        chatbot=chat.chatbot,
        sources=chat.sources,
        answers=answers,
        feedback_entry=feedback_entry,
        comment=chat.comment,
        question=chat.question,
    )
    new_conversation = conversation.adapt(actions.new_conversation)
    cleared = [
        chat.new_chat.click(new_conversation, None, conversation.components, **quiet),
        chat.chatbot.clear(new_conversation, None, conversation.components, **quiet),  # the chat's own bin button
    ]
    for control in filter_inputs:
        control.change(actions.show_filters, filter_inputs, chat.active, show_progress="hidden")
    chat.clear_filters.click(refreshed.adapt(actions.refresh), outputs=refreshed.components, **quiet)

    chat.copy_all.click(None, [chat.chatbot], None, js=COPY_CONVERSATION_JS, **quiet)
    rating = Outputs(status=chat.feedback_status, entry=feedback_entry)
    rated = chat.chatbot.like(rating.adapt(actions.rate), [answers], rating.components, **quiet)
    commented = Outputs(status=chat.feedback_status, comment=chat.comment)
    chat.send_comment.click(
        commented.adapt(actions.comment), [chat.comment, feedback_entry], commented.components, **quiet
    )
    chat.export.click(
        guarded(actions.export_feedback, Permission.SEE_FEEDBACK, access), None, chat.export_file, **quiet
    )

    indexed = Outputs(message=documents.message, **refreshed.targets)
    index_events = {"concurrency_id": "index", "concurrency_limit": 1, "show_progress_on": [documents.message]}
    for control, action, permission, inputs in (
        (documents.ingest_uploads, actions.ingest_uploads, Permission.UPLOAD, [documents.upload]),
        (documents.ingest_folder, actions.ingest_folder, Permission.INDEX_FOLDER, [documents.folder]),
        (documents.delete, actions.delete, Permission.DELETE, [documents.picker]),
        (documents.reindex, actions.reindex, Permission.REINDEX, [documents.picker]),
        (documents.choose_reference, actions.choose_reference, Permission.REINDEX, [documents.picker]),
    ):
        control.click(indexed.adapt(guarded(action, permission, access)), inputs, indexed.components, **index_events)
    documents.search.change(actions.search_documents, [documents.search], documents.table, show_progress="hidden")
    team.wire(
        blocks,
        answered=answered,
        cleared=cleared,
        rated=rated,
        chatbot=chat.chatbot,
        sources=chat.sources,
        answers=answers,
        by_permission={
            Permission.UPLOAD: [documents.upload, documents.ingest_uploads],
            Permission.INDEX_FOLDER: [documents.folder, documents.ingest_folder],
            Permission.REINDEX: [documents.reindex, documents.choose_reference],
            Permission.DELETE: [documents.delete],
            Permission.SEE_FEEDBACK: [chat.export],
        },
    )
