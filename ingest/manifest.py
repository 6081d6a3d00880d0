"""Public sources listed in a manifest (``corpus/sources.yaml``): download each URL, then ingest it.

The manifest gives the metadata (title, organisation, type, date); the
:class:`Fetcher` keeps a local copy of every download, revalidated with
ETag / Last-Modified, so a rerun transfers only what changed and an offline
machine still ingests the copies it already has. Only public addresses are
fetched (``address_policy``), redirects included; each download has a total
deadline and a size limit, both enforced while the body streams in.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import yaml

from assistant.corpus import Source
from ingest.address_policy import AddressPolicy, AddressRefused, AddressUnresolved

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
DEFAULT_USER_AGENT = "AssistantPolitiqueVille/0.1 (+documentation; contact: administrateur du déploiement)"

_EXTENSION_BY_MIME = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "text/plain": ".txt",
    "text/markdown": ".md",
}
# Servers often label documents application/octet-stream; the URL then says what the file is.
_EXTENSION_BY_URL_SUFFIX = {".htm": ".html", **{extension: extension for extension in _EXTENSION_BY_MIME.values()}}
_HTTP_REASONS = {401: "authentification requise", 403: "accès refusé", 404: "page introuvable", 410: "page supprimée"}


class ManifestError(Exception):
    """An unusable manifest; the French message names the file and, when relevant, the entry."""


class FetchError(Exception):
    """A URL that could not be downloaded; the message is French and meant for the user."""


@dataclass(frozen=True)
class ManifestEntry:
    """One listed source: its URL and the metadata to attach to it (every manifest key, ``url`` included)."""

    url: str
    metadata: dict[str, Any]


def load_manifest(path: Path) -> list[ManifestEntry]:
    """Read and validate a manifest; duplicated URLs are kept once. Raises :class:`ManifestError`."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"manifeste {path} illisible : {exc.strerror or exc}") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ManifestError(f"manifeste {path} : YAML invalide ({exc})") from exc
    sources = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(sources, list):
        raise ManifestError(f"manifeste {path} : une liste « sources: » est attendue")
    entries: list[ManifestEntry] = []
    seen: set[str] = set()
    for number, raw in enumerate(sources, start=1):
        where = f"manifeste {path}, entrée n° {number}"
        if not isinstance(raw, dict):
            raise ManifestError(f"{where} : un dictionnaire clé: valeur est attendu")
        url = raw.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ManifestError(f"{where} : le champ « url » est manquant")
        url = url.strip()
        if not url.lower().startswith(("http://", "https://")):
            raise ManifestError(f"{where} : l'adresse « {url} » doit commencer par http:// ou https://")
        if url in seen:
            log.warning("%s : adresse déjà listée, entrée ignorée (%s)", where, url)
            continue
        seen.add(url)
        metadata = {str(key): value for key, value in raw.items() if key != "url"}
        entries.append(ManifestEntry(url=url, metadata={**metadata, "url": url}))
    return entries


class _Transient(Exception):
    """A failure worth retrying (timeout, network, HTTP 5xx/429); its message is the French reason if all fail."""


class Fetcher:
    """Downloads URLs into a revalidated local cache; one HTTP client for all requests."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        timeout_s: float = 20.0,
        max_bytes: int = 50 * 1024 * 1024,
        retries: int = 2,
        backoff_s: float = 0.5,
        deadline_s: float = 120.0,
        allowed: Iterable[str] = (),
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        """``backoff_s`` is the first wait between attempts, doubled at each retry (0.5 s, 1 s).

        ``deadline_s`` bounds one download attempt however slowly the server sends; ``allowed``
        lists host names and CIDR ranges fetched although they are not public (an intranet).
        """
        self.cache_dir = cache_dir
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.retries = retries
        self.backoff_s = backoff_s
        self.deadline_s = deadline_s
        self.policy = AddressPolicy(allowed)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        # Header values must be ASCII (httpx refuses others): "déploiement" goes out as "deploiement".
        ascii_agent = unicodedata.normalize("NFKD", user_agent).encode("ascii", "ignore").decode("ascii")
        # Redirects are followed by hand: each new address is checked before it is fetched.
        self._client = httpx.Client(follow_redirects=False, timeout=timeout_s, headers={"User-Agent": ascii_agent})

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def fetch(self, url: str) -> Path:
        """Local copy of ``url``, its extension matching the content; raises :class:`FetchError`.

        After retries, a transient failure (timeout, network, HTTP 5xx) falls back on the
        cached copy when there is one: an outdated document beats a missing one.
        """
        key = hashlib.sha1(url.encode("utf-8")).hexdigest()
        cached = self._read_cache(key)
        attempts = self.retries + 1
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                return self._download(url, key, cached)
            except _Transient as exc:
                failure = exc
                log.info("%s : tentative %d/%d en échec (%r)", url, attempt + 1, attempts, exc.__cause__ or exc)
        if cached is not None:
            log.warning("%s : %s ; copie locale du %s utilisée", url, failure, cached[1]["fetched_at"])
            return cached[0]
        raise FetchError(str(failure))

    def _download(self, url: str, key: str, cached: tuple[Path, dict[str, Any]] | None) -> Path:
        known = cached[1] if cached is not None else {}
        conditions = (("If-None-Match", "etag"), ("If-Modified-Since", "last_modified"))
        headers = {header: known[field] for header, field in conditions if known.get(field)}
        deadline = time.monotonic() + self.deadline_s
        current = url
        try:
            for _ in range(MAX_REDIRECTS + 1):
                response = self._client.send(self._pinned_request(current, headers, deadline), stream=True)
                with contextlib.closing(response):
                    if response.has_redirect_location:
                        current = urljoin(current, response.headers["Location"])
                        continue
                    if response.status_code == 304 and cached is not None:
                        log.info("%s : inchangé depuis le dernier téléchargement (HTTP 304)", url)
                        return cached[0]
                    self._check_status(response, url)
                    extension = _extension(response, current)
                    return self._store(response, url, current, key, extension, previous=cached, deadline=deadline)
            raise FetchError(f"trop de redirections (plus de {MAX_REDIRECTS}) : {url}")
        except AddressRefused as exc:
            raise FetchError(str(exc)) from exc
        except httpx.TimeoutException as exc:
            raise _Transient(f"délai dépassé après {self.retries + 1} tentatives : {url}") from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise FetchError(f"adresse invalide ou protocole non pris en charge : {url}") from exc
        except (httpx.ConnectError, httpx.ProxyError, AddressUnresolved) as exc:
            host = urlsplit(current).hostname or current
            raise _Transient(
                f"cette machine ne parvient pas à joindre {host} (pas d'accès à Internet, proxy ou adresse injoignable) ;"
                f" les copies déjà téléchargées sont utilisées quand elles existent : {url}",
            ) from exc
        except httpx.TransportError as exc:  # read errors, connection reset, malformed response
            raise _Transient(f"connexion interrompue pendant le téléchargement : {url}") from exc
        except OSError as exc:  # disk full, read-only cache: this URL fails, the others may still succeed
            raise FetchError(f"écriture impossible dans le cache {self.cache_dir} ({exc.strerror or exc})") from exc

    def _pinned_request(self, url: str, headers: dict[str, str], deadline: float) -> httpx.Request:
        """A GET of ``url`` sent to the address the policy checked (the name stays in Host and TLS SNI).

        Each read waits at most the read timeout or what is left of the deadline, whichever is shorter.
        """
        target = self.policy.check(url)
        left = deadline - time.monotonic()
        if left <= 0:
            raise FetchError(f"délai total de {self.deadline_s:g} s dépassé : {url}")
        request_url = httpx.URL(url)
        extensions: dict[str, Any] = {}
        pinned = dict(headers)
        if target.address is not None:
            pinned["Host"] = request_url.netloc.decode("ascii").rsplit("@", 1)[-1]
            extensions["sni_hostname"] = target.host
            request_url = request_url.copy_with(host=str(target.address))
        timeout = min(self.timeout_s, left)
        return self._client.build_request("GET", request_url, headers=pinned, timeout=timeout, extensions=extensions)

    def _check_status(self, response: httpx.Response, url: str) -> None:
        status = response.status_code
        if status == 429 or status >= 500:
            raise _Transient(f"le serveur a répondu HTTP {status} après {self.retries + 1} tentatives : {url}")
        if status >= 300:  # 3xx left over after redirects, 304 without a cached copy, 4xx
            reason = _HTTP_REASONS.get(status, "réponse refusée par le serveur")
            raise FetchError(f"{reason} (HTTP {status})")

    def _store(
        self,
        response: httpx.Response,
        url: str,
        final_url: str,
        key: str,
        extension: str,
        *,
        previous: tuple[Path, dict] | None,
        deadline: float,
    ) -> Path:
        too_big = FetchError(f"réponse trop volumineuse (> {_human_size(self.max_bytes)}) : {url}")
        too_slow = FetchError(f"téléchargement trop lent : délai total de {self.deadline_s:g} s dépassé : {url}")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_big
        target = self.cache_dir / f"{key}{extension}"
        # Written beside the target then renamed: a killed or aborted download never leaves a truncated copy.
        with tempfile.NamedTemporaryFile(dir=self.cache_dir, prefix=f".{key}.", suffix=".part", delete=False) as tmp:
            try:
                total = 0
                for piece in response.iter_bytes():
                    total += len(piece)
                    if total > self.max_bytes:
                        raise too_big
                    if time.monotonic() > deadline:
                        raise too_slow
                    tmp.write(piece)
            except BaseException:
                tmp.close()
                os.unlink(tmp.name)
                raise
        os.replace(tmp.name, target)
        meta = {
            "url": url,
            "final_url": final_url,
            "etag": response.headers.get("ETag"),
            "last_modified": response.headers.get("Last-Modified"),
            "content_type": response.headers.get("Content-Type"),
            "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "file": target.name,
        }
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=self.cache_dir, suffix=".part", delete=False) as f:
            json.dump(meta, f, ensure_ascii=False, indent=2)
        os.replace(f.name, self.cache_dir / f"{key}.json")
        if previous is not None and previous[0] != target:  # the content type changed: drop the old copy
            previous[0].unlink(missing_ok=True)
        log.info("%s : téléchargé (%d octets) dans %s", url, total, target.name)
        return target

    def _read_cache(self, key: str) -> tuple[Path, dict[str, Any]] | None:
        """The cached file and its sidecar, or None when either is missing or unreadable."""
        try:
            meta = json.loads((self.cache_dir / f"{key}.json").read_text(encoding="utf-8"))
            path = self.cache_dir / meta["file"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return (path, meta) if path.is_file() else None


def _extension(response: httpx.Response, url: str) -> str:
    mime = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if mime in _EXTENSION_BY_MIME:
        return _EXTENSION_BY_MIME[mime]
    if mime in ("", "application/octet-stream"):
        for candidate in (str(response.url), url):
            suffix = PurePosixPath(urlsplit(candidate).path).suffix.lower()
            if suffix in _EXTENSION_BY_URL_SUFFIX:
                return _EXTENSION_BY_URL_SUFFIX[suffix]
    raise FetchError(f"type de contenu non pris en charge ({mime or 'non indiqué'}) : {url}")


def _human_size(n_bytes: int) -> str:
    if n_bytes >= 1024 * 1024:
        return f"{n_bytes / (1024 * 1024):g} Mo"
    return f"{n_bytes / 1024:g} ko"


def manifest_sources(entries: Iterable[ManifestEntry], fetcher: Fetcher) -> tuple[list[Source], list[tuple[str, str]]]:
    """Fetch every entry: sources ready for :meth:`Synchronizer.sync`, and ``(url, French reason)`` failures.

    A source's key is its URL, so the document keeps its identity whatever the cache file is called.
    """
    sources: list[Source] = []
    failures: list[tuple[str, str]] = []
    for entry in entries:
        try:
            path = fetcher.fetch(entry.url)
        except FetchError as exc:
            log.warning("%s : %s", entry.url, exc)
            failures.append((entry.url, str(exc)))
            continue
        sources.append(Source(path=path, key=entry.url, extra_metadata=dict(entry.metadata)))
    return sources, failures
