"""Command line for experience cards: ``experiences``, ``precedents``, ``compare``, ``note``.

Wired into ``assistant.cli`` by ``add_subcommands(sub, common)`` and ``HANDLERS``, like every command family.
Cards are synced with the index before each command (only changed documents are read).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from assistant.experiences.precedents import Precedent, PrecedentRequest, parse_period
from assistant.experiences.records import ExperienceCard, card_to_dict
from assistant.factory import Services
from assistant.notes.export import (
    display_location,
    note_to_docx,
    note_to_markdown,
    table_to_csv,
    table_to_markdown,
)
from assistant.notes.note import NoteReady, SectionStarted, SectionWritten


def add_subcommands(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the four subcommands to ``python -m assistant``'s subparsers."""
    cards = sub.add_parser("experiences", parents=[common], help="fiches expériences extraites des documents indexés")
    cards.add_argument("--json", action="store_true", help="sortie JSON (une fiche par document, avec les extraits)")

    precedents = sub.add_parser("precedents", parents=[common], help="retrouver des expériences pour un besoin")
    precedents.add_argument("need", metavar="BESOIN", help='ex. "plateforme mobilité emploi"')
    precedents.add_argument(
        "--territory",
        metavar="TERRITOIRE",
        help='votre territoire, ex. "ville moyenne de 50 000 habitants en Occitanie, QPV en centre ancien"',
    )
    precedents.add_argument(
        "--theme", action="append", default=[], metavar="THÈME", help="thème (répétable), ex. mobilité"
    )
    precedents.add_argument(
        "--region", action="append", default=[], metavar="RÉGION", help="région (répétable), ex. Occitanie"
    )
    precedents.add_argument(
        "--territory-type",
        action="append",
        default=[],
        metavar="TYPE",
        help="métropole, agglomération, communauté de communes, commune",
    )
    precedents.add_argument("--period", metavar="PÉRIODE", help="années de l'expérience, ex. 2019-2024")
    precedents.add_argument("-k", type=int, default=5, metavar="N", help="nombre d'expériences (défaut 5)")
    precedents.add_argument("--json", action="store_true", help="sortie JSON")

    compare = sub.add_parser("compare", parents=[common], help="comparer 2 à 6 expériences")
    compare.add_argument(
        "selectors",
        nargs="+",
        metavar="EXPÉRIENCE",
        help="identifiant ou fragment de titre ; une seule phrase : question",
    )
    compare.add_argument("--csv", type=Path, metavar="FICHIER", help="écrire le tableau en CSV")
    compare.add_argument("--markdown", type=Path, metavar="FICHIER", help="écrire le tableau en Markdown")
    compare.add_argument("--json", action="store_true", help="sortie JSON")

    note = sub.add_parser("note", parents=[common], help="rédiger un projet de note (pilier du contrat de ville)")
    note.add_argument(
        "--territory", required=True, metavar="TERRITOIRE", help='ex. "ville moyenne de 50 000 habitants en Occitanie"'
    )
    note.add_argument("--topic", required=True, metavar="SUJET", help='ex. "pilier développement économique"')
    note.add_argument("--out", type=Path, metavar="FICHIER", help="fichier .docx ou .md (défaut : Markdown à l'écran)")
    note.add_argument(
        "--writer",
        choices=("extraits", "llm"),
        default="extraits",
        help="extraits cités (hors ligne, défaut) ou rédaction par le modèle configuré, vérifiée phrase à phrase",
    )


def _cards(services: Services, args: argparse.Namespace) -> int:
    desk = services.desk
    report = desk.sync()
    cards = desk.cards()
    if args.json:
        print(json.dumps([card_to_dict(c) for c in cards], ensure_ascii=False, indent=2))
        return 0
    print(report.summary())
    for card in cards:
        print(f"\n• {card.title}{' (fictif)' if card.fictional else ''}  [{card.doc_id}]")
        print(f"  {_card_line(card)}")
        print(f"  {display_location(card.location)}")
    return 0


def _card_line(card: ExperienceCard) -> str:
    t = card.territory
    named = t.intercommunality or t.commune or t.region
    place = named.value if named else "territoire non renseigné"
    years = f"{card.start_year}–{card.end_year}" if card.start_year else "période non renseignée"
    budget = card.budget.value if card.budget else "budget non renseigné"
    lead = card.lead.value if card.lead else "porteur non renseigné"
    return f"{place} · {years} · {lead} · {budget}"


def precedent_to_dict(precedent: Precedent) -> dict[str, Any]:
    return {
        "score": precedent.score,
        "reasons": list(precedent.reasons),
        "passage": asdict(precedent.passage) if precedent.passage else None,
        "page": precedent.page,
        "location": display_location(precedent.card.location),
        "card": card_to_dict(precedent.card),
    }


def _precedents(services: Services, args: argparse.Namespace) -> int:
    try:
        period = parse_period(args.period) if args.period else None
    except ValueError as exc:
        raise SystemExit(f"✗ {exc}") from exc
    request = PrecedentRequest(
        args.need,
        territory=args.territory,
        themes=tuple(args.theme),
        regions=tuple(args.region),
        territory_types=tuple(args.territory_type),
        period=period,
        limit=args.k,
    )
    found = services.desk.precedents(request)
    if args.json:
        print(json.dumps([precedent_to_dict(p) for p in found], ensure_ascii=False, indent=2))
        return 0
    if not found:
        print("Aucune expérience ne correspond à ce besoin avec ces filtres.")
        return 0
    for rank, p in enumerate(found, 1):
        print(f"{rank}. {p.card.title}{' (fictif)' if p.card.fictional else ''}  (score {p.score:.2f})")
        print(f"   {_card_line(p.card)}")
        if p.reasons:
            print(f"   Pourquoi : {' ; '.join(p.reasons)}")
        print(f"   Source : {display_location(p.card.location)}{f', p. {p.page}' if p.page else ''}")
        if p.passage:
            print(f"   « {' '.join(p.passage.quote.split())} »")
        print()
    return 0


def _compare(services: Services, args: argparse.Namespace) -> int:
    desk = services.desk
    try:
        if len(args.selectors) == 1:
            table = desk.compare(question=args.selectors[0])
        else:
            table = desk.compare(args.selectors)
    except ValueError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 2
    if args.csv:
        args.csv.write_text(table_to_csv(table), encoding="utf-8")
        print(f"Tableau CSV : {args.csv}", file=sys.stderr)
    if args.markdown:
        args.markdown.write_text(table_to_markdown(table), encoding="utf-8")
        print(f"Tableau Markdown : {args.markdown}", file=sys.stderr)
    if args.json:
        print(json.dumps(asdict(table), ensure_ascii=False, indent=2, default=str))
    elif not (args.csv or args.markdown):
        print(table_to_markdown(table))
    return 0


def _note(services: Services, args: argparse.Namespace) -> int:
    desk = services.desk
    try:
        writer = desk.section_writer(args.writer)
        started = time.perf_counter()
        note = None
        for event in desk.draft_note(territory=args.territory, topic=args.topic, writer=writer):
            if isinstance(event, SectionStarted):
                print(f"[{event.index}/{event.total}] {event.heading}…", file=sys.stderr, flush=True)
            elif isinstance(event, SectionWritten):
                cited = sum(1 for p in event.section.paragraphs if p.refs)
                print(f"      {cited} paragraphe(s) cité(s)", file=sys.stderr, flush=True)
            elif isinstance(event, NoteReady):
                note = event.note
    except ValueError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 2
    assert note is not None
    print(f"Note rédigée en {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if args.out is None:
        print(note_to_markdown(note))
    elif args.out.suffix.lower() == ".docx":
        note_to_docx(note, args.out)
        print(f"Note Word : {args.out}", file=sys.stderr)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(note_to_markdown(note), encoding="utf-8")
        print(f"Note Markdown : {args.out}", file=sys.stderr)
    return 0


HANDLERS = {"experiences": _cards, "precedents": _precedents, "compare": _compare, "note": _note}
