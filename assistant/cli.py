"""Command line: ``python -m assistant ingest|search|stats|serve|stack|worker|enqueue|jobs|users|keys``. Output is for
people, or JSON with --json."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from assistant.accounts.cli import add_subcommands as add_account_subcommands
from assistant.accounts.cli import keys_command, users_command
from assistant.argparse_fr import french
from assistant.corpus import DocumentRecord, Progress, Source
from assistant.experiences_cli import HANDLERS as EXPERIENCE_HANDLERS
from assistant.experiences_cli import add_subcommands as add_experience_subcommands
from assistant.factory import Services, build_ingest_queue, build_services
from assistant.jobs import indexing_runner
from assistant.pipeline import Status
from assistant.retrieval.filters import Filters
from assistant.settings import MB, Settings, load_settings
from assistant.types import Answer, Hit, Turn
from ingest.sync import discover


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir", type=Path, metavar="DOSSIER", help="dossier de l'index (défaut : ./data ou ASSISTANT_DATA_DIR)"
    )
    common.add_argument("-v", "--verbose", action="store_true", help="journal détaillé")
    parser = argparse.ArgumentParser(
        prog="python -m assistant", description="Assistant documentaire politique de la ville"
    )
    sub = parser.add_subparsers(dest="command", required=True, title="commandes", metavar="COMMANDE")
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
    search = sub.add_parser("search", parents=[common], help="rechercher des passages")
    search.add_argument("question", metavar="QUESTION", help="la question, entre guillemets")
    search.add_argument("-k", type=int, default=5, metavar="N", help="nombre de passages (défaut 5)")
    search.add_argument("--json", action="store_true", help="sortie JSON")
    search.add_argument(
        "--filter", action="append", default=[], metavar="CLÉ=VALEUR", help="ex. organisation=ANCT, year=2019-2023"
    )
    ask = sub.add_parser("ask", parents=[common], help="poser une question (réponse citée)")
    ask.add_argument("question", nargs="?", metavar="QUESTION", help="la question, entre guillemets")
    ask.add_argument("--filter", action="append", default=[], metavar="CLÉ=VALEUR", help="ex. type=fiche expérience")
    ask.add_argument("--json", action="store_true", help="sortie JSON (l'enregistrement Answer)")
    ask.add_argument(
        "--recents",
        action="store_true",
        help="sources récentes d'abord (réglage retrieval.recent_first) ; une question sur le présent "
        "(« aujourd'hui », « en 2025 ») préfère toujours les sources de la période actuelle",
    )
    ask.add_argument(
        "--batch",
        type=Path,
        metavar="FICHIER",
        help='questions JSONL ({"question": …, "filters": {…}, "history": ["question précédente", …]}), '
        "une réponse JSON par ligne",
    )
    stats = sub.add_parser("stats", parents=[common], help="taille de l'index")
    stats.add_argument("--json", action="store_true", help="sortie JSON")
    worker = sub.add_parser(
        "worker", parents=[common], help="indexer les tâches de la file d'indexation (ingest.mode = queue)"
    )
    worker.add_argument("--threads", type=int, default=1, metavar="N", help="tâches menées en parallèle (défaut 1)")
    serve = sub.add_parser("serve", parents=[common], help="servir l'interface (plusieurs processus web possibles)")
    serve.add_argument(
        "--workers", type=int, default=1, metavar="N", help="processus web, sur des ports consécutifs (défaut 1)"
    )
    serve.add_argument("--port", type=int, metavar="PORT", help="port du premier processus (défaut : ui.port)")
    stack = sub.add_parser(
        "stack", parents=[common], help="essai local de la pile complète : Chroma, un indexeur, des processus web"
    )
    stack.add_argument("--workers", type=int, default=2, metavar="N", help="processus web (défaut 2)")
    stack.add_argument("--port", type=int, metavar="PORT", help="port du premier processus web (défaut : ui.port)")
    enqueue = sub.add_parser("enqueue", parents=[common], help="confier des fichiers ou un dossier à la file")
    enqueue.add_argument("paths", nargs="+", type=Path, metavar="CHEMIN", help="fichiers ou dossier à indexer")
    jobs = sub.add_parser("jobs", parents=[common], help="état des tâches d'indexation")
    jobs.add_argument("--json", action="store_true", help="sortie JSON")
    add_experience_subcommands(sub, common)
    add_account_subcommands(sub, common)
    return parser


def hit_to_dict(hit: Hit) -> dict[str, Any]:
    chunk = hit.chunk
    return {
        "chunk_id": chunk.chunk_id,
        "score": round(hit.score, 6),
        "ranks": hit.provenance,
        "text": chunk.text,
        "page": chunk.page,
        "heading": chunk.heading,
        "start": chunk.start,
        "end": chunk.end,
        "doc_id": chunk.doc_id,
        "document": chunk.metadata,
    }


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


def _worker(services: Services, args: argparse.Namespace) -> int:
    settings = services.settings
    allowed = [*settings.ingest.allowed_folders, settings.paths.uploads]
    queue = build_ingest_queue(settings, indexing_runner(services.indexer, allowed))
    logging.getLogger().setLevel(logging.INFO)  # a worker's journal is its only output
    print(f"File d'indexation : {settings.paths.ingest_queue.resolve()} · index : {index_location(settings)}")
    queue.run_worker(threads=args.threads)
    return 0


def _serve(services: Services, args: argparse.Namespace) -> int:
    from assistant.serving import Supervisor, server_mode_problem, web_workers, worker_ports
    from assistant.ui import PortInUse, build_ui, launch

    settings = services.settings
    logging.getLogger().setLevel(logging.INFO)
    problem = server_mode_problem(settings, args.workers)
    if problem:
        print(f"✗ {problem}", file=sys.stderr)
        return 2
    port = args.port or settings.ui.port
    if args.workers <= 1:
        try:
            launch(build_ui(services), services, port=port)
        except PortInUse as exc:
            print(f"✗ {exc}", file=sys.stderr)
            return 1
        return 0
    if settings.ingest.mode != "queue":
        logging.getLogger(__name__).warning(
            "several web workers with ingest.mode=inline: each indexes its own uploads; "
            "ASSISTANT_INGEST__MODE=queue and `python -m assistant worker` share the work instead"
        )
    ports = worker_ports(port, args.workers)
    print(
        f"{args.workers} processus web sur les ports {', '.join(map(str, ports))} · index : {index_location(settings)}"
    )
    Supervisor(web_workers(ports, args.data_dir.resolve() if args.data_dir else None)).run_until_signal()
    return 0


def _stack(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.serving import stack

    logging.getLogger().setLevel(logging.INFO)
    port = args.port or settings.ui.port
    try:
        supervisor = stack(settings, workers=args.workers, port=port)
    except RuntimeError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 1
    print(
        f"Pile lancée : Chroma sur 127.0.0.1:{settings.chroma.port}, un indexeur, {args.workers} processus web "
        f"(http://127.0.0.1:{port}/ …) · données : {settings.data_dir.resolve()} · Ctrl+C pour tout arrêter"
    )
    supervisor.run_until_signal()
    return 0


def _enqueue(services: Services, args: argparse.Namespace) -> int:
    missing = [p for p in args.paths if not p.exists()]
    for path in missing:
        print(f"✗ {path} : fichier ou dossier introuvable", file=sys.stderr)
    queue = build_ingest_queue(services.settings)
    for path in (p.resolve() for p in args.paths if p.exists()):
        job_id = queue.enqueue_folder(str(path)) if path.is_dir() else queue.enqueue_files([path])
        print(f"Tâche {job_id} en attente : {path}")
    return 1 if missing else 0


def _jobs(services: Services, args: argparse.Namespace) -> int:
    jobs = build_ingest_queue(services.settings).board.recent()
    if args.json:
        print(json.dumps([asdict(job) for job in jobs], ensure_ascii=False, indent=2))
        return 0
    print("\n".join(job.describe() for job in jobs) or "Aucune tâche d'indexation.")
    return 0


def _filters(pairs: list[str]) -> Filters:
    try:
        return Filters.parse(pairs)
    except ValueError as exc:
        raise SystemExit(f"✗ {exc}") from exc


def _search(services: Services, args: argparse.Namespace) -> int:
    hits = services.searcher.search(args.question, k=args.k, filters=_filters(args.filter))
    if args.json:
        print(json.dumps([hit_to_dict(h) for h in hits], ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("Aucun passage trouvé : reformulez la question ou retirez des filtres.")
    for rank, hit in enumerate(hits, 1):
        meta = hit.chunk.metadata
        page = f", p. {hit.chunk.page}" if hit.chunk.page else ""
        print(f"{rank}. {meta.get('title', '?')}{page}  (score {hit.score:.4f})")
        print(f"   {meta.get('source', '')}")
        excerpt = " ".join(hit.chunk.text.split())
        print(f"   « {excerpt[:300]}{'…' if len(excerpt) > 300 else ''} »\n")
    return 0


def answer_to_dict(answer: Answer) -> dict[str, Any]:
    return {
        "question": answer.question,
        "text": answer.text,
        "refused": answer.refused,
        "answerer": answer.answerer,
        "notice": answer.notice,
        "unsupported_sentences": answer.unsupported_sentences,
        "removed_markers": answer.removed_markers,
        "sentences": [asdict(s) for s in answer.sentences],
        "citations": [asdict(c) for c in answer.citations],
        "passages": [
            {
                "number": p.number,
                "chunk_id": p.chunk.chunk_id,
                "source": p.chunk.metadata.get("source"),
                "page": p.chunk.page,
                "title": p.chunk.metadata.get("title"),
                "score": round(p.hit.score, 6),
            }
            for p in answer.passages
        ],
    }


def _print_answer(answer: Answer) -> None:
    if answer.notice:
        print(f"⚠ {answer.notice}\n")
    print(answer.text)
    if answer.citations:
        print("\nSources :")
    for citation in answer.citations:
        where = f", p. {citation.page}" if citation.page else ""
        origin = ", ".join(x for x in (citation.organisation, citation.date) if x)
        print(f"[{citation.number}] {citation.title}{' (' + origin + ')' if origin else ''}{where}")
        print(f"    {citation.url or citation.source}")
        if citation.notice:
            print(f"    ⚠ {citation.notice}")
        if citation.copies:
            print(f"    Même document aussi dans : {', '.join(citation.copies)}")
        quote = " ".join(citation.quote.split())
        print(f"    « {quote[:400]}{'…' if len(quote) > 400 else ''} »")


def _ask(services: Services, args: argparse.Namespace) -> int:
    assistant = services.assistant
    if args.batch is not None:
        for number, line in enumerate(args.batch.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            item = json.loads(line)
            filters = Filters.parse([f"{k}={v}" for k, v in item.get("filters", {}).items()])
            history = [Turn(str(q)) for q in item.get("history", [])]
            answer = assistant.ask(item["question"], history, filters=filters)
            print(json.dumps({"id": item.get("id", number), **answer_to_dict(answer)}, ensure_ascii=False), flush=True)
        return 0
    if not args.question:
        print('Posez une question : python -m assistant ask "…" (ou --batch FICHIER.jsonl)', file=sys.stderr)
        return 2
    filters = _filters(args.filter)
    if args.json:
        print(json.dumps(answer_to_dict(assistant.ask(args.question, filters=filters)), ensure_ascii=False, indent=2))
        return 0
    interactive = sys.stderr.isatty()
    for event in assistant.stream(args.question, filters=filters):
        if isinstance(event, Answer):
            if interactive:
                print("\r\033[K", end="", file=sys.stderr)
            _print_answer(event)
        elif isinstance(event, Status) and interactive:
            print(f"\r\033[K{event.text}", end="", file=sys.stderr, flush=True)
    return 0


def _stats(services: Services, args: argparse.Namespace) -> int:
    return _print_stats(services.settings, services.store.documents(), args)


def _print_stats(settings: Settings, records: dict[str, DocumentRecord], args: argparse.Namespace) -> int:
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


# the commands that read the index: on an empty one they say so instead of answering from nothing
READS_INDEX = frozenset({"search", "ask", "experiences", "precedents", "compare", "note"})
DEMO_CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "demo"


def index_location(settings: Settings) -> str:
    """Where the index is looked for, in French: the data folder (absolute) or the Chroma server."""
    if settings.chroma.host:
        return f"le serveur Chroma {settings.chroma.host}:{settings.chroma.port} (collection « {settings.chroma.collection} »)"
    return f"le dossier {settings.data_dir.resolve()}"


def index_exists(settings: Settings) -> bool:
    """Whether there is an index to open: a Chroma server, or a data folder that holds one (never created here)."""
    return bool(settings.chroma.host) or settings.paths.chroma.is_dir()


def empty_index_help(settings: Settings) -> str:
    """What to do when the index is empty (French): where it was looked for, how to build or point to one."""
    shown = _relative_to_cwd(DEMO_CORPUS) if DEMO_CORPUS.is_dir() else Path("corpus/demo")
    return (
        f"✗ L'index est vide : aucun document indexé dans {index_location(settings)}.\n"
        f"  Construisez-le, par exemple avec le corpus de démonstration :\n"
        f"    python -m assistant ingest {shown}\n"
        f"  ou indiquez un index existant : --data-dir DOSSIER (ou la variable ASSISTANT_DATA_DIR)."
    )


def _relative_to_cwd(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def main(argv: list[str] | None = None) -> int:
    with french():  # usage, help and errors in French
        args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    settings = load_settings(data_dir=args.data_dir)
    # accounts and keys live beside the index, which they never open
    if args.command == "users":
        return users_command(settings.paths.accounts, args)
    if args.command == "keys":
        return keys_command(settings.paths.accounts, args, shortcut_user=settings.ui.auth_user)
    if args.command == "stack":  # starts its own Chroma server: nothing to open here
        return _stack(settings, args)
    if getattr(args, "recents", False):
        settings.retrieval.recent_first = True
    if not index_exists(settings):
        if args.command == "stats":
            return _print_stats(settings, {}, args)
        if args.command in READS_INDEX:
            print(empty_index_help(settings), file=sys.stderr)
            return 1
    services = build_services(settings)
    try:
        if args.command in READS_INDEX and not services.store.documents():
            print(empty_index_help(settings), file=sys.stderr)
            return 1
        handlers = {
            "ingest": _ingest,
            "search": _search,
            "ask": _ask,
            "stats": _stats,
            "worker": _worker,
            "serve": _serve,
            "enqueue": _enqueue,
            "jobs": _jobs,
            **EXPERIENCE_HANDLERS,
        }
        return handlers[args.command](services, args)
    finally:
        services.close()  # stops what was started (the local model server)
