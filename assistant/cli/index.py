"""Command line, building the index: ``ingest`` (files, folders, a manifest of addresses) and ``stats``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from assistant.cli.locate import empty_index_help
from assistant.corpus import DocumentRecord, Progress, Source
from assistant.factory import Services
from assistant.settings import MB, Settings
from ingest.sync import discover


def add_subcommands(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    ingest = sub.add_parser("ingest", parents=[common], help="indexer des fichiers ou dossiers")
    ingest.add_argument("paths", nargs="*", type=Path, metavar="CHEMIN", help="fichiers ou dossiers à indexer")
    ingest.add_argument(
        "--manifest",
        type=Path,
        metavar="FICHIER",
        help="liste YAML d'adresses à télécharger puis indexer (corpus/sources.yaml)",
    )
    ingest.add_argument(
        "--prune", action="store_true", help="retirer de l'index les documents dont le fichier a disparu"
    )
    stats = sub.add_parser("stats", parents=[common], help="taille de l'index")
    stats.add_argument("--json", action="store_true", help="sortie JSON")


def _manifest_sources(settings: Settings, manifest: Path) -> tuple[list[Source], list[tuple[str, str]]]:
    from ingest.manifest import Fetcher, load_manifest, manifest_sources

    entries = load_manifest(manifest)
    print(f"Téléchargement de {len(entries)} adresses…", file=sys.stderr)
    with Fetcher(
        settings.paths.downloads,
        timeout_s=settings.ingest.download_timeout_s,
        max_bytes=int(settings.ingest.max_file_mb * MB),
        retries=settings.ingest.download_retries,
        deadline_s=settings.ingest.download_deadline_s,
        allowed=settings.ingest.download_allowed,
    ) as fetcher:
        return manifest_sources(entries, fetcher)


def _ingest(services: Services, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ingest.manifest import ManifestError

    if not args.paths and args.manifest is None:
        print("Indiquez au moins un fichier ou dossier, ou --manifest FICHIER.yaml", file=sys.stderr)
        return 2
    missing = [p for p in args.paths if not p.exists()]
    for path in missing:
        print(f"✗ {path} : fichier ou dossier introuvable", file=sys.stderr)
    paths = [p for p in args.paths if p.exists()]
    sources: list[Source] = list(discover(paths))
    download_failures: list[tuple[str, str]] = []
    if args.manifest is not None:
        try:
            fetched, download_failures = _manifest_sources(services.settings, args.manifest)
        except ManifestError as exc:
            print(f"✗ {exc}", file=sys.stderr)
            return 2
        sources += fetched
    bar = tqdm(total=0, unit="passage", desc="Calcul des vecteurs", file=sys.stderr, dynamic_ncols=True)

    def on_progress(progress: Progress) -> None:
        if progress.stage in ("reading", "ocr"):
            what = "Lecture" if progress.stage == "reading" else "Reconnaissance de caractères (OCR)"
            bar.set_description_str(what, refresh=False)
            bar.set_postfix_str(f"{progress.current[:40]} · page {progress.done}/{progress.total}")
            return
        bar.set_description_str("Calcul des vecteurs", refresh=False)
        bar.total = progress.total
        bar.n = progress.done
        bar.set_postfix_str(progress.current[:40], refresh=False)
        bar.refresh()

    report = services.indexer.sync(sources, prune_roots=paths if args.prune else (), on_progress=on_progress)
    bar.close()
    report.failed[:0] = download_failures
    print(report.summary())
    # a file that failed is reported above and makes the exit code 1; the others are indexed all the same
    return 1 if missing or report.failed else 0


def _stats(services: Services, args: argparse.Namespace) -> int:
    return print_stats(services.settings, services.store.documents(), args)


def print_stats(settings: Settings, records: dict[str, DocumentRecord], args: argparse.Namespace) -> int:
    stats = {
        "documents": len(records),
        "chunks": sum(r.chunk_count for r in records.values()),
        "data_dir": str(settings.data_dir.resolve()),
        "formats": _count(r.metadata.get("format", "?") for r in records.values()),
    }
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=2))
    else:
        print(f"Documents : {stats['documents']}\nPassages : {stats['chunks']}\nDossier : {stats['data_dir']}")
        print("Formats : " + (", ".join(f"{k} {v}" for k, v in stats["formats"].items()) or "—"))
        if not records:
            print(empty_index_help(settings), file=sys.stderr)
    return 0


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[str(value)] = counts.get(str(value), 0) + 1
    return dict(sorted(counts.items()))


HANDLERS = {"ingest": _ingest, "stats": _stats}
