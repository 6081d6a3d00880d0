"""Web interface (Gradio): chat with cited sources, filters, documents page, feedback, settings."""

from assistant.ui.layout import build_ui
from assistant.ui.server import index_demo_if_empty, launch

__all__ = ["build_ui", "index_demo_if_empty", "launch"]
