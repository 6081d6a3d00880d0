"""Follow-up questions (pure): give a short or elliptic question the context of the previous turn.

"et à Rennes ?" or "qui finance ?" retrieve nothing useful alone; prefixing the
previous question keeps the subject. When an LLM is configured it rewrites the
question instead (see ``REWRITE_INSTRUCTION``), with this as the fallback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.generation.question import analyse_question
from assistant.retrieval.french import analyze
from assistant.types import Turn

# words that continue the conversation; « Qui », « Quand » or « Combien » alone do not
_CONTINUING_START = re.compile(
    r"^\s*(et|mais|aussi|sinon|ou|alors|du coup|dans ce cas|pareil|idem|comment ça|lequel|laquelle|lesquels|lesquelles)\b",
    re.I,
)
_ANAPHORA = re.compile(
    r"\b(ce|cet|cette|ces) (dispositif|projet|action|plateforme|programme|démarche|expérience|structure)s?\b|\b(il|elle|ils|elles|leur|leurs|son|sa|ses|celui-ci|celle-ci|ça|cela|y)\b|"
    r"\b(qui|comment|où|pourquoi|quand)\s+(la|le|les|l['’])\s*\w",
    re.I,
)

REWRITE_INSTRUCTION = (
    "Réécris la dernière question de l'utilisateur pour qu'elle se comprenne seule, en reprenant le sujet "
    "des échanges précédents. Réponds uniquement par la question réécrite, en français."
)


def needs_context(question: str) -> bool:
    """A question continues the conversation when it opens with a continuing word (« et qui finance ? »),
    points back (« ce dispositif », « elle »), or names no topic of its own (« qui finance ? »,
    « combien ? »). A question that names its own topic (« Qu'est-ce qu'une Cité de l'emploi ? ») opens a
    new one, however short."""
    if _CONTINUING_START.match(question) or _ANAPHORA.search(question):
        return True
    return all(t.word in _GENERIC for t in analyse_question(question).focus)


# words that say which detail is wanted, not what it is about: « Et le budget ? » names no topic
_GENERIC = frozenset(analyze("budget montant coût date durée nombre taux résultats porteur public bilan chiffres"))


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
