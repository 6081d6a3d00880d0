"""The HTTP API (``/v1``), OpenAI-compatible for chat, on the same FastAPI app as the interface."""

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from assistant.api.errors import ApiError, add_error_handlers
from assistant.api.routes import ApiServices, DocumentDesk, IngestResult, build_api_router

DOCS_URL = "/v1/docs"
DOCS_ASSETS = "/v1/docs-assets"


def mount_api(app: FastAPI, services: ApiServices) -> None:
    """Add the ``/v1`` routes, their JSON errors and the API's documentation page to ``app``."""
    add_error_handlers(app)
    _add_docs_page(app)  # before the router: its catch-all answers every other /v1 address
    app.include_router(build_api_router(services))


def _add_docs_page(app: FastAPI) -> None:
    """The OpenAPI page with Swagger UI's files served from the installed package: FastAPI's default page loads
    them from a CDN, which an offline install cannot reach. Create ``app`` with ``docs_url=None``."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    def docs_page() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/v1/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url="data:,",
        )


__all__ = ["ApiError", "ApiServices", "DocumentDesk", "IngestResult", "build_api_router", "mount_api"]
