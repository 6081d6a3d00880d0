"""Command line, reading the index: ``search`` (passages) and ``ask`` (a cited answer, or a JSONL batch)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from assistant.factory import Services
from assistant.pipeline import Status
from assistant.retrieval.filters import Filters
from assistant.types import Answer, Hit, Turn


def add_subcommands(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
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


HANDLERS = {"search": _search, "ask": _ask}
