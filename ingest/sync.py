"""Incremental sync of files into the index: only new or changed documents are embedded.

A document's identity is its absolute path (or URL); its version is the hash
of its bytes and of its sidecar, so editing metadata also re-indexes it.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assistant.backends.embedder import CachedEmbedder
from assistant.backends.store import ChunkStore
from assistant.corpus import (
    SIDECAR_SUFFIX,
    SUPPORTED_SUFFIXES,
    LoadError,
    Progress,
    ProgressCallback,
    Source,
    SyncReport,
    embedding_text,
    unsupported_format,
)
from assistant.types import Chunk, Document
from ingest.chunking import ChunkSizes, TokenCounter, chunk_document
from ingest.documents import build_document, content_hash, document_id
from ingest.loaders import load_file
from ingest.loaders.limits import ReadBudget, ReadLimits

log = logging.getLogger(__name__)


def discover(paths: Iterable[Path]) -> Iterator[Source]:
    """Files under the given paths (recursively), sidecars and hidden files excluded, in a stable order."""
    for path in paths:
        candidates = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in candidates:
            rel = file.relative_to(path) if path.is_dir() else Path(file.name)
            if file.name.endswith(SIDECAR_SUFFIX) or any(part.startswith(".") for part in rel.parts):
                continue
            if path.is_dir() and file.stem.upper() == "README":
                continue  # a folder's README describes the folder; it is not one of its documents
            yield Source(path=file, key=str(file.resolve()))


def unexpected_failure(exc: BaseException) -> str:
    """The French reason shown for a failure no loader foresaw."""
    return (
        f"erreur inattendue pendant la lecture ({exc.__class__.__name__}) : le fichier est peut-être corrompu ; "
        "ouvrez-le et réenregistrez-le, puis réessayez"
    )


def _read_sidecar(path: Path) -> tuple[dict[str, Any], bytes]:
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    try:
        if not sidecar.is_file():
            return {}, b""
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:  # a file whose name is near the limit cannot have a sidecar
            return {}, b""
        raise
    raw = sidecar.read_bytes()
    try:
        meta = yaml.safe_load(raw) or {}
    except yaml.YAMLError as exc:
        raise LoadError(f"fichier de métadonnées {sidecar.name} invalide : {exc}") from exc
    if not isinstance(meta, dict):
        raise LoadError(f"fichier de métadonnées {sidecar.name} invalide : un dictionnaire clé: valeur est attendu")
    return meta, raw


@dataclass
class _Pending:
    source: Source
    document: Document
    content_hash: str
    chunks: list[Chunk]
    is_update: bool


class Synchronizer:
    """Brings the store in line with a set of files."""

    def __init__(
        self,
        store: ChunkStore,
        embedder: CachedEmbedder,
        *,
        count_tokens: TokenCounter,
        sizes: ChunkSizes,
        max_file_bytes: int,
        read_limits: ReadLimits | None = None,
        max_passages: int = 3000,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.count_tokens = count_tokens
        self.sizes = sizes
        self.max_file_bytes = max_file_bytes
        self.read_limits = read_limits or ReadLimits()
        self.max_passages = max_passages

    def sync(
        self,
        sources: Iterable[Source],
        *,
        prune_roots: Iterable[Path] = (),
        on_progress: ProgressCallback | None = None,
        force: bool = False,
    ) -> SyncReport:
        """Index new and changed sources; with ``prune_roots``, remove documents whose files are gone.

        ``force`` reads and embeds unchanged sources again (after a loader or chunking change);
        the previous version stays searchable until the new one is stored.
        """
        started = time.perf_counter()
        report = SyncReport()
        self.store.repair()
        registry = self.store.documents()
        pending: list[_Pending] = []
        seen: set[str] = set()
        for source in sources:
            seen.add(source.key)
            try:
                item = self._prepare(source, registry, force=force, on_progress=on_progress)
            except LoadError as exc:
                report.failed.append((source.label, str(exc)))
                continue
            except OSError as exc:
                report.failed.append((source.label, f"lecture impossible ({exc.strerror or exc})"))
                continue
            except Exception as exc:  # a parser's unforeseen failure fails its file, never the batch
                log.warning("unexpected failure reading %s: %r", source.label, exc)
                log.debug("traceback of the failure", exc_info=True)
                report.failed.append((source.label, unexpected_failure(exc)))
                continue
            if item is None:
                report.unchanged.append(source.label)
            else:
                pending.append(item)
        self._embed_and_store(pending, report, on_progress)
        for root in prune_roots:
            self._prune(root.resolve(), seen, registry, report)
        report.seconds = time.perf_counter() - started
        return report

    def _prepare(
        self, source: Source, registry: dict, *, force: bool = False, on_progress: ProgressCallback | None = None
    ) -> _Pending | None:
        path = source.path
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            raise unsupported_format(path.suffix)
        size = path.stat().st_size
        if size > self.max_file_bytes:
            raise LoadError(
                f"fichier trop volumineux ({size / 1e6:.1f} Mo, limite {self.max_file_bytes / 1e6:.0f} Mo) : "
                "découpez-le ou relevez la limite (ingest.max_file_mb)"
            )
        sidecar, sidecar_raw = _read_sidecar(path)
        data = path.read_bytes()
        digest = content_hash(data, sidecar_raw, repr(sorted(source.extra_metadata.items())).encode())
        doc_id = document_id(source.key)
        previous = registry.get(doc_id)
        if previous is not None and previous.content_hash == digest and not force:
            return None

        def page_read(number: int, total: int) -> None:
            if on_progress is not None:
                on_progress(Progress(number, total, source.filename, stage="reading"))

        budget = ReadBudget(self.read_limits, on_page=page_read)
        loaded = load_file(data, path, budget)
        file_meta = {"format": path.suffix.lower().lstrip("."), "filename": source.filename}
        # curated metadata (manifest, sidecar) beats what the file itself declares
        declared = {**source.extra_metadata, **sidecar}
        document = build_document(doc_id, loaded, source=source.key, file_meta=file_meta, sidecar=declared)
        if not document.text.strip():
            raise LoadError("aucun texte exploitable après nettoyage")

        def count_tokens(text: str) -> int:  # cutting a document counts against its time budget too
            budget.check_time()
            return self.count_tokens(text)

        chunks = chunk_document(
            document, count_tokens=count_tokens, sizes=self.sizes, chunk_prefix=f"{doc_id}-{digest[:10]}"
        )
        if len(chunks) > self.max_passages:
            raise LoadError(
                f"document trop long ({len(chunks)} passages, limite {self.max_passages}) : "
                "découpez-le, ou relevez la limite (ingest.max_passages)"
            )
        return _Pending(source, document, digest, chunks, is_update=previous is not None)

    def _embed_and_store(
        self, pending: list[_Pending], report: SyncReport, on_progress: ProgressCallback | None
    ) -> None:
        total = sum(len(p.chunks) for p in pending)
        done = 0
        for item in pending:
            texts = [embedding_text(c) for c in item.chunks]
            name = item.source.path.name

            def advance(n: int, _chars: int, name: str = name) -> None:
                nonlocal done
                done += n
                if on_progress is not None:
                    on_progress(Progress(done, total, name))

            vectors = self.embedder.embed_passages(texts, on_batch=advance)
            self.store.put_document(item.document, item.content_hash, item.chunks, vectors)
            report.chunks_embedded += len(item.chunks)
            report.tokens_embedded += sum(self.count_tokens(t) for t in texts)
            (report.updated if item.is_update else report.added).append(item.source.label)
            log.info("indexed %s (%d chunks)", item.source.path, len(item.chunks))

    def _prune(self, root: Path, seen: set[str], registry: dict, report: SyncReport) -> None:
        for record in registry.values():
            source = Path(record.source)
            under_root = source == root or root in source.parents
            if under_root and record.source not in seen and not source.exists():
                self.store.delete_document(record.doc_id)
                report.removed.append(record.source)
