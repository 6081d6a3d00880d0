"""The regression gate (pure): current retrieval figures against the committed baseline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

GATED_METRICS = ("recall@1", "recall@5", "mrr@10", "ndcg@10")
DEFAULT_TOLERANCE = 0.03


def regressions(current: Mapping[str, Any], baseline: Mapping[str, Any], tolerance: float) -> list[str]:
    """One French line per retrieval metric (set × system) that dropped by more than ``tolerance`` (absolute).

    Sets or systems absent from either side are not compared; a missing set is reported by ``missing``.
    """
    found = []
    for set_name, systems in baseline.get("retrieval", {}).items():
        for system, figures in systems.items():
            now = current.get("retrieval", {}).get(set_name, {}).get(system)
            if now is None:
                continue
            for metric in GATED_METRICS:
                before, after = figures.get(metric), now.get(metric)
                if before is not None and after is not None and after < before - tolerance:
                    found.append(
                        f"{set_name} / {system} : {metric} {after:.3f} < {before:.3f} "
                        f"(baisse de {before - after:.3f}, tolérance {tolerance:.3f})"
                    )
    return found


def missing(current: Mapping[str, Any], baseline: Mapping[str, Any]) -> list[str]:
    """Set × system pairs of the baseline that the current run did not measure."""
    return [
        f"{set_name} / {system}"
        for set_name, systems in baseline.get("retrieval", {}).items()
        for system in systems
        if system not in current.get("retrieval", {}).get(set_name, {})
    ]


def baseline_from(results: Mapping[str, Any], tolerance: float) -> dict[str, Any]:
    """The baseline file's content: the gated metrics of a run, with the tolerance and what produced them."""
    return {
        "tolerance": tolerance,
        "command": results["meta"]["command"],
        "date": results["meta"]["date"],
        "retrieval": {
            set_name: {
                system: {m: figures[m] for m in (*GATED_METRICS, "questions")} for system, figures in systems.items()
            }
            for set_name, systems in results["retrieval"].items()
        },
    }
