"""Manifest downloads reach only public addresses, within a total deadline (a real server on 127.0.0.1)."""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from loopback import LoopbackServer, serving

from ingest.address_policy import AddressPolicy, is_public
from ingest.manifest import Fetcher, FetchError


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.hits[self.path] += 1
        port = self.server.server_address[1]
        if self.path == "/secret":
            body = b"mot de passe administrateur"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path in ("/to-loopback", "/to-file"):
            target = f"http://127.0.0.1:{port}/secret" if self.path == "/to-loopback" else "file:///etc/passwd"
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/drip":  # 2 bytes at a time, never quite timing out a read
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            for _ in range(100):
                self.wfile.write(b"ab")
                self.wfile.flush()
                time.sleep(0.25)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with serving(LoopbackServer(_Handler)) as server:
        yield server


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch, server: LoopbackServer) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    server.hits.clear()


def _fetcher(tmp_path: Path, **options) -> Fetcher:
    return Fetcher(tmp_path / "cache", timeout_s=2, retries=1, backoff_s=0, **options)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.0.10", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # shared address space
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("::ffff:8.8.8.8", True),
    ],
)
def test_only_global_unicast_addresses_are_public(address, public):
    assert is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "0x7f000001", "2130706433", "127.1", "[::ffff:127.0.0.1]", "[::1]", "localhost"]
)
def test_loopback_in_any_spelling_is_refused_before_any_request(server, tmp_path, host):
    port = server.server_address[1]
    url = f"http://{host}:{port}/secret"
    with _fetcher(tmp_path) as fetcher, pytest.raises(FetchError, match="adresse non publique refusée"):
        fetcher.fetch(url)
    assert server.hits["/secret"] == 0


def test_a_redirect_to_loopback_or_to_a_file_is_refused(server, tmp_path):
    port = server.server_address[1]
    with _fetcher(tmp_path, allowed=["localhost"]) as fetcher:  # the first hop is allowed by its name only
        with pytest.raises(FetchError, match=r"adresse non publique refusée \(127\.0\.0\.1"):
            fetcher.fetch(f"http://localhost:{port}/to-loopback")
        with pytest.raises(FetchError, match="seules les adresses http:// et https://"):
            fetcher.fetch(f"http://localhost:{port}/to-file")
    assert server.hits["/to-loopback"] == 1 and server.hits["/secret"] == 0


def test_a_listed_range_is_fetched_like_an_intranet(server, tmp_path):
    port = server.server_address[1]
    with _fetcher(tmp_path, allowed=["127.0.0.0/8"]) as fetcher:
        path = fetcher.fetch(f"http://127.0.0.1:{port}/secret")
    assert path.read_bytes() == b"mot de passe administrateur"
    policy = AddressPolicy(["10.0.0.0/8", "Intranet.Centre.fr"])
    assert policy.names == {"intranet.centre.fr"}
    assert policy.allows(ipaddress.ip_address("10.2.3.4")) and not policy.allows(ipaddress.ip_address("127.0.0.1"))


def test_a_slow_drip_is_stopped_at_the_total_deadline(server, tmp_path):
    port = server.server_address[1]
    started = time.monotonic()
    with _fetcher(tmp_path, allowed=["127.0.0.0/8"], deadline_s=1.0) as fetcher:
        with pytest.raises(FetchError, match="délai total de 1 s dépassé"):
            fetcher.fetch(f"http://127.0.0.1:{port}/drip")
    assert time.monotonic() - started < 2.5  # 1 s deadline plus at most one 0.25 s piece, not retried
    assert server.hits["/drip"] == 1
    assert not [p for p in (tmp_path / "cache").iterdir()]


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[LoopbackServer, Path]]:
    """The server behind TLS with a certificate for "localhost" only (openssl, generated here)."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl manquant : apt-get install -y openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server = LoopbackServer(_Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with serving(server):
        yield server, cert


def test_https_to_the_checked_address_still_verifies_the_certificate_for_the_name(tls_server, tmp_path, monkeypatch):
    server, cert = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the test certificate, nothing else changes
    port = server.server_address[1]
    with _fetcher(tmp_path, allowed=["127.0.0.0/8"]) as fetcher:
        # connected to 127.0.0.1 (the checked address), the name kept for SNI and certificate checks
        assert fetcher.fetch(f"https://localhost:{port}/secret").read_bytes() == b"mot de passe administrateur"
        with pytest.raises(FetchError):  # the certificate names localhost, not 127.0.0.1
            fetcher.fetch(f"https://127.0.0.1:{port}/secret")
