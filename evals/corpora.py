"""Corpora as files: JSONL benchmark corpora are written out as one .txt per document, then ingested like any folder."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from evals.datasets import EvalSet


def opening(text: str, limit: int) -> str:
    """The first ``limit`` characters of ``text``, ending at a line break (or else a space) when one is near."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    line = head.rfind("\n")
    return head[:line] if line > limit // 2 else head.rsplit(" ", 1)[0]


def write_corpus(jsonl: Path, folder: Path, only: Mapping[str, int | None] | Iterable[str] | None = None) -> int:
    """Write each ``{"doc_id", "text"[, "title"]}`` record as ``<doc_id>.txt`` (title as first line); returns the count.

    ``only`` keeps just those doc ids; a mapping also gives each a character limit (None: whole).
    Unchanged files are left untouched, files of other documents are removed.
    """
    keep = None if only is None else (dict(only) if isinstance(only, Mapping) else dict.fromkeys(only))
    folder.mkdir(parents=True, exist_ok=True)
    written: set[str] = set()
    for line in jsonl.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        if keep is not None and record["doc_id"] not in keep:
            continue
        title = record.get("title")
        body = record["text"]
        if keep is not None and keep[record["doc_id"]] is not None:
            body = opening(body, keep[record["doc_id"]])
        text = f"{title}\n\n{body}" if title else body
        path = folder / f"{record['doc_id']}.txt"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.add(path.name)
    for stale in folder.glob("*.txt"):
        if stale.name not in written:
            stale.unlink()
    return len(written)


def materialise(eval_set: EvalSet, root: Path) -> Path:
    """The folder to ingest for a set: its own folder, or its JSONL corpus written to ``root/<set name>``."""
    if eval_set.corpus.is_dir():
        return eval_set.corpus
    folder = root / eval_set.name
    write_corpus(eval_set.corpus, folder, eval_set.documents)
    return folder


def replicate(folder: Path, destination: Path) -> Path:
    """A copy of ``folder`` (hard links when possible): same texts, so same embeddings, under new paths and doc ids."""
    if destination.exists():
        return destination
    partial = destination.with_name(destination.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    for source in sorted(p for p in folder.rglob("*") if p.is_file()):
        target = partial / source.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)
    partial.rename(destination)
    return destination


def folder_size(path: Path) -> int:
    """Bytes of all files under ``path`` (0 if missing)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0
