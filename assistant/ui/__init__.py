"""Web interface (Gradio behind our own FastAPI routes): chat with cited sources, filters, documents page, feedback, settings."""

from assistant.ui.layout import build_ui
from assistant.ui.server import PortInUse, bind, launch

__all__ = ["PortInUse", "bind", "build_ui", "launch"]
