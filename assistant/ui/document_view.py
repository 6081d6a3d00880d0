"""« Ouvrir le document »: where the link points, and how a served document is sent (pure but for file reads).

A document is served only by its id, through ``DOCUMENT_ROUTE``, and only while it is
in the index. Text formats (Markdown, text, HTML) are shown as sanitised text: the
Markdown without its YAML header, an HTML page as the main content the index read,
no script, no markup of the document's own, no image, links only http(s). PDFs open
in the browser's viewer (at their page), other formats are downloaded.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from markdown_it import MarkdownIt

from assistant.corpus import LoadError
from assistant.ui.safe_text import public_href, safe_href

DOCUMENT_ROUTE = "/documents/"
TEXT_FORMATS = {"md", "markdown", "txt", "html", "htm"}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
# The text view: nothing loads, nothing runs (sandbox: no script, an opaque origin), only our inline style.
TEXT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'; sandbox allow-popups allow-popups-to-escape-sandbox"
)
# A PDF in the browser's viewer (a sandbox would block the viewer); a download for the rest.
FILE_POLICY = "default-src 'none'; object-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'"
STYLE = (
    "body{max-width:46rem;margin:2rem auto;padding:0 1rem;font-family:system-ui,sans-serif;line-height:1.55}"
    "pre{white-space:pre-wrap;font-family:inherit}.notice{color:#666;font-size:.85em;border-bottom:1px solid #ddd}"
)

TextReader = Callable[[Path, str], str]


def document_link(doc_id: str, metadata: Mapping[str, Any], page: int | None = None) -> str | None:
    """Where « Ouvrir le document » points: the original public page, or this app's copy of the file.

    An HTML page goes to its original URL when that URL can be a public site (``.invalid``,
    ``.test``, private or loopback hosts cannot: the local copy is used); a downloaded document
    to its URL; a local file to ``DOCUMENT_ROUTE`` (a PDF at ``page``). Never a non-http(s) link.
    """
    source = str(metadata.get("source", ""))
    fmt = str(metadata.get("format", "")).lower()
    anchor = f"#page={page}" if page and fmt == "pdf" else ""
    if source.startswith(("http://", "https://")):
        url = safe_href(source)
        return url + anchor if url else None
    if fmt in ("html", "htm") and (url := public_href(metadata.get("url"))):
        return url
    if not source or not doc_id:
        return None
    return DOCUMENT_ROUTE + quote(doc_id, safe="") + anchor


@dataclass(frozen=True)
class ServedDocument:
    """What the document route sends: body, media type, headers."""

    body: bytes
    media_type: str
    headers: dict[str, str]


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")
    md.validateLink = lambda url: safe_href(url) is not None  # links only http(s)
    return md


_MD = _markdown()


def text_page(title: str, body_html: str) -> str:
    """A standalone French page around already-sanitised ``body_html``."""
    return (
        f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>"
        f"<p class=\"notice\">Texte du document tel que l'assistant l'a indexé.</p>{body_html}</body></html>"
    )


def text_body(path: Path, fmt: str, read_text: TextReader) -> str:
    """Sanitised HTML of a text document: Markdown without its YAML header, text as is, HTML's main content."""
    try:
        body = read_text(path, fmt)
    except LoadError as exc:
        return f"<p>{html.escape(str(exc))}</p>"
    if fmt in ("html", "htm", "md", "markdown"):
        return _MD.render(body)
    return f"<pre>{html.escape(body)}</pre>"


def serve_document(path: Path, metadata: Mapping[str, Any], read_text: TextReader) -> ServedDocument:
    """The response for an indexed local file (the caller checked it is in the index). Raises OSError.

    ``read_text(path, format)`` reads a text document as the index read it (``Indexer.readable_text``).
    """
    fmt = str(metadata.get("format", "") or path.suffix.lstrip(".")).lower()
    common = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
    if fmt in TEXT_FORMATS:
        title = str(metadata.get("title") or path.name)
        page = text_page(title, text_body(path, fmt, read_text))
        headers = {**common, "Content-Security-Policy": TEXT_POLICY}
        return ServedDocument(page.encode("utf-8"), "text/html; charset=utf-8", headers)
    disposition = "inline" if fmt == "pdf" else "attachment"
    filename = quote(path.name, safe="")
    headers = {
        **common,
        "Content-Security-Policy": FILE_POLICY,
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{filename}",
    }
    return ServedDocument(path.read_bytes(), CONTENT_TYPES.get(fmt, "application/octet-stream"), headers)
