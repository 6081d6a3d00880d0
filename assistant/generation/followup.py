"""Follow-up questions (pure): give a short or elliptic question the context of the previous turn.

"et à Rennes ?" or "qui finance ?" retrieve nothing useful alone; prefixing the
previous question keeps the subject. When an LLM is configured it rewrites the
question instead (see ``REWRITE_INSTRUCTION``), with this as the fallback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.retrieval.french import analyze
from assistant.types import Turn

_ELLIPTIC_START = re.compile(
    r"^\s*(et|mais|aussi|sinon|ou|alors|qui|combien|quand|où|comment ça|pourquoi|lequel|laquelle|lesquels)\b", re.I
)
_ANAPHORA = re.compile(
    r"\b(ce|cet|cette|ces) (dispositif|projet|action|plateforme|programme|démarche|expérience|structure)s?\b|\b(il|elle|ils|elles|leur|leurs|celui-ci|celle-ci|ça|cela|y)\b",
    re.I,
)

REWRITE_INSTRUCTION = (
    "Réécris la dernière question de l'utilisateur pour qu'elle se comprenne seule, en reprenant le sujet "
    "des échanges précédents. Réponds uniquement par la question réécrite, en français."
)


def needs_context(question: str) -> bool:
    """Short, elliptic or anaphoric questions lean on the previous turn."""
    return len(analyze(question)) <= 3 or bool(_ELLIPTIC_START.match(question)) or bool(_ANAPHORA.search(question))


def contextualize(question: str, history: Sequence[Turn]) -> str:
    """The retrieval query: the question alone, or preceded by the questions back to the last standalone one."""
    if not history or not needs_context(question):
        return question
    context: list[str] = []
    for turn in reversed(history):
        context.insert(0, turn.question)
        if not needs_context(turn.question):
            break
    return " ".join([*context, question])
