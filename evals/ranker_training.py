"""``python -m evals.ranker_training``: train the learned ranker on the dev questions, cross-validated by question.

1. Collect: each set's corpus is indexed through the product's ingest path; for every dev question the
   searcher gathers its keyword and dense candidates for the query the product searches (a follow-up with its
   conversation's earlier questions), whose feature rows are labelled 1 when the chunk's document is relevant. The rows are kept in ``evals/cache/ranker`` so training can be re-run alone.
2. Cross-validate: questions are dealt into folds (seeded); each fold is scored by a model trained on
   the others, so no question is ranked by a model that saw it. The figures are document-level, like
   ``python -m evals``, next to the keyword, dense and fusion orders of the same candidates; like the product,
   current sources then come first for a question about the present.
3. Train on every question and write the model into the package (``assistant/retrieval/ranker-model.txt``),
   with a summary (figures, feature importances) in the report folder.

Training is single-threaded and seeded: the same rows give the same model file.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.copies import superseded_documents
from assistant.currency import asks_about_the_present, rank_by_currency
from assistant.retrieval.features import FEATURE_NAMES, candidate_rows
from assistant.retrieval.fusion import fuse_scored_lists
from assistant.retrieval.ranker import MODEL_FILE, blend_with_fusion, order_by_score
from assistant.settings import load_settings
from assistant.types import Chunk, Hit
from evals.corpora import materialise
from evals.datasets import REPO, document_key, load_set
from evals.metrics import document_ranking, summarize
from evals.systems import build_product_index, progress_bar, retrieval_query

log = logging.getLogger(__name__)

TRAINING_SETS = ("piaf", "spf-fast", "domain")
ALL_QUESTIONS = 1_000_000  # piaf: every dev question, not the first 1,000 the evaluation scores
CACHE = REPO / "evals" / "cache"
SEED = 17
FOLDS = 5
PARAMS: dict[str, Any] = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [1, 5],
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    # a passage ranked first matters most: the gain of the first ranks only
    "lambdarank_truncation_level": 10,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
    "verbose": -1,
}
ROUNDS = 200
# piaf has 3,771 dev questions, spf-fast 40 and the domain set 68: their rows weigh more, so the model does not
# learn piaf's extractive questions alone (cross-validated: domain Recall@1 .794 -> .809 at equal piaf)
SET_WEIGHTS = {"piaf": 1.0}
SMALL_SET_WEIGHT = 10.0


@dataclass(frozen=True)
class Collected:
    """Feature rows of one set's questions: ``sizes[i]`` consecutive rows per question."""

    set_name: str
    question_ids: list[str]
    sizes: np.ndarray
    rows: np.ndarray
    labels: np.ndarray
    documents: list[str]  # the document (file stem) of each row
    chunk_ids: list[str]
    baselines: dict[str, list[list[str]]]  # keyword, dense, fusion document rankings per question
    relevant: list[list[str]]
    currency: list[float]  # each row's currency weight (1 unless its question asks about the present)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, sizes=self.sizes, rows=self.rows, labels=self.labels)
        names = ("set_name", "question_ids", "documents", "chunk_ids", "baselines", "currency")
        meta = {k: getattr(self, k) for k in names}
        meta["relevant"] = self.relevant
        meta["features"] = list(FEATURE_NAMES)
        path.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Collected | None:
        """Rows saved by :meth:`save`, or None when missing or collected with other features."""
        try:
            meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            arrays = np.load(path)
        except OSError:
            return None
        if meta.pop("features") != list(FEATURE_NAMES) or "currency" not in meta:
            return None
        return cls(sizes=arrays["sizes"], rows=arrays["rows"], labels=arrays["labels"], **meta)


def collect(set_name: str, workdir: Path, cache_dir: Path) -> Collected:
    """Index the set's corpus and gather every dev question's candidates with their features and labels."""
    eval_set = load_set(set_name, limit=ALL_QUESTIONS)
    settings = load_settings(cache_dir=cache_dir)
    retrieval = settings.retrieval.model_copy(update={"ranker": "fusion"})
    settings = settings.model_copy(update={"chroma": settings.chroma.model_copy(update={"host": None})})
    settings = settings.model_copy(update={"retrieval": retrieval})
    folder = materialise(eval_set, workdir / "corpora")
    from assistant.factory import build_embedder

    embedder = build_embedder(settings)
    index = build_product_index(folder, workdir / "ranker" / set_name, settings, embedder, label=set_name)
    searcher = index.services.searcher
    questions = eval_set.answerable
    sizes, rows, labels, documents, chunk_ids, relevant, currency = [], [], [], [], [], [], []
    superseded = superseded_documents(index.services.store.documents())
    baselines: dict[str, list[list[str]]] = {"keyword": [], "dense": [], "fusion": []}
    bar = progress_bar(len(questions), f"candidats {set_name}", "questions")
    for question in questions:
        query = retrieval_query(question)
        pool = searcher.gather(query)
        candidates = pool.candidates()
        currency.extend(currency_weights([pool.chunks[c.chunk_id] for c in candidates], query, searcher, superseded))
        docs = [chunk_document(pool.chunks[c.chunk_id]) for c in candidates]
        sizes.append(len(candidates))
        rows.extend(candidate_rows(pool.profile, candidates))
        labels.extend(1 if d in question.relevant else 0 for d in docs)
        documents.extend(docs)
        chunk_ids.extend(c.chunk_id for c in candidates)
        relevant.append(sorted(question.relevant))
        baselines["keyword"].append(document_ranking(chunk_document(pool.chunks[cid]) for cid, _ in pool.keyword))
        baselines["dense"].append(document_ranking(chunk_document(pool.chunks[cid]) for cid, _ in pool.dense))
        fused = fuse_scored_lists({"keyword": pool.keyword, "dense": pool.dense})  # the product's default fusion
        baselines["fusion"].append(document_ranking(chunk_document(pool.chunks[cid]) for cid, _, _ in fused))
        bar.update(1)
    bar.close()
    index.services.close()
    return Collected(
        set_name,
        [q.id for q in questions],
        np.asarray(sizes, dtype=np.int32),
        np.asarray(rows, dtype=np.float64),
        np.asarray(labels, dtype=np.int32),
        documents,
        chunk_ids,
        baselines,
        relevant,
        currency,
    )


def currency_weights(chunks: list[Chunk], query: str, searcher, superseded: Iterable[str]) -> list[float]:
    """The weight the product's currency order gives each chunk for this query (1 when it does not apply)."""
    present, recent_first = asks_about_the_present(query), searcher.settings.recent_first
    superseded = set(superseded)
    if not (present or recent_first or superseded):
        return [1.0] * len(chunks)
    hits = [Hit(chunk=c, score=0.0, provenance={}) for c in chunks]
    weighted = rank_by_currency(
        hits, glossary=searcher.glossary, present=present, recent_first=recent_first, superseded=superseded
    )
    by_id = {h.chunk.chunk_id: h.provenance["currency"] for h in weighted}
    return [by_id[c.chunk_id] for c in chunks]


def order_by_currency(order: list[int], weights: Sequence[float]) -> list[int]:
    """``order`` (positions, best first) as :func:`~assistant.currency.rank_by_currency` re-orders it:
    by weight / (rank + 2), ties kept in order."""
    if all(weights[i] == 1.0 for i in order):
        return order
    keyed = sorted(enumerate(order), key=lambda p: (-weights[p[1]] / (p[0] + 2), p[0]))
    return [i for _, i in keyed]


def chunk_document(chunk: Chunk) -> str:
    """The name questions use for a chunk's document: its file stem."""
    return document_key(str(chunk.metadata.get("filename", chunk.doc_id)))


def train(
    rows: np.ndarray,
    labels: np.ndarray,
    sizes: Sequence[int],
    *,
    weights: np.ndarray | None = None,
    seed: int = SEED,
    rounds: int = ROUNDS,
):
    """A LightGBM lambdarank booster over ``sizes`` consecutive rows per question (one thread, seeded)."""
    import lightgbm

    dataset = lightgbm.Dataset(
        rows,
        label=labels,
        group=list(sizes),
        weight=weights,
        feature_name=list(FEATURE_NAMES),
        params={"verbose": -1},
    )
    params = {**PARAMS, "seed": seed}
    return lightgbm.train(params, dataset, num_boost_round=rounds)


def fold_of_questions(count: int, folds: int, seed: int) -> np.ndarray:
    """The fold (0..folds-1) of each question: a seeded shuffle dealt round-robin."""
    order = np.random.default_rng(seed).permutation(count)
    assigned = np.empty(count, dtype=np.int32)
    assigned[order] = np.arange(count) % folds
    return assigned


def _slices(sizes: np.ndarray) -> list[slice]:
    ends = np.cumsum(sizes)
    return [slice(int(e - s), int(e)) for s, e in zip(sizes, ends, strict=True)]


def rankings_from_scores(data: Collected, scores: np.ndarray) -> list[list[str]]:
    """Document rankings of each question when its candidates are ordered as the product orders them:
    by the model's ``scores`` blended with the score fusion."""
    found = []
    for part in _slices(data.sizes):
        ids = data.chunk_ids[part]
        order = order_by_score(ids, blend_with_fusion(scores[part], data.rows[part]))
        order = order_by_currency(order, data.currency[part])
        docs = data.documents[part]
        found.append(document_ranking(docs[i] for i in order))
    return found


def cross_validate(sets: Sequence[Collected], *, folds: int = FOLDS, seed: int = SEED) -> list[np.ndarray]:
    """Each set's out-of-fold scores: a question's candidates are scored by a model trained without it."""
    fold_ids = [fold_of_questions(len(d.question_ids), folds, seed + i) for i, d in enumerate(sets)]
    row_folds = [np.repeat(f, d.sizes) for f, d in zip(fold_ids, sets, strict=True)]
    out = [np.zeros(len(d.labels)) for d in sets]
    for fold in range(folds):
        kept = [rf != fold for rf in row_folds]
        train_sizes = np.concatenate([d.sizes[f != fold] for d, f in zip(sets, fold_ids, strict=True)])
        booster = train(
            np.vstack([d.rows[k] for d, k in zip(sets, kept, strict=True)]),
            np.concatenate([d.labels[k] for d, k in zip(sets, kept, strict=True)]),
            train_sizes,
            weights=np.concatenate([np.full(int(k.sum()), set_weight(d)) for d, k in zip(sets, kept, strict=True)]),
            seed=seed,
        )
        for d, rf, scores in zip(sets, row_folds, out, strict=True):
            if (rf == fold).any():
                scores[rf == fold] = booster.predict(d.rows[rf == fold], num_threads=1)
        log.info("fold %d/%d trained on %d questions", fold + 1, folds, len(train_sizes))
    return out


def set_weight(data: Collected) -> float:
    return SET_WEIGHTS.get(data.set_name, SMALL_SET_WEIGHT)


def figures(rankings: list[list[str]], relevant: list[list[str]]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in summarize(rankings, [set(r) for r in relevant]).items()}


def importances(booster) -> dict[str, float]:
    """Each feature's share of the total split gain, largest first."""
    gains = booster.feature_importance(importance_type="gain")
    total = float(gains.sum()) or 1.0
    pairs = sorted(zip(FEATURE_NAMES, gains, strict=True), key=lambda p: -p[1])
    return {name: round(float(g) / total, 4) for name, g in pairs}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m evals.ranker_training", description=__doc__.splitlines()[0])
    p.add_argument(
        "--sets", default=",".join(TRAINING_SETS), help="jeux d'entraînement (défaut : piaf,spf-fast,domain)"
    )
    p.add_argument("--recollect", action="store_true", help="recalculer les candidats même s'ils sont en cache")
    p.add_argument("--folds", type=int, default=FOLDS, help="plis de la validation croisée par question")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--workdir", type=Path, default=CACHE / "work", help="corpus écrits et index")
    p.add_argument("--cache-dir", type=Path, default=CACHE, help="cache des embeddings")
    p.add_argument("--model", type=Path, default=MODEL_FILE, help="fichier du modèle écrit")
    p.add_argument("--summary", type=Path, help="résumé JSON (chiffres croisés, importances)")
    p.add_argument("--no-save", action="store_true", help="valider sans réécrire le modèle")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    sets = []
    for name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        path = CACHE / "ranker" / f"{name}.npz"
        data = None if args.recollect else Collected.load(path)
        if data is None:
            data = collect(name, args.workdir, args.cache_dir)
            data.save(path)
        sets.append(data)
    summary: dict[str, Any] = {
        "seed": args.seed,
        "folds": args.folds,
        "rounds": ROUNDS,
        "params": PARAMS,
        "weights": {d.set_name: set_weight(d) for d in sets},
        "sets": {},
    }
    for data, scores in zip(sets, cross_validate(sets, folds=args.folds, seed=args.seed), strict=True):
        learned = rankings_from_scores(data, scores)
        per_set = {name: figures(r, data.relevant) for name, r in data.baselines.items()}
        per_set["ranker (validation croisée)"] = figures(learned, data.relevant)
        if data.set_name == "piaf":  # the evaluation's questions: the first 1,000
            first = slice(0, 1000)
            per_set["piaf 1 000 : fusion"] = figures(data.baselines["fusion"][first], data.relevant[first])
            per_set["piaf 1 000 : ranker (validation croisée)"] = figures(learned[first], data.relevant[first])
        summary["sets"][data.set_name] = per_set
        for name, values in per_set.items():
            log.info("%s %s: %s", data.set_name, name, values)
    booster = train(
        np.vstack([d.rows for d in sets]),
        np.concatenate([d.labels for d in sets]),
        np.concatenate([d.sizes for d in sets]),
        weights=np.concatenate([np.full(len(d.labels), set_weight(d)) for d in sets]),
        seed=args.seed,
    )
    summary["importances"] = importances(booster)
    log.info("importances: %s", summary["importances"])
    if not args.no_save:
        args.model.write_text(booster.model_to_string(), encoding="utf-8")
        log.info("model written to %s", args.model)
    if args.summary:
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(json.dumps(summary, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
