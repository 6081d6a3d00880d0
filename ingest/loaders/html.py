"""HTML pages: main content only, extracted by trafilatura (menus, footers, banners dropped)."""

from __future__ import annotations

from pathlib import Path

import trafilatura

from ingest.loaders import LoadedFile, LoadError
from ingest.loaders.limits import ReadBudget
from ingest.loaders.text import decode_text, markdown_blocks


def load_html(data: bytes, path: Path, budget: ReadBudget) -> LoadedFile:
    html = decode_text(data)
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
