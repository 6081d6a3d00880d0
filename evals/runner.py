"""``python -m evals``: retrieval, answers and speed side by side, with a report, plots and a regression gate."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.backends.embedder import CachedEmbedder
from assistant.claims import embedding_similarity
from assistant.factory import build_embedder
from assistant.settings import Settings, load_settings
from evals.answers import evaluate_answers
from evals.checker.cases import load_cases
from evals.checker.confusion import markdown_table
from evals.checker.run import evaluate as evaluate_checker
from evals.corpora import materialise
from evals.datasets import REPO, EvalSet, custom_set, load_set
from evals.gate import DEFAULT_TOLERANCE, baseline_from, missing, regressions
from evals.report import METRICS, pyplot, rounded, write_report
from evals.scale import measure as measure_scale_out
from evals.speed import measure_ingest, measure_scale, peak_rss_mb
from evals.systems import (
    SYSTEMS,
    TypicalStack,
    build_product_index,
    extracted_documents,
    score_retrieval,
)

log = logging.getLogger(__name__)

PHASES = ("retrieval", "answers", "speed", "checker")
DEFAULT_SETS = ("spf", "piaf", "seeds", "domain")
CHECK_SETS = ("seeds", "spf-fast")
# the product's own; the typical stack cannot regress with our code
CHECK_SYSTEMS = ("keyword", "dense", "fusion", "hybrid")
DEFAULT_SIZES = (1000, 10000, 50000)
LATENCY_QUESTIONS = 30
BASELINE = REPO / "evals" / "baseline.json"
CACHE = REPO / "evals" / "cache"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m evals", description=__doc__)
    p.add_argument("--sets", help="jeux séparés par des virgules : spf, piaf, seeds, domain, spf-fast")
    p.add_argument("--only", help="étapes : retrieval, answers, speed, checker (défaut : toutes)")
    p.add_argument("--systems", help=f"systèmes de recherche (défaut : {','.join(SYSTEMS)})")
    p.add_argument("--questions", type=Path, help="vos questions (JSONL : id, question, relevant…)")
    p.add_argument("--corpus", type=Path, help="le corpus de vos questions : dossier de fichiers ou JSONL")
    p.add_argument("--name", help="nom de votre jeu dans le rapport (défaut : nom du fichier de questions)")
    p.add_argument("--limit", type=int, help="au plus N questions par jeu (piaf : 1 000 par défaut)")
    p.add_argument("--answer-limit", type=int, help="au plus N questions posées au répondeur par jeu")
    p.add_argument("--answerer", choices=("auto", "offline", "openai", "local"), help="répondeur (défaut : réglages)")
    p.add_argument("--sizes", help="tailles d'index en passages pour la latence (défaut : 1000,10000,50000)")
    p.add_argument(
        "--scale-out",
        help="avec l'étape speed : tailles en passages de l'index synthétique de `python -m evals.scale` "
        "(ex. 100000,500000 ; vecteurs dérivés, voir ce module)",
    )
    p.add_argument("--report-dir", type=Path, help="dossier du rapport (défaut : evals/reports/<date>)")
    p.add_argument("--workdir", type=Path, default=CACHE / "work", help="corpus écrits et index temporaires")
    p.add_argument("--cache-dir", type=Path, default=CACHE, help="cache des embeddings (par empreinte et modèle)")
    p.add_argument(
        "--checker-cases", type=Path, help="cas du vérificateur de citations (défaut : evals/checker/cases.jsonl)"
    )
    p.add_argument("--check", action="store_true", help="porte de non-régression : sous-ensemble rapide vs base")
    p.add_argument("--baseline", type=Path, default=BASELINE, help="base de comparaison de --check")
    p.add_argument("--tolerance", type=float, help=f"baisse tolérée par métrique (défaut : {DEFAULT_TOLERANCE})")
    p.add_argument("--write-baseline", action="store_true", help="écrire les chiffres de recherche comme base")
    args = p.parse_args(argv)
    split = lambda value: [v.strip() for v in value.split(",") if v.strip()]  # noqa: E731
    args.phases = split(args.only) if args.only else (["retrieval"] if args.check else list(PHASES))
    args.system_names = split(args.systems) if args.systems else list(CHECK_SYSTEMS if args.check else SYSTEMS)
    args.sizes_list = [int(s) for s in split(args.sizes)] if args.sizes else list(DEFAULT_SIZES)
    args.scale_out_sizes = [int(s) for s in split(args.scale_out)] if args.scale_out else []
    for name, chosen, allowed in (("--only", args.phases, PHASES), ("--systems", args.system_names, SYSTEMS)):
        if unknown := set(chosen) - set(allowed):
            p.error(f"{name} : valeur inconnue {', '.join(sorted(unknown))} (choisir parmi {', '.join(allowed)})")
    if bool(args.questions) != bool(args.corpus):
        p.error("--questions et --corpus vont ensemble")
    return args


def choose_sets(args: argparse.Namespace) -> list[EvalSet]:
    names = [s.strip() for s in args.sets.split(",") if s.strip()] if args.sets else []
    if not names and not args.questions:
        names = list(CHECK_SETS if args.check else DEFAULT_SETS)
    sets = [load_set(n, limit=args.limit) for n in names]
    if args.questions:
        sets.append(custom_set(args.questions, args.corpus, name=args.name, limit=args.limit))
    return sets


def machine() -> dict[str, Any]:
    memory_kb = 0
    cpu = platform.processor() or platform.machine()
    try:
        meminfo = Path("/proc/meminfo").read_text()
        memory_kb = int(next(line.split()[1] for line in meminfo.splitlines() if line.startswith("MemTotal")))
        cpuinfo = Path("/proc/cpuinfo").read_text()
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line), cpu)
    except (OSError, StopIteration, ValueError):
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_mb": memory_kb / 1024,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_at_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def git_commit() -> str:
    try:
        run = lambda *a: subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True, check=True).stdout  # noqa: E731
        return run("rev-parse", "--short", "HEAD").strip() + (
            " + modifications locales" if run("status", "--porcelain").strip() else ""
        )
    except (OSError, subprocess.CalledProcessError):
        return "inconnu"  # fmt: skip


def evaluate_set(
    eval_set: EvalSet, args: argparse.Namespace, settings: Settings, embedder: CachedEmbedder, run_dir: Path
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None, str]:
    """Index one set, then score retrieval (every system) and answers: (set info, retrieval, answers, answerer)."""
    folder = materialise(eval_set, args.workdir / "corpora")
    index = build_product_index(folder, run_dir / eval_set.name / "index", settings, embedder, label=eval_set.name)
    info: dict[str, Any] = {
        "documents": index.documents,
        "failed_documents": index.failed,
        "chunks_product": index.chunks,
        "chunks_typical": None,
        "questions": len(eval_set.questions),
        "retrieval_questions": None,
        "answer_questions": None,
        "index_product_mb": index.index_bytes / 1e6,
        "index_product_seconds": index.seconds,
    }
    retrieval: dict[str, Any] = {}
    if "retrieval" in args.phases:
        questions = eval_set.answerable
        typical = None
        if "typical" in args.system_names:
            started = time.perf_counter()
            typical = TypicalStack.build(
                extracted_documents(index.services),
                run_dir / eval_set.name / "typical",
                embedder,
                label=eval_set.name,
            )
            info.update(chunks_typical=typical.chunk_count(), index_typical_seconds=time.perf_counter() - started)  # fmt: skip
        retrieval = score_retrieval(
            index.services, questions, systems=args.system_names, typical=typical, label=eval_set.name
        )
        info["retrieval_questions"] = len(questions)
    answers, answerer = None, ""
    if "answers" in args.phases:
        asked = eval_set.questions[: args.answer_limit] if args.answer_limit else eval_set.questions
        run = evaluate_answers(index.services.assistant, asked, set_name=eval_set.name)
        answers, answerer = {**run.summary, "by_kind": run.by_kind}, run.answerer
        info["answer_questions"] = len(asked)
    index.services.close()
    return info, retrieval, answers, answerer


def latency_questions(sets: Sequence[EvalSet], count: int = LATENCY_QUESTIONS) -> list[str]:
    """A fixed sample for the latency curve: questions taken in turn from each set."""
    pools = [list(s.questions) for s in sets]
    chosen: list[str] = []
    for position in range(max((len(p) for p in pools), default=0)):
        chosen += [pool[position].question for pool in pools if position < len(pool)]
    return chosen[:count]


def run(args: argparse.Namespace, *, embedder: CachedEmbedder | None = None) -> dict[str, Any]:
    """Every selected phase over every selected set; returns the (rounded) results."""
    started, when, host, commit = time.perf_counter(), dt.datetime.now(), machine(), git_commit()
    sets = choose_sets(args) if set(args.phases) - {"checker"} else []
    settings = load_settings(cache_dir=args.cache_dir)
    settings = settings.model_copy(update={"chroma": settings.chroma.model_copy(update={"host": None})})
    if args.answerer:
        generation = settings.generation.model_copy(update={"answerer": args.answerer})
        settings = settings.model_copy(update={"generation": generation})
    embedder = embedder or build_embedder(settings)
    # a fresh folder per run: Chroma caches clients by path, so a path must never be reused in one process
    (args.workdir / "runs").mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix=f"{when:%Y%m%d-%H%M%S}-", dir=args.workdir / "runs"))
    results: dict[str, Any] = {"meta": {}, "sets": {}, "retrieval": {}, "ratios": {}, "answers": {}, "memory": {}}
    if "checker" in args.phases:
        cases = load_cases(args.checker_cases) if args.checker_cases else None
        results["checker"] = evaluate_checker(cases, similarity=embedding_similarity(embedder.embed_passages))
        results["checker"]["similarity"] = embedder.name
    answerers: set[str] = set()
    try:
        if {"retrieval", "answers"} & set(args.phases):
            for eval_set in sets:
                info, retrieval, answers, answerer = evaluate_set(eval_set, args, settings, embedder, run_dir)
                results["sets"][eval_set.name] = info
                if retrieval:
                    results["retrieval"][eval_set.name] = retrieval
                    if "hybrid" in retrieval and "typical" in retrieval:
                        results["ratios"][eval_set.name] = {
                            m: retrieval["hybrid"][m] / retrieval["typical"][m] if retrieval["typical"][m] else None
                            for m, _ in METRICS
                        }
                if answers is not None:
                    results["answers"][eval_set.name] = answers
                    answerers.add(answerer)
            results["memory"]["recherche et réponses"] = peak_rss_mb()
        if "speed" in args.phases:
            folders = [materialise(s, args.workdir / "corpora") for s in sets]
            by_name = dict(zip((s.name for s in sets), folders, strict=True))
            speed_folder = by_name.get("domain", folders[0])
            results["speed"] = {"ingest": measure_ingest(speed_folder, run_dir / "cold", settings, embedder.inner)}
            results["speed"]["ingest"]["index_mb"] = results["speed"]["ingest"].pop("index_bytes") / 1e6
            sample = latency_questions(sets)
            scale = measure_scale(folders, args.sizes_list, run_dir / "scale", settings, embedder, sample)
            for point in scale["points"]:
                point["index_mb"] = point.pop("index_bytes") / 1e6
            results["speed"]["scale"] = {**scale, "questions": len(sample)}
            if args.scale_out_sizes:
                # the index beyond what the real path can embed here: copies with derived vectors, bulk-loaded
                points = measure_scale_out(
                    args.scale_out_sizes,
                    run_dir / "scale-out",
                    sample,
                    answers=15,
                    base=["spf"],
                    cache_dir=args.cache_dir,
                )
                results["speed"]["scale_out"] = {"points": points, "questions": len(sample)}
            results["memory"]["vitesse"] = peak_rss_mb()
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    results["meta"] = {
        "date": f"{when:%Y-%m-%d}",
        "started": when.isoformat(timespec="seconds"),
        "command": args.command,
        "duration_seconds": time.perf_counter() - started,
        "git_commit": commit,  # at the start: the code this run imported
        "machine": host,
        "embedder": embedder.name,
        "answerer": ", ".join(sorted(answerers)) or None,  # what answered, when answers were asked
        "phases": list(args.phases),
        "systems": list(args.system_names),
        "notes": notes(sets, args),
    }
    return rounded(results)


def notes(sets: Sequence[EvalSet], args: argparse.Namespace) -> list[str]:
    """What a reader must know to read the figures right."""
    found = [
        "Chaque index est reconstruit à chaque exécution par le chemin d'ingestion du produit ; les embeddings "
        "viennent du cache (empreinte du texte et du modèle), si bien que les temps d'indexation des jeux mesurent "
        "découpage et écriture, pas l'embedding (voir « Ingestion à froid » pour ce coût)."
    ]
    if any(s.name == "piaf" for s in sets) and not args.limit:
        found.append("piaf : les 1 000 premières questions de développement, comme les chiffres de référence.")
    if any(s.name == "spf-fast" for s in sets):
        found.append(
            "spf-fast (sous-ensemble de la CI, liste figée dans evals/spf-fast.json) : 40 questions de spf dont la "
            "fiche pertinente est courte, ces fiches entières et 60 fiches distractrices proches (BM25) coupées à "
            "1 000 caractères."
        )
    return found


def main(argv: Sequence[str] | None = None, *, embedder: CachedEmbedder | None = None) -> int:
    """Run, write the report, and with ``--check`` compare with the baseline (exit code 1 on a regression)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    args.command = " ".join(["python -m evals", *argv])
    try:
        pyplot()  # fail now, not after an hour of measuring
    except ImportError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    try:
        results = run(args, embedder=embedder)
    except (FileNotFoundError, ValueError) as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    default_dir = (
        args.workdir / "reports" / "check" if args.check else REPO / "evals" / "reports" / results["meta"]["date"]
    )
    paths = write_report(results, args.report_dir or default_dir)
    print(f"Rapport : {paths['markdown']}")
    if "checker" in results:
        print("\n".join(markdown_table(results["checker"]["table"])))
        print(json.dumps(results["checker"]["targets"], ensure_ascii=False))
    for name, systems in results["retrieval"].items():
        for system, f in systems.items():
            print(f"  {name:10} {system:8} " + "  ".join(f"{label} {f[m]:.3f}" for m, label in METRICS))
    baseline = json.loads(args.baseline.read_text(encoding="utf-8")) if args.baseline.is_file() else None
    tolerance = args.tolerance if args.tolerance is not None else (baseline or {}).get("tolerance", DEFAULT_TOLERANCE)
    if args.write_baseline:
        baseline = baseline_from(results, tolerance)
        args.baseline.write_text(json.dumps(baseline, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"Base écrite : {args.baseline}")
    if not args.check:
        return 0
    if baseline is None:
        print(f"Erreur : base de comparaison introuvable ({args.baseline}) : lancez --write-baseline", file=sys.stderr)
        return 2
    for pair in missing(results, baseline):
        print(f"Non mesuré dans cette exécution : {pair}", file=sys.stderr)
    dropped = regressions(results, baseline, tolerance)
    for line in dropped:
        print(f"RÉGRESSION {line}", file=sys.stderr)
    print("Porte de non-régression : " + ("ÉCHEC" if dropped else "OK"))
    return 1 if dropped else 0
