"""Question sets: the shared benchmarks (spf, piaf, seeds), the domain set, or a user's own JSONL.

A question file has one JSON object per line: ``{"id", "question", "relevant": [doc ids or file names]}``
plus optional ``type`` (howto, precedent, fact, unanswerable), ``key_facts`` and ``answers``.
Documents are matched by file stem, so "004_x.txt", "004_x" and a JSONL ``doc_id`` written to "<doc_id>.txt" agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED_BENCH = REPO.parent / "shared" / "bench"
DOMAIN_QUESTIONS = REPO / "evals" / "domain" / "questions-dev.jsonl"


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    relevant: frozenset[str]  # document stems
    type: str = "fact"
    key_facts: tuple[str, ...] = ()
    answers: tuple[str, ...] = field(default=())

    @property
    def answerable(self) -> bool:
        return bool(self.relevant)


def document_key(name: str) -> str:
    """The stem by which questions name a document."""
    return Path(name).stem if Path(name).suffix in {".txt", ".md", ".html", ".htm", ".pdf", ".docx"} else name


def load_questions(path: Path, limit: int | None = None) -> list[Question]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            questions.append(
                Question(
                    id=str(raw.get("id", number)),
                    question=raw["question"],
                    relevant=frozenset(document_key(r) for r in raw.get("relevant", [])),
                    type=raw.get("type", "fact" if raw.get("relevant") else "unanswerable"),
                    key_facts=tuple(raw.get("key_facts", [])),
                    answers=tuple(raw.get("answers", [])),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}, ligne {number} : question invalide ({exc})") from exc
        if limit is not None and len(questions) >= limit:
            break
    return questions
