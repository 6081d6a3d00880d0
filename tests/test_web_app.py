"""The web application over HTTP, on a free loopback port: hosts, origins, served documents, login, busy port.

The app runs in this process (offline answers) over a few documents written here:
a hostile HTML page, a Markdown file with a YAML header and planted markup, a PDF.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from files import write_pdf
from ui_support import free_port

from assistant.backends.embedder import CachedEmbedder
from assistant.factory import Services, build_services
from assistant.settings import GenerationSettings, Settings, UISettings
from assistant.ui import PortInUse, build_ui, launch
from assistant.ui.server import RunningApp

REPO = Path(__file__).resolve().parent.parent
HOSTILE_HTML = """<!doctype html><html><head><title>Page piégée</title>
<script>window.__pwned = 1; fetch('/gradio_api/info');</script></head>
<body><article><h1>Compte rendu du comité emploi</h1>
<p>Le comité emploi de Kervalon réunit chaque mois la mission locale et les entreprises du quartier.</p>
<p>Les permanences de recrutement ont permis quarante embauches dans les commerces du centre.</p>
<img src="http://127.0.0.1:9/track.gif" onerror="window.__pwned = 2">
</article></body></html>"""
MARKDOWN = """---
title: Fiche jardin partagé des Glycines
organisation: Centre de ressources
url: "javascript:alert(1)"
---
# Le jardin partagé des Glycines

Le jardin partagé des Glycines accueille quarante familles <img src="http://127.0.0.1:9/track-body.gif"> chaque samedi.

[Se connecter](javascript:alert(2)) et [le site de la ville](https://www.kervalon.fr/jardins).
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("web-corpus")
    (folder / "piege.html").write_text(HOSTILE_HTML, encoding="utf-8")
    (folder / "jardin.md").write_text(MARKDOWN, encoding="utf-8")
    write_pdf(folder / "bilan.pdf", ["Bilan du jardin.", "Le jardin a reçu 4 000 euros de la commune."], title="Bilan")
    return folder


def _serve(data_dir: Path, cache_dir: Path, embedder: CachedEmbedder, corpus: Path, **ui: object):
    settings = Settings(
        data_dir=data_dir,
        cache_dir=cache_dir,
        generation=GenerationSettings(answerer="offline"),
        ui=UISettings(**ui),
    )
    services = build_services(settings, embedder=embedder)
    report = services.indexer.index_paths([corpus])
    assert not report.failed, report.summary()
    return services, launch(build_ui(services), services, port=free_port(), block=False)


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, hashing_embedder: CachedEmbedder, embedding_cache_dir: Path, corpus: Path
) -> Iterator[tuple[RunningApp, Services]]:
    services, running = _serve(tmp_path_factory.mktemp("web") / "data", embedding_cache_dir, hashing_embedder, corpus)
    try:
        yield running, services
    finally:
        running.close()
        services.close()


def _doc_id(services: Services, name: str) -> str:
    return next(r.doc_id for r in services.store.documents().values() if r.source.endswith(name))


def test_a_foreign_host_is_refused_and_no_origin_is_echoed(app):
    running, _ = app
    with httpx.Client(base_url=running.url, timeout=10) as client:
        assert client.get("/config").status_code == 200
        foreign = client.get("/config", headers={"Host": "rebind.attacker.example"})
        assert foreign.status_code == 400 and "allowed_hosts" in foreign.text
        assert client.get("/gradio_api/info", headers={"Host": "rebind.attacker.example:7860"}).status_code == 400
        cross = client.get("/gradio_api/info", headers={"Origin": "http://rebind.attacker.example"})
        assert cross.status_code == 403 and "access-control-allow-origin" not in cross.headers
        preflight = client.options(
            "/gradio_api/info",
            headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in preflight.headers
        same = client.get("/gradio_api/info", headers={"Origin": running.url.rstrip("/")})
        assert same.status_code == 200 and "access-control-allow-origin" not in same.headers
        assert same.headers["x-content-type-options"] == "nosniff"


def test_hostile_html_is_served_as_sanitised_text_under_a_sandbox(app):
    running, services = app
    with httpx.Client(base_url=running.url, timeout=10) as client:
        served = client.get(f"/documents/{_doc_id(services, 'piege.html')}")
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/html")
    policy = served.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "script-src" not in policy
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "quarante embauches" in served.text
    assert "<script" not in served.text and "<img" not in served.text and "__pwned" not in served.text


def test_markdown_opens_without_its_yaml_header_and_without_markup_or_script_links(app):
    running, services = app
    with httpx.Client(base_url=running.url, timeout=10) as client:
        served = client.get(f"/documents/{_doc_id(services, 'jardin.md')}")
    text = served.text
    assert served.status_code == 200 and "<h1>Le jardin partagé des Glycines</h1>" in text
    assert "organisation:" not in text and "---" not in text
    assert "<img" not in text and "&lt;img" in text  # shown as text
    assert 'href="https://www.kervalon.fr/jardins"' in text
    assert "[Se connecter](javascript:alert(2))" in text and 'href="javascript' not in text  # text, not a link


def test_pdf_opens_inline_and_other_requests_find_nothing(app):
    running, services = app
    with httpx.Client(base_url=running.url, timeout=10) as client:
        pdf = client.get(f"/documents/{_doc_id(services, 'bilan.pdf')}")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"].startswith("inline") and pdf.content.startswith(b"%PDF")
        assert client.get("/documents/inconnu").status_code == 404
        assert client.get("/documents/..%2F..%2Fetc%2Fpasswd").status_code == 404
        # Gradio's file route serves none of the indexed files
        indexed = next(iter(services.store.documents().values())).source
        assert client.get(f"/gradio_api/file={indexed}").status_code == 403


def test_an_uploaded_html_file_is_never_served_inline_by_gradio(app):
    running, _ = app
    with httpx.Client(base_url=running.url, timeout=10) as client:
        uploaded = client.post(
            "/gradio_api/upload", files={"files": ("piege.html", HOSTILE_HTML.encode(), "text/html")}
        )
        uploaded.raise_for_status()
        served = client.get(f"/gradio_api/file={uploaded.json()[0]}")
    assert served.status_code == 200 and "<script>" in served.text  # the bytes, but…
    assert not served.headers["content-type"].startswith("text/html")
    assert served.headers["content-disposition"].startswith("attachment")
    assert served.headers["x-content-type-options"] == "nosniff"


def test_a_removed_document_is_no_longer_served(app):
    running, services = app
    doc_id = _doc_id(services, "bilan.pdf")
    with httpx.Client(base_url=running.url, timeout=10) as client:
        assert client.get(f"/documents/{doc_id}").status_code == 200
        services.store.delete_document(doc_id)
        gone = client.get(f"/documents/{doc_id}")
    assert gone.status_code == 404 and "plus) dans l'index" in gone.text


def test_login_slows_down_after_failures_then_the_right_password_works(
    tmp_path: Path, hashing_embedder: CachedEmbedder, embedding_cache_dir: Path, corpus: Path, caplog
):
    services, running = _serve(
        tmp_path / "data",
        embedding_cache_dir,
        hashing_embedder,
        corpus,
        auth_user="equipe",
        auth_password="s3cret",
        login_free_attempts=2,
        login_delay_s=0.5,
    )
    document = f"/documents/{_doc_id(services, 'jardin.md')}"
    try:
        with httpx.Client(base_url=running.url, timeout=10) as client, caplog.at_level(logging.WARNING):
            assert client.get("/config").status_code == 401
            assert client.get(document).status_code == 401
            page = client.get("/", headers={"Accept": "text/html"})
            assert page.status_code == 303 and page.headers["location"] == "/login"
            assert "Mot de passe" in client.get("/login").text
            wrong = {"username": "equipe", "password": "faux"}
            statuses = [client.post("/login", data=wrong).status_code for _ in range(4)]
            assert statuses[:2] == [400, 400] and statuses[2] in (400, 429) and statuses[3] == 429
            right = {"username": "equipe", "password": "s3cret"}
            refused = client.post("/login", data=right)
            assert refused.status_code == 429 and "réessayez dans" in refused.json()["detail"]
            assert int(refused.headers["retry-after"]) >= 1
            assert caplog.text.count("login failed for user 'equipe'") >= 2
            time.sleep(2.2)  # the third failure's delay is 1 s: 0.5 s doubled
            client.post("/login", data=right).raise_for_status()
            assert client.get("/config").status_code == 200
            served = client.get(document)
            assert served.status_code == 200 and "jardin partagé" in served.text
    finally:
        running.close()
        services.close()


@pytest.mark.slow  # ~20 s: starts the app in a subprocess
def test_a_busy_port_is_said_in_french_without_a_traceback(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"PATH": "/usr/bin:/bin", "GRADIO_SERVER_PORT": str(port), "ASSISTANT_DATA_DIR": str(tmp_path / "d")}
        done = subprocess.run(
            [sys.executable, str(REPO / "app.py")], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path
        )
    assert done.returncode == 1
    assert f"Le port {port} est déjà utilisé" in done.stderr and "ASSISTANT_UI__PORT" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "d").exists()  # refused before anything was indexed


def test_bind_raises_port_in_use_for_a_held_port():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(PortInUse, match="GRADIO_SERVER_PORT"):
            from assistant.ui import bind

            bind("127.0.0.1", taken.getsockname()[1])
