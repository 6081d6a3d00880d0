"""Manifest loading, the downloader and manifest ingestion, against a real HTTP server on 127.0.0.1 only."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from files import write_html, write_pdf

from ingest.manifest import Fetcher, FetchError, ManifestEntry, ManifestError, load_manifest, manifest_sources

PAGE_ETAG = '"fiche-v1"'
PAGE_LAST_MODIFIED = "Wed, 01 Jul 2015 08:00:00 GMT"
PAGE_SENTENCES = [
    "Les jardins partagés du quartier des Glycines accueillent quarante familles chaque samedi matin.",
    "Le bailleur social a cédé une parcelle de huit cents mètres carrés au collectif des habitants.",
    "Un animateur de la régie de quartier organise des ateliers de compostage avec l'école voisine.",
]
PDF_PAGES = [
    "Rapport annuel du contrat de ville de Valbrune.",
    "La couveuse d'entreprises des Tilleuls a accompagné vingt-deux créateurs en 2015.",
]
LIMIT = 100 * 1024  # the tests' max_bytes; /huge sends three times as much
LOOPBACK = ["127.0.0.0/8"]  # the tests' server is not public: allowed as an intranet would be


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler still sleeping in /slow must not block shutdown

    def __init__(self, page: bytes, pdf: bytes) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.page = page
        self.pdf = pdf
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, int, dict[str, str]]] = []  # (path, status, request headers)

    def handle_error(self, request, client_address) -> None:
        pass  # the client hanging up on /slow and /huge is the point of those routes


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _reply(self, status: int, body: bytes = b"", content_type: str | None = None, **headers: str) -> None:
        self.server.requests.append((self.path, status, dict(self.headers)))
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        if body or status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        server = self.server
        server.hits[self.path] += 1
        match self.path:
            case "/page.html":
                if self.headers.get("If-None-Match") == PAGE_ETAG:
                    self._reply(304, ETag=PAGE_ETAG)
                else:
                    self._reply(
                        200, server.page, "text/html; charset=utf-8", ETag=PAGE_ETAG, Last_Modified=PAGE_LAST_MODIFIED
                    )
            case "/doc.pdf":
                self._reply(200, server.pdf, "application/pdf")
            case "/octet/rapport.pdf":
                self._reply(200, server.pdf, "application/octet-stream")
            case "/redirect":
                self._reply(302, Location="/page.html")
            case "/loop":
                self._reply(302, Location="/loop")
            case "/image.png":
                self._reply(200, b"\x89PNG\r\n\x1a\n" + os.urandom(256), "image/png")
            case "/slow":
                time.sleep(2)
                self._reply(200, b"trop tard", "text/plain")
            case "/huge":
                # No Content-Length: the limit must be enforced while streaming.
                server.requests.append((self.path, 200, dict(self.headers)))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                for _ in range(30):
                    self.wfile.write(b"x" * 10 * 1024)
            case "/huge-declared":
                server.requests.append((self.path, 200, dict(self.headers)))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(3 * LIMIT))
                self.end_headers()
            case "/flaky":
                if server.hits[self.path] == 1:
                    self._reply(500, b"erreur interne", "text/plain")
                else:
                    self._reply(200, b"Permanence emploi le mardi.", "text/plain; charset=utf-8")
            case "/down":
                self._reply(503, b"maintenance", "text/plain")
            case _:
                self._reply(404, b"introuvable", "text/plain")


def _start(page: bytes, pdf: bytes) -> tuple[_Server, threading.Thread]:
    server = _Server(page, pdf)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def _stop(server: _Server, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def site_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    folder = tmp_path_factory.mktemp("site")
    page = write_html(folder / "page.html", "Fiche pratique : les jardins partagés", PAGE_SENTENCES).read_bytes()
    pdf = write_pdf(folder / "doc.pdf", PDF_PAGES).read_bytes()
    return page, pdf


@pytest.fixture(scope="module")
def http_server(site_files: tuple[bytes, bytes]) -> Iterator[_Server]:
    server, thread = _start(*site_files)
    yield server
    _stop(server, thread)


@pytest.fixture
def site(http_server: _Server, monkeypatch: pytest.MonkeyPatch) -> _Server:
    """The server with fresh counters; proxies unset so requests stay on 127.0.0.1."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    http_server.hits.clear()
    http_server.requests.clear()
    return http_server


def url(server: _Server, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


@pytest.fixture
def fetcher(site: _Server, tmp_path: Path) -> Iterator[Fetcher]:
    with Fetcher(tmp_path / "cache", timeout_s=0.5, max_bytes=LIMIT, backoff_s=0, allowed=LOOPBACK) as fetcher:
        yield fetcher


# --- load_manifest ---------------------------------------------------------------------------------------------


def test_manifest_entries_keep_every_key_and_duplicates_once(tmp_path, caplog):
    manifest = tmp_path / "sources.yaml"
    manifest.write_text(
        "sources:\n"
        '  - title: "Guide des jardins"\n    url: "https://exemple.invalid/guide.pdf"\n'
        '    organisation: "Centre fictif"\n    type: "guide"\n    date: "2015"\n'
        '  - title: "Fiche"\n    url: " http://exemple.invalid/fiche "\n'
        '  - title: "Guide (doublon)"\n    url: "https://exemple.invalid/guide.pdf"\n',
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING, logger="ingest.manifest"):
        entries = load_manifest(manifest)
    assert entries == [
        ManifestEntry(
            url="https://exemple.invalid/guide.pdf",
            metadata={
                "title": "Guide des jardins",
                "organisation": "Centre fictif",
                "type": "guide",
                "date": "2015",
                "url": "https://exemple.invalid/guide.pdf",
            },
        ),
        ManifestEntry(
            url="http://exemple.invalid/fiche", metadata={"title": "Fiche", "url": "http://exemple.invalid/fiche"}
        ),
    ]
    assert "entrée n° 3" in caplog.text and "déjà listée" in caplog.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sources: [\n  - title: x\n", "YAML invalide"),
        ("titre: rien\n", "une liste « sources: » est attendue"),
        ("sources: une chaîne\n", "une liste « sources: » est attendue"),
        (
            "sources:\n  - url: https://a.invalid/\n  - title: sans adresse\n",
            "entrée n° 2 : le champ « url » est manquant",
        ),
        (
            "sources:\n  - url: ftp://a.invalid/x.pdf\n",
            "entrée n° 1 : l'adresse « ftp://a.invalid/x.pdf » doit commencer",
        ),
        ("sources:\n  - juste une chaîne\n", "entrée n° 1 : un dictionnaire clé: valeur est attendu"),
    ],
)
def test_invalid_manifests_are_refused_in_french_naming_file_and_entry(tmp_path, text, expected):
    manifest = tmp_path / "sources.yaml"
    manifest.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as error:
        load_manifest(manifest)
    assert str(manifest) in str(error.value) and expected in str(error.value)


def test_missing_manifest_file_is_a_manifest_error(tmp_path):
    with pytest.raises(ManifestError, match="illisible"):
        load_manifest(tmp_path / "absent.yaml")


# --- Fetcher ---------------------------------------------------------------------------------------------------


def test_page_is_cached_then_revalidated_with_a_304(site, fetcher):
    first = fetcher.fetch(url(site, "/page.html"))
    assert first.suffix == ".html" and first.read_bytes() == site.page
    sidecar = json.loads(first.with_suffix(".json").read_text("utf-8"))
    assert sidecar["etag"] == PAGE_ETAG and sidecar["last_modified"] == PAGE_LAST_MODIFIED
    assert sidecar["url"] == sidecar["final_url"] == url(site, "/page.html")
    assert sidecar["content_type"].startswith("text/html") and sidecar["fetched_at"]
    written = first.stat().st_mtime_ns

    second = fetcher.fetch(url(site, "/page.html"))
    assert second == first and second.stat().st_mtime_ns == written
    assert [(path, status) for path, status, _ in site.requests] == [("/page.html", 200), ("/page.html", 304)]
    headers = site.requests[1][2]
    assert headers["If-None-Match"] == PAGE_ETAG and headers["If-Modified-Since"] == PAGE_LAST_MODIFIED
    assert headers["User-Agent"].startswith("AssistantPolitiqueVille/0.1")


def test_pdf_and_octet_stream_pdf_get_a_pdf_extension(site, fetcher):
    assert fetcher.fetch(url(site, "/doc.pdf")).suffix == ".pdf"
    fallback = fetcher.fetch(url(site, "/octet/rapport.pdf"))
    assert fallback.suffix == ".pdf" and fallback.read_bytes() == site.pdf


def test_redirect_is_followed_and_recorded(site, fetcher):
    path = fetcher.fetch(url(site, "/redirect"))
    assert path.suffix == ".html" and path.read_bytes() == site.page
    assert json.loads(path.with_suffix(".json").read_text("utf-8"))["final_url"] == url(site, "/page.html")
    with pytest.raises(FetchError, match="trop de redirections"):
        fetcher.fetch(url(site, "/loop"))


def test_404_is_not_retried(site, fetcher):
    with pytest.raises(FetchError) as error:
        fetcher.fetch(url(site, "/missing"))
    assert str(error.value) == "page introuvable (HTTP 404)"
    assert site.hits["/missing"] == 1


def test_unsupported_content_type_is_refused(site, fetcher, tmp_path):
    with pytest.raises(FetchError) as error:
        fetcher.fetch(url(site, "/image.png"))
    assert str(error.value) == f"type de contenu non pris en charge (image/png) : {url(site, '/image.png')}"
    assert list((tmp_path / "cache").iterdir()) == []


def test_timeout_is_retried_then_reported(site, fetcher):
    started = time.perf_counter()
    with pytest.raises(FetchError) as error:
        fetcher.fetch(url(site, "/slow"))
    assert str(error.value) == f"délai dépassé après 3 tentatives : {url(site, '/slow')}"
    assert site.hits["/slow"] == 3 and time.perf_counter() - started < 3


@pytest.mark.parametrize("path", ["/huge", "/huge-declared"])
def test_oversized_response_is_aborted_and_leaves_no_file(site, fetcher, tmp_path, path):
    with pytest.raises(FetchError) as error:
        fetcher.fetch(url(site, path))
    assert str(error.value) == f"réponse trop volumineuse (> 100 ko) : {url(site, path)}"
    assert list((tmp_path / "cache").iterdir()) == []  # no partial download, no sidecar


def test_interrupted_download_leaves_the_cache_as_it_was(site, fetcher, tmp_path, monkeypatch):
    kept = fetcher.fetch(url(site, "/doc.pdf"))
    before = sorted(p.name for p in (tmp_path / "cache").iterdir())
    original = httpx.Response.iter_bytes

    def killed_after_first_piece(self, *args, **kwargs):
        yield next(original(self, *args, **kwargs))
        raise KeyboardInterrupt("killed mid-download")

    monkeypatch.setattr(httpx.Response, "iter_bytes", killed_after_first_piece)
    with pytest.raises(KeyboardInterrupt):
        fetcher.fetch(url(site, "/octet/rapport.pdf"))
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == before
    assert kept.read_bytes() == site.pdf


def test_server_error_is_retried(site, fetcher):
    path = fetcher.fetch(url(site, "/flaky"))
    assert path.suffix == ".txt" and path.read_text("utf-8") == "Permanence emploi le mardi."
    # only /flaky: a /slow handler of an earlier test may still be finishing its reply
    assert [status for requested, status, _ in site.requests if requested == "/flaky"] == [500, 200]
    with pytest.raises(FetchError, match=r"^le serveur a répondu HTTP 503 après 3 tentatives"):
        fetcher.fetch(url(site, "/down"))
    assert site.hits["/down"] == 3


def test_unreachable_address_uses_the_cached_copy_or_says_why(site_files, tmp_path, caplog, monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    server, thread = _start(*site_files)
    page, fresh = url(server, "/page.html"), url(server, "/doc.pdf")
    with Fetcher(tmp_path / "cache", timeout_s=0.5, retries=1, backoff_s=0, allowed=LOOPBACK) as fetcher:
        cached = fetcher.fetch(page)
        _stop(server, thread)  # the port is now closed: every connection is refused
        with caplog.at_level(logging.WARNING, logger="ingest.manifest"):
            assert fetcher.fetch(page) == cached
        assert "copie locale" in caplog.text
        with pytest.raises(FetchError) as error:
            fetcher.fetch(fresh)
    message = str(error.value)
    assert "ne parvient pas à joindre 127.0.0.1" in message and "copies déjà téléchargées" in message


# --- manifest ingestion, end to end ------------------------------------------------------------------------------


def test_manifest_sources_are_downloaded_and_indexed_with_their_metadata(site, services, tmp_path):
    manifest = tmp_path / "sources.yaml"
    manifest.write_text(
        "sources:\n"
        f'  - title: "Jardins partagés des Glycines"\n    url: "{url(site, "/page.html")}"\n'
        '    organisation: "Centre de ressources fictif"\n    type: "fiche expérience"\n    date: "2015"\n'
        f'  - title: "Rapport annuel de Valbrune"\n    url: "{url(site, "/doc.pdf")}"\n'
        '    organisation: "Ville de Valbrune"\n    date: "2015"\n'
        f'  - title: "Page disparue"\n    url: "{url(site, "/missing")}"\n'
        f'  - title: "Logo"\n    url: "{url(site, "/image.png")}"\n'
        f'  - title: "Ancienne adresse de la fiche"\n    url: "{url(site, "/redirect")}"\n',
        encoding="utf-8",
    )
    with Fetcher(tmp_path / "downloads", timeout_s=0.5, max_bytes=LIMIT, backoff_s=0, allowed=LOOPBACK) as fetcher:
        sources, failures = manifest_sources(load_manifest(manifest), fetcher)
    report = services.indexer.sync(sources)
    chunks: dict[str, list] = {}
    for chunk in services.store.iter_chunks():
        chunks.setdefault(chunk.metadata["source"], []).append(chunk)

    assert dict(failures) == {
        url(site, "/missing"): "page introuvable (HTTP 404)",
        url(site, "/image.png"): f"type de contenu non pris en charge (image/png) : {url(site, '/image.png')}",
    }
    assert not report.failed and len(report.added) == 3, report.summary()
    assert set(chunks) == {url(site, "/page.html"), url(site, "/doc.pdf"), url(site, "/redirect")}
    # curated manifest metadata wins over what the file declares (the page's <title>, the PDF's creation date)
    for chunk in chunks[url(site, "/page.html")]:
        assert chunk.metadata["title"] == "Jardins partagés des Glycines"
        assert chunk.metadata["organisation"] == "Centre de ressources fictif"
        assert chunk.metadata["url"] == url(site, "/page.html") and chunk.metadata["type"] == "fiche expérience"
    for chunk in chunks[url(site, "/doc.pdf")]:
        assert chunk.metadata["title"] == "Rapport annuel de Valbrune"
        assert (chunk.metadata["date"], chunk.metadata["year"]) == ("2015", 2015)
        assert chunk.metadata["organisation"] == "Ville de Valbrune" and chunk.metadata["url"] == url(site, "/doc.pdf")
    page_text = " ".join(c.text for c in chunks[url(site, "/page.html")])
    assert "quarante familles" in page_text and "Mentions légales" not in page_text

    top = services.searcher.search("jardins partagés quartier des Glycines", k=1)[0]
    assert top.chunk.metadata["url"] in {url(site, "/page.html"), url(site, "/redirect")}
    top = services.searcher.search("couveuse d'entreprises des Tilleuls", k=1)[0]
    assert top.chunk.metadata["url"] == url(site, "/doc.pdf") and top.chunk.page == 2
