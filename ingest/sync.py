"""Incremental sync of files into the index: only new or changed documents are embedded.

A document's identity is its absolute path (or URL); its version is the hash
of its bytes and of its sidecar, so editing metadata also re-indexes it.

Copies of one text are indexed once (``ingest/duplicates.py``): each record stores its text's MinHash,
so the indexed documents are compared with a new file without reading them again. A copy the user
chose as the reference is read again and takes the reference's place; the former reference and its
other copies are relinked to it without reading their files.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from assistant.backends.embedder import CachedEmbedder
from assistant.backends.store import ChunkStore
from assistant.copies import CHOSEN_REFERENCE, chosen_at, copy_group
from assistant.corpus import (
    SIDECAR_SUFFIX,
    SUPPORTED_SUFFIXES,
    DocumentRecord,
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
from ingest.duplicates import (
    DUPLICATE_OF,
    FINGERPRINT,
    SUPERSEDED_BY,
    SUPERSEDES,
    CopyFinder,
    Known,
    fingerprint,
    signature,
)
from ingest.loaders import load_file
from ingest.loaders.limits import ReadBudget, ReadLimits
from ingest.loaders.ocr import OcrChoice
from ingest.references import ReferenceIndex, latest_first

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
    notices: list[str] = field(default_factory=list)
    copy_of: str = ""  # the reference document's source, for a copy (indexed without passages)
    version_of: str = ""  # the other version's source, for an updated version
    newer: bool = False
    replaces: str = ""  # the reference this copy, chosen by the user, takes the place of (its doc id)


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
        ocr: OcrChoice | None = None,
        deduplicate: bool = True,
    ) -> None:
        """``ocr``: the engine for scanned PDF pages and why there is none (None: looked for with defaults)."""
        self.store = store
        self.embedder = embedder
        self.count_tokens = count_tokens
        self.sizes = sizes
        self.max_file_bytes = max_file_bytes
        self.read_limits = read_limits or ReadLimits()
        self.max_passages = max_passages
        self.ocr = ocr
        self.deduplicate = deduplicate
        self.references = ReferenceIndex(store, deduplicate=deduplicate)

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
        try:
            return self._sync(sources, prune_roots=prune_roots, on_progress=on_progress, force=force)
        except BaseException:
            self.references.forget()  # it may hold what the interrupted run did not store: built again next time
            raise

    def _sync(
        self,
        sources: Iterable[Source],
        *,
        prune_roots: Iterable[Path],
        on_progress: ProgressCallback | None,
        force: bool,
    ) -> SyncReport:
        started = time.perf_counter()
        report = SyncReport()
        self.store.repair()
        sources = list(sources)
        seen = {source.key for source in sources}
        registry = self.store.documents()
        # files gone are removed first, so that a copy of a removed document is indexed in its place
        for root in prune_roots:
            self._prune(root.resolve(), seen, registry, report)
        if report.removed:
            registry = self.store.documents()
        finder = self.references.current(registry, relink=self._relink)
        registry = self.store.documents()  # the finder may have relinked copies left half-way by a killed run
        orphans = _copies_to_read_again(registry)
        sources += [
            Source(path=Path(registry[doc_id].source), key=registry[doc_id].source)
            for doc_id in orphans
            if registry[doc_id].source not in seen and Path(registry[doc_id].source).is_file()
        ]
        pending = self._prepare_all(sources, registry, finder, report, force, set(orphans), on_progress)
        self._embed_and_store(pending, report, on_progress)
        # copies of a document changed in this run are compared with its new text
        changed = {item.document.doc_id for item in pending if item.is_update}
        again = [s for s in sources if registry.get(document_id(s.key), None) and _copied(registry, s, changed)]
        if again:
            retried = self._prepare_all(again, self.store.documents(), finder, report, True, set(), on_progress)
            self._embed_and_store(retried, report, on_progress)
        report.seconds = time.perf_counter() - started
        return report

    def _prepare_all(
        self,
        sources: list[Source],
        registry: dict,
        finder: CopyFinder,
        report: SyncReport,
        force: bool,
        orphans: set[str],
        on_progress: ProgressCallback | None,
    ) -> list[_Pending]:
        pending: list[_Pending] = []
        for source in sources:
            again = force or document_id(source.key) in orphans
            try:
                item = self._prepare(source, registry, finder, force=again, on_progress=on_progress)
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
        return pending

    def choose_reference(self, doc_id: str, *, on_progress: ProgressCallback | None = None) -> SyncReport:
        """Make one copy of a text the reference (the document whose passages are indexed and cited).

        The choice is stamped on the copy's record first, so it holds even if this run is killed (the next
        sync completes it) and survives later re-ingests; the copy's file is then read again, and the former
        reference with its other copies become copies of it (their files are not read).
        """
        registry = self.store.documents()
        record = registry.get(doc_id)
        if record is None:
            return SyncReport(failed=[(doc_id, "ce document n'est plus dans l'index")])
        if record.metadata.get(DUPLICATE_OF) and not Path(record.source).is_file():
            reason = "fichier introuvable sur le serveur : cette copie ne peut pas devenir la référence"
            return SyncReport(failed=[(record.source, reason)])
        stamp = datetime.now(UTC).isoformat(timespec="microseconds")
        self._relink(record, str(record.metadata.get(DUPLICATE_OF, "")), chosen=stamp)
        return self.sync([], on_progress=on_progress)

    def _relink(self, record: DocumentRecord, reference: str, *, chosen: str = "") -> None:
        """Rewrite a record from the registry alone (no file read): a copy of ``reference`` without passages
        (or, with ``reference`` empty, the same record with its passages kept), stamped ``chosen``."""
        meta = {k: v for k, v in record.metadata.items() if k != DUPLICATE_OF}  # an earlier choice is kept
        if reference:
            meta[DUPLICATE_OF] = reference
        if chosen:
            meta[CHOSEN_REFERENCE] = chosen
        if not reference and record.chunk_count:  # keep its passages: only its metadata changes
            self.store.set_metadata(record.doc_id, meta)
            return
        document = Document(record.doc_id, self.store.document_text(record.doc_id) or "", (), meta)
        self.store.put_document(document, record.content_hash, [], np.zeros((0, 1)))

    def _prepare(
        self,
        source: Source,
        registry: dict,
        finder: CopyFinder,
        *,
        force: bool = False,
        on_progress: ProgressCallback | None = None,
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

        def page_recognised(done: int, total: int) -> None:
            if on_progress is not None:
                on_progress(Progress(done, total, source.filename, stage="ocr"))

        budget = ReadBudget(self.read_limits, on_page=page_read, on_ocr_page=page_recognised, ocr=self.ocr)
        loaded = load_file(data, path, budget)
        file_meta = {"format": path.suffix.lower().lstrip("."), "filename": source.filename}
        # curated metadata (manifest, sidecar) beats what the file itself declares
        declared = {**source.extra_metadata, **sidecar}
        document = build_document(doc_id, loaded, source=source.key, file_meta=file_meta, sidecar=declared)
        if not document.text.strip():
            raise LoadError("aucun texte exploitable après nettoyage")
        minhash = signature(document.text)
        title, date = document.title, str(document.metadata.get("date", ""))
        match = finder.match(minhash, title=title, date=date, exclude=doc_id) if self.deduplicate else None
        is_update = previous is not None
        # stored with the record (not with its passages): later runs compare new files without reading this one
        registry_only = {FINGERPRINT: fingerprint(minhash)}
        if chosen := chosen_at(previous):
            registry_only[CHOSEN_REFERENCE] = chosen
        replaces = ""
        if match is not None and match.kind == "copy" and chosen > chosen_at(registry.get(match.doc_id)):
            replaces, match = match.doc_id, None  # the user chose this copy: it takes the reference's place
            finder.remove(replaces)
        if match is not None and match.kind == "copy":
            finder.remove(doc_id)  # it may have been a reference until now
            meta = {**document.metadata, **registry_only, DUPLICATE_OF: match.doc_id}
            return _Pending(
                source, replace(document, metadata=meta), digest, [], is_update, loaded.notices, match.source
            )
        link: dict[str, str] = {}
        if match is not None:  # another version of a known document
            link = {SUPERSEDES if match.newer else SUPERSEDED_BY: match.doc_id}
            document = replace(document, metadata={**document.metadata, **link})
        finder.add(Known(doc_id, minhash, title, date, source.key, registry_only[FINGERPRINT]))

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
        version_of = match.source if match is not None else ""
        newer = bool(match and match.newer)
        document = replace(document, metadata={**document.metadata, **registry_only})
        return _Pending(source, document, digest, chunks, is_update, loaded.notices, "", version_of, newer, replaces)

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

            # a copy has no passage of its own: its record only names the reference document
            vectors = self.embedder.embed_passages(texts, on_batch=advance) if texts else np.zeros((0, 1))
            self.store.put_document(item.document, item.content_hash, item.chunks, vectors)
            report.chunks_embedded += len(item.chunks)
            report.tokens_embedded += sum(self.count_tokens(t) for t in texts)
            (report.updated if item.is_update else report.added).append(item.source.label)
            report.notices.extend((item.source.label, notice) for notice in item.notices)
            if item.copy_of:
                report.copies.append((item.source.label, item.copy_of))
            if item.version_of:
                pair = (item.source.label, item.version_of) if item.newer else (item.version_of, item.source.label)
                report.versions.append(pair)
            if item.replaces:
                self._take_reference_place(item, report)
            log.info("indexed %s (%d chunks)", item.source.path, len(item.chunks))

    def _take_reference_place(self, item: _Pending, report: SyncReport) -> None:
        """The former reference and its copies become copies of the chosen one (now stored with its passages)."""
        registry = self.store.documents()
        former = registry.get(item.replaces)
        for doc_id in copy_group(registry, item.replaces):
            if doc_id != item.document.doc_id:
                self._relink(registry[doc_id], item.document.doc_id)
        report.references.append((item.source.label, former.source if former is not None else item.replaces))

    def _prune(self, root: Path, seen: set[str], registry: dict, report: SyncReport) -> None:
        for record in registry.values():
            source = Path(record.source)
            under_root = source == root or root in source.parents
            if under_root and record.source not in seen and not source.exists():
                self.store.delete_document(record.doc_id)
                report.removed.append(record.source)


def _copies_to_read_again(registry: dict[str, DocumentRecord]) -> list[str]:
    """Copies read again at the next sync, the user's chosen ones first: those whose reference is no longer
    indexed (the first becomes the reference) and those chosen as the reference after it was."""
    found = []
    for doc_id, record in registry.items():
        reference = record.metadata.get(DUPLICATE_OF)
        if reference and (reference not in registry or chosen_at(record) > chosen_at(registry[reference])):
            found.append(doc_id)
    return sorted(
        found, key=lambda d: (not chosen_at(registry[d]), latest_first(chosen_at(registry[d])), registry[d].source)
    )


def _copied(registry: dict, source: Source, changed: set[str]) -> bool:
    """The source is indexed as a copy of one of the ``changed`` documents."""
    return registry[document_id(source.key)].metadata.get(DUPLICATE_OF) in changed
