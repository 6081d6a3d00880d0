"""Starting the interface: the demo corpus on an empty index, access protection, launch."""

from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr

from assistant.factory import Components
from assistant.ui.about import exposed_without_auth
from assistant.ui.assets import CLICK_JS, CSS
from ingest.sync import discover

log = logging.getLogger(__name__)


def index_demo_if_empty(components: Components, demo_dir: Path) -> None:
    """Index ``demo_dir`` when the index holds no document; an existing index is kept as it is."""
    count = len(components.store.documents())
    if count:
        log.info("index: %d documents already indexed in %s (kept)", count, components.settings.data_dir)
        return
    if not demo_dir.is_dir():
        log.warning("index empty and no demo corpus at %s: add documents from the Documents page", demo_dir)
        return
    log.info("index empty: indexing the demo corpus %s (once; one to three minutes on 2 cores)", demo_dir)
    report = components.synchronizer.sync(discover([demo_dir]))
    components.keyword.rebuild()
    log.info("demo corpus indexed: %s", report.summary().splitlines()[0])


def launch(
    blocks: gr.Blocks, components: Components, *, port: int | None = None, block: bool = True
) -> tuple[object, str, str]:
    """Serve ``blocks`` with the UI settings; ``block=False`` returns at once (tests)."""
    settings = components.settings
    ui = settings.ui
    auth = (ui.auth_user, ui.auth_password) if ui.auth_user and ui.auth_password else None
    if exposed_without_auth(settings):
        log.warning(
            "the interface listens on %s without a password: anyone who reaches this address can read and change "
            "the index; set ASSISTANT_UI__AUTH_USER and ASSISTANT_UI__AUTH_PASSWORD",
            ui.host,
        )
    blocks.queue(default_concurrency_limit=2)
    return blocks.launch(
        server_name=ui.host,
        server_port=port or ui.port,
        auth=auth,
        auth_message="Assistant documentaire : identifiez-vous.",
        prevent_thread_lock=not block,
        # Gradio's own hard limit (its message is in English), well above ours so that most oversized files
        # reach the form's French refusal, while a huge upload is still cut off before filling the disk
        max_file_size=f"{int(ui.max_upload_mb * 4) + 1}mb",
        footer_links=[],
        run_history=False,
        css=CSS,
        js=CLICK_JS,
        quiet=not block,
    )
