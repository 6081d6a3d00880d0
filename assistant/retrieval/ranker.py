"""The learned ranker: a small LightGBM lambdarank model over the candidates' features.

The model file ships with the package (``ranker-model.txt``, written by ``python -m evals.ranker_training``)
and is read from disk: nothing is downloaded. When it is missing, unreadable or was trained on other
features, :func:`load_ranker` returns None and the searcher falls back to score fusion.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.retrieval.features import FEATURE_NAMES

log = logging.getLogger(__name__)

MODEL_FILE = Path(__file__).resolve().parent / "ranker-model.txt"
# The model's scores, min-max normalised over a question's candidates, plus this share of the score fusion:
# cross-validated, 0.25 turned the domain set's loss to fusion (.809 against .838 Recall@1) into a gain (.853)
# for half a point of piaf (.736 -> .731); larger shares gave back more of piaf's gain.
FUSION_BLEND = 0.25
_FUSION = FEATURE_NAMES.index("fusion_score")


class LearnedRanker:
    """Scores feature rows (``FEATURE_NAMES`` order); higher is better."""

    def __init__(self, booster) -> None:  # lightgbm.Booster, imported lazily
        self._booster = booster

    @classmethod
    def from_text(cls, model: str) -> LearnedRanker:
        """From a LightGBM model text; ValueError when its features are not ``FEATURE_NAMES``."""
        import lightgbm

        try:
            booster = lightgbm.Booster(model_str=model)
        except lightgbm.basic.LightGBMError as exc:
            raise ValueError(f"unreadable model: {exc}") from exc
        if tuple(booster.feature_name()) != FEATURE_NAMES:
            raise ValueError(f"model features {booster.feature_name()} differ from {list(FEATURE_NAMES)}")
        return cls(booster)

    def score(self, rows: Sequence[Sequence[float]]) -> list[float]:
        """One score per row: the candidates of one question, blended with their score fusion."""
        if not rows:
            return []
        # one thread: the same scores every run, and no contention with the embedder
        matrix = np.asarray(rows, dtype=np.float64)
        return blend_with_fusion(self._booster.predict(matrix, num_threads=1), matrix)


def blend_with_fusion(model_scores: Sequence[float], rows: np.ndarray) -> list[float]:
    """The model's scores of one question's candidates, min-max normalised, plus ``FUSION_BLEND`` x fusion score."""
    scores = np.asarray(model_scores, dtype=np.float64)
    low, high = float(scores.min()), float(scores.max())
    normalised = (scores - low) / (high - low) if high > low else np.ones_like(scores)
    return [float(s) for s in normalised + FUSION_BLEND * rows[:, _FUSION]]


def load_ranker(path: Path = MODEL_FILE) -> LearnedRanker | None:
    """The ranker saved at ``path``, or None (with a warning) when it cannot be used."""
    try:
        return LearnedRanker.from_text(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, ImportError) as exc:
        log.warning("learned ranker unavailable (%s): results are ranked by score fusion", exc)
        return None


def order_by_score(ids: Sequence[str], scores: Sequence[float]) -> list[int]:
    """Positions of ``ids`` best first; equal scores are ordered by id, so every run gives the same order."""
    return sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))
