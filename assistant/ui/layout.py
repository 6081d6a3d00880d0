"""The interface: a chat with filters and sources, precedents and notes, a documents page, the active settings.

``build_ui`` receives the components and wires components to ``Actions``; it holds no logic.
"""

from __future__ import annotations

import gradio as gr

from assistant.accounts import Permission, open_access
from assistant.conversations import CONVERSATIONS_FILE, ConversationStore
from assistant.experiences.service import ExperienceDesk
from assistant.factory import Components
from assistant.retrieval.filters import Filters
from assistant.ui.actions import Actions, citation_link
from assistant.ui.chat import sources_panel
from assistant.ui.documents import COLUMNS
from assistant.ui.facets import FACETS, describe_filters
from assistant.ui.feedback import FeedbackStore
from assistant.ui.note_tab import build_note_tab
from assistant.ui.precedents_tab import build_precedents_tab
from assistant.ui.team import TeamPanel, guarded

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


def build_ui(components: Components) -> gr.Blocks:
    """The Blocks of the whole app; per-visitor state lives in ``gr.State``."""
    actions = Actions(components, FeedbackStore(components.settings.data_dir / "feedback.sqlite3"))
    desk = ExperienceDesk(components)  # experience cards, shared by the Précédents and Note tabs
    max_mb = components.settings.ui.max_upload_mb
    data_dir = components.settings.data_dir
    access = open_access(components.settings)
    team = TeamPanel(
        access,
        ConversationStore(data_dir / CONVERSATIONS_FILE),
        versions=lambda: {doc_id: r.content_hash for doc_id, r in components.store.documents().items()},
        link_for=citation_link,
        exports_dir=data_dir / "exports",
    )
    # uploaded and exported files in Gradio's cache are deleted after a day (checked every hour)
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 86400)) as blocks:
        answers = gr.State([])  # this session's answers, in order: the conversation's memory
        feedback_entry = gr.State(None)  # id of this session's last rating, for its comment
        gr.Markdown(f"## {TITLE}")
        with gr.Tabs():
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
                            send_comment = gr.Button(
                                "Envoyer le commentaire", scale=1, size="md", elem_id="send-comment"
                            )
                        export_file = gr.File(
                            label="Avis exportés", interactive=False, visible=False, elem_id="export-file"
                        )
                    with gr.Column(scale=2, min_width=300):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(sources_panel([], citation_link), elem_id="sources")
            build_precedents_tab(blocks, desk)
            build_note_tab(desk)
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
                            delete = gr.Button("Retirer de l'index", size="sm", variant="stop", elem_id="delete")
                search = gr.Textbox(
                    label="Rechercher un document (titre, organisation, fichier…)", elem_id="doc-search"
                )
                table = gr.Dataframe(
                    headers=COLUMNS,
                    interactive=False,
                    wrap=True,
                    column_widths=COLUMN_WIDTHS,
                    elem_id="documents-table",
                )
            with gr.Tab("Réglages", id="settings"):
                settings_view = gr.Markdown(elem_id="settings-view")
                team.build_usage()

        filter_inputs = [year_from, year_to, *facets]
        refreshed = [table, stats, picker, settings_view, *facets, year_from, year_to]
        # Gradio's progress overlay speaks English (« processing | 0.3/0.8s », « queue: 1/2 »): hidden on every
        # event, but the chat's spinner and the indexing progress bar, which shows our French description
        quiet = {"show_progress": "hidden"}
        blocks.load(actions.refresh, outputs=refreshed, **quiet)

        chat_in = [question, chatbot, answers, *filter_inputs]
        chat_out = [chatbot, sources, answers, question]
        answered = [
            trigger(actions.respond, chat_in, chat_out, concurrency_limit=2, show_progress="minimal")
            for trigger in (question.submit, send.click)
        ]
        conversation = [chatbot, sources, answers, feedback_entry, comment, question]
        cleared = [
            new_chat.click(actions.new_conversation, None, conversation, **quiet),
            chatbot.clear(actions.new_conversation, None, conversation, **quiet),  # the chat's own bin button
        ]
        for control in filter_inputs:
            control.change(actions.show_filters, filter_inputs, active, show_progress="hidden")
        clear_filters.click(actions.refresh, outputs=refreshed, **quiet)

        copy_all.click(None, [chatbot], None, js=COPY_CONVERSATION_JS, **quiet)
        rated = chatbot.like(actions.rate, [answers], [feedback_status, feedback_entry], **quiet)
        send_comment.click(actions.comment, [comment, feedback_entry], [feedback_status, comment], **quiet)
        export.click(guarded(actions.export_feedback, Permission.SEE_FEEDBACK, access), None, export_file, **quiet)

        documents_out = [message, *refreshed]
        index_events = {"concurrency_id": "index", "concurrency_limit": 1, "show_progress_on": [message]}
        # the server checks the role of each event; the controls are also hidden from roles without them
        ingest_uploads.click(
            guarded(actions.ingest_uploads, Permission.UPLOAD, access), [upload], documents_out, **index_events
        )
        ingest_folder.click(
            guarded(actions.ingest_folder, Permission.INDEX_FOLDER, access), [folder], documents_out, **index_events
        )
        delete.click(guarded(actions.delete, Permission.DELETE, access), [picker], documents_out, **index_events)
        reindex.click(guarded(actions.reindex, Permission.REINDEX, access), [picker], documents_out, **index_events)
        search.change(actions.search_documents, [search], table, show_progress="hidden")
        team.wire(
            blocks,
            answered=answered,
            cleared=cleared,
            rated=rated,
            chatbot=chatbot,
            sources=sources,
            answers=answers,
            by_permission={
                Permission.UPLOAD: [upload, ingest_uploads],
                Permission.INDEX_FOLDER: [folder, ingest_folder],
                Permission.REINDEX: [reindex],
                Permission.DELETE: [delete],
                Permission.SEE_FEEDBACK: [export],
            },
        )
    return blocks
