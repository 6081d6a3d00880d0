"""The HTTP API (``/v1``), OpenAI-compatible for chat, on the same FastAPI app as the interface."""

from fastapi import FastAPI

from assistant.api.errors import ApiError, add_error_handlers
from assistant.api.routes import ApiServices, DocumentDesk, IngestResult, build_api_router


def mount_api(app: FastAPI, services: ApiServices) -> None:
    """Add the ``/v1`` routes and their JSON errors to ``app``."""
    add_error_handlers(app)
    app.include_router(build_api_router(services))


__all__ = ["ApiError", "ApiServices", "DocumentDesk", "IngestResult", "build_api_router", "mount_api"]
