"""Text from documents and models made safe for the page (pure): escaped Markdown, http(s)-only links.

Documents and model output are data: their ``<img>``, ``<a>``, ``[text](url)`` and
``![](url)`` must reach the reader as characters, never as markup that loads an
address or opens a link.
"""

from __future__ import annotations

import html
import ipaddress
import re
from urllib.parse import urlsplit

# Backslash-escaped in Markdown: brackets make links and images (``[x](u)``, ``![x](u)``, ``[x]: u``).
_MARKDOWN_LINK_CHARS = re.compile(r"([\\\[\]])")
# Bare addresses that Markdown renderers turn into links (GFM autolinks): "http://", "https://", "www.".
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp)(:)(?=//)|\b(www)(\.)")
# Reserved for documentation and tests (RFC 2606, RFC 6761): never a real site.
NON_PUBLIC_SUFFIXES = (".invalid", ".example", ".test", ".localhost", ".local", ".internal", ".lan", ".home.arpa")
NON_PUBLIC_NAMES = {"localhost", "example.com", "example.org", "example.net"}


def escape_markdown(text: str) -> str:
    """``text`` shown as written in a Markdown message: no HTML tag, link or image survives.

    HTML special characters become entities; brackets are backslash-escaped so that no
    Markdown link, image or reference definition can be formed, and bare addresses get an
    escaped ``:`` or ``.`` so that no autolink is formed either. Emphasis and lists stay.
    """
    escaped = _MARKDOWN_LINK_CHARS.sub(r"\\\1", html.escape(text, quote=False))
    return _AUTOLINK.sub(lambda m: f"{m.group(1)}\\:" if m.group(1) else f"{m.group(3)}\\.", escaped)


def safe_href(url: object) -> str | None:
    """``url`` when it is an absolute http(s) address with a host, else None (``javascript:``, ``data:``…)."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if any(c in url for c in "\"'<>\\ \t\r\n"):
        return None
    return url


def link_href(link: object) -> str | None:
    """An http(s) address or a path on this site (``/documents/…``) kept as a link; anything else None."""
    if isinstance(link, str) and link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link
    return safe_href(link)


def public_href(url: object) -> str | None:
    """``url`` when it is an http(s) address that can be a public site, else None.

    Not public: names reserved for examples and tests (``.invalid``, ``.example``, ``.test``,
    ``example.org``…), single-label names (``intranet``), local names and IP addresses that are
    not global (loopback, private, link-local). A link to them could not open for a reader.
    """
    href = safe_href(url)
    if href is None:
        return None
    host = (urlsplit(href).hostname or "").rstrip(".").lower()
    try:
        return href if ipaddress.ip_address(host).is_global else None
    except ValueError:
        pass
    if host in NON_PUBLIC_NAMES or host.endswith(NON_PUBLIC_SUFFIXES) or "." not in host:
        return None
    if any(host.endswith("." + name) for name in NON_PUBLIC_NAMES):
        return None
    return href
