"""The checker's confusion table (pure): for each kind of case, attached right / attached wrong / left unsupported.

A faithful case is right when the sentence is attached to its expected passage; a fabrication is right when
it is left unsupported ("attached wrong" then counts fabrications given any source).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evals.checker.cases import FABRICATIONS, HARD_FACTS


@dataclass(frozen=True)
class Outcome:
    case_id: str
    kind: str
    expected: int | None
    attached: int | None


def tally(outcomes: Iterable[Outcome]) -> dict[str, dict[str, int]]:
    """Per kind: cases, attached_right, attached_wrong, unsupported (sentence left without a source)."""
    table: dict[str, dict[str, int]] = {}
    for outcome in outcomes:
        row = table.setdefault(outcome.kind, {"cases": 0, "attached_right": 0, "attached_wrong": 0, "unsupported": 0})
        row["cases"] += 1
        if outcome.attached is None:
            row["unsupported"] += 1
        elif outcome.attached == outcome.expected:
            row["attached_right"] += 1
        else:
            row["attached_wrong"] += 1
    return dict(sorted(table.items(), key=lambda item: (item[0] in FABRICATIONS, item[0])))


def targets(table: Mapping[str, Mapping[str, int]]) -> dict[str, float | int]:
    """The three figures the issue sets targets for."""
    faithful = [row for kind, row in table.items() if kind not in FABRICATIONS]
    fabricated = [row for kind, row in table.items() if kind in FABRICATIONS]
    hard = [row for kind, row in table.items() if kind in HARD_FACTS]
    faithful_cases = sum(r["cases"] for r in faithful)
    fabricated_cases = sum(r["cases"] for r in fabricated)
    return {
        "faithful_attached_right": sum(r["attached_right"] for r in faithful) / faithful_cases
        if faithful_cases
        else 0.0,
        "fabrications_unsupported": sum(r["unsupported"] for r in fabricated) / fabricated_cases
        if fabricated_cases
        else 0.0,
        "hard_fact_fabrications_attached": sum(r["cases"] - r["unsupported"] for r in hard),
    }


def markdown_table(table: Mapping[str, Mapping[str, int]]) -> list[str]:
    """The table as Markdown lines, one row per kind, faithful kinds first, with a total per family."""
    lines = [
        "| famille | type | cas | rattachée au bon passage | rattachée à un autre passage | laissée sans source |",
        "|---|---|---|---|---|---|",
    ]
    for family, kinds in (("fidèle", _kinds(table, False)), ("quasi-fabrication", _kinds(table, True))):
        for kind in kinds:
            row = table[kind]
            lines.append(
                f"| {family} | {kind} | {row['cases']} | {row['attached_right']} | {row['attached_wrong']} | "
                f"{row['unsupported']} |"
            )
        total = {
            key: sum(table[k][key] for k in kinds)
            for key in ("cases", "attached_right", "attached_wrong", "unsupported")
        }
        lines.append(
            f"| {family} | **total** | {total['cases']} | {total['attached_right']} | {total['attached_wrong']} | "
            f"{total['unsupported']} |"
        )
    return lines


def _kinds(table: Mapping[str, Mapping[str, int]], fabrication: bool) -> Sequence[str]:
    return [kind for kind in table if (kind in FABRICATIONS) == fabrication]


def checker_section(checker: Mapping[str, Any] | None) -> list[str]:
    """The report's section on the citation checker (nothing when it was not measured)."""
    if not checker:
        return []
    figures = checker["targets"]
    return [
        "",
        "## Vérificateur de citations",
        "",
        f"{checker['cases']} phrases générées (jeu evals/checker, corpus de démonstration) : pour chacune, le passage "
        "qui l'appuie ou « non étayée ». Une paraphrase fidèle est juste si elle est rattachée au bon passage ; une "
        f"quasi-fabrication, si elle reste sans source. Similarité : {checker['similarity']}.",
        "",
        *markdown_table(checker["table"]),
        "",
        f"- paraphrases fidèles rattachées au bon passage : {figures['faithful_attached_right']:.1%} (cible ≥ 90 %)",
        f"- quasi-fabrications laissées sans source : {figures['fabrications_unsupported']:.1%} (cible ≥ 98 %)",
        "- quasi-fabrications rattachées alors qu'un nombre, une date ou un territoire diffère : "
        f"{figures['hard_fact_fabrications_attached']} (cible 0)",
    ]
