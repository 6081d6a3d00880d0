"""HTML pages: main content only, extracted by trafilatura (menus, footers, banners dropped)."""

from __future__ import annotations

import re
from pathlib import Path

import trafilatura

from assistant.corpus import LoadError
from ingest.loaders.base import LoadedFile
from ingest.loaders.limits import ReadBudget
from ingest.loaders.text import decode_text, markdown_blocks

_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def load_html(data: bytes, path: Path, budget: ReadBudget) -> LoadedFile:
    html = decode_text(data)
    if len(html) > budget.limits.max_chars:
        # main-content extraction takes minutes on pages of millions of characters: the page's
        # text without its tags, counted first, refuses the oversized ones before it starts
        budget.check_length(len(_TAG.sub("", _SCRIPT_OR_STYLE.sub("", html))))
    content = trafilatura.extract(
        html, output_format="markdown", include_tables=True, include_comments=False, favor_precision=True
    )
    if not content:
        # Short pages fall under trafilatura's precision threshold; retry permissively.
        content = trafilatura.extract(html, output_format="markdown", include_tables=True, favor_recall=True)
    if not content:
        raise LoadError("page HTML sans contenu principal lisible")
    meta: dict[str, object] = {}
    info = trafilatura.extract_metadata(html)
    if info is not None:
        for key, value in (("title", info.title), ("organisation", info.sitename), ("url", info.url)):
            if value:
                meta[key] = value
    return LoadedFile(blocks=markdown_blocks(content), metadata=meta)
