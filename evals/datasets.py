"""Question sets: the shared benchmarks (spf, piaf, seeds), the domain set, or a user's own JSONL.

A question file has one JSON object per line: ``{"id", "question", "relevant": [doc ids or file names]}``
plus optional ``type`` (howto, precedent, fact, unanswerable), ``key_facts`` and ``answers``.
Documents are matched by file stem, so "004_x.txt", "004_x" and a JSONL ``doc_id`` written to "<doc_id>.txt" agree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED_BENCH = REPO.parent / "shared" / "bench"
DOMAIN_QUESTIONS = REPO / "evals" / "domain" / "questions-dev.jsonl"
SEED_EXTRA = REPO / "evals" / "seeds" / "questions-extra.jsonl"


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    relevant: frozenset[str]  # document stems
    type: str = "fact"
    key_facts: tuple[str, ...] = ()
    answers: tuple[str, ...] = field(default=())
    history: tuple[str, ...] = ()  # earlier questions of the conversation, for follow-ups

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
                    history=tuple(raw.get("history", [])),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}, ligne {number} : question invalide ({exc})") from exc
        if limit is not None and len(questions) >= limit:
            break
    return questions


SHARED_SEEDS = REPO.parent / "shared" / "seeds"
DEMO_CORPUS = REPO / "corpus" / "demo"
PIAF_QUESTIONS = 1000  # the reference figures of bench/README.md use the first 1,000 piaf dev questions
# The CI subset (ids only, fixed): it must embed in about a minute from an empty cache on two cores.
FAST_SUBSET = REPO / "evals" / "spf-fast.json"


@dataclass(frozen=True)
class EvalSet:
    """Questions and the corpus they are asked over.

    ``corpus`` is a folder of files, or a JSONL of ``{"doc_id", "text"[, "title"]}`` records;
    ``documents`` keeps only these doc ids of a JSONL corpus, each cut to at most that many characters
    when a number is given (None: all documents, whole).
    """

    name: str
    questions: tuple[Question, ...]
    corpus: Path
    documents: Mapping[str, int | None] | None = None

    @property
    def answerable(self) -> tuple[Question, ...]:
        """What retrieval is scored on: questions with relevant documents."""
        return tuple(q for q in self.questions if q.answerable)


BUILTIN_SETS = ("spf", "piaf", "seeds", "domain", "spf-fast")


def load_set(name: str, *, limit: int | None = None) -> EvalSet:
    """A built-in set by name: spf, piaf, seeds, domain, or spf-fast (the CI subset of spf)."""
    if name == "domain":
        return EvalSet(name, tuple(load_questions(DOMAIN_QUESTIONS, limit)), DEMO_CORPUS)
    if name not in BUILTIN_SETS:
        raise ValueError(f"jeu inconnu « {name} » : choisir parmi {', '.join(BUILTIN_SETS)}")
    if not SHARED_BENCH.is_dir():
        raise FileNotFoundError(f"jeu « {name} » : le dossier des benchmarks {SHARED_BENCH} est introuvable")
    if name == "seeds":
        # the shared seed questions, then ours (short key facts only, kept in the repository)
        questions = load_questions(SHARED_BENCH / "seeds" / "questions-dev.jsonl") + load_questions(SEED_EXTRA)
        return EvalSet(name, tuple(questions[:limit]), SHARED_SEEDS)
    if name == "piaf":
        questions = load_questions(SHARED_BENCH / "piaf" / "questions-dev.jsonl", limit or PIAF_QUESTIONS)
        return EvalSet(name, tuple(questions), SHARED_BENCH / "piaf" / "corpus.jsonl")
    corpus = SHARED_BENCH / "spf" / "corpus.jsonl"
    questions = load_questions(SHARED_BENCH / "spf" / "questions-dev.jsonl", None if name == "spf-fast" else limit)
    if name == "spf":
        return EvalSet(name, tuple(questions), corpus)
    return fast_subset(name, corpus, questions, FAST_SUBSET, limit=limit)


def fast_subset(name: str, corpus: Path, questions: list[Question], sample: Path, *, limit: int | None) -> EvalSet:
    """The questions named in ``sample`` over their relevant documents (whole) and its distractors (cut)."""
    chosen_ids = json.loads(sample.read_text(encoding="utf-8"))
    wanted = set(chosen_ids["questions"])
    chosen = [q for q in questions if q.id in wanted][:limit]
    documents: dict[str, int | None] = dict.fromkeys(chosen_ids["distractors"], chosen_ids["distractor_chars"])
    documents.update((d, None) for q in chosen for d in q.relevant)
    return EvalSet(name, tuple(chosen), corpus, documents)


def custom_set(questions: Path, corpus: Path, *, name: str | None = None, limit: int | None = None) -> EvalSet:
    """A user's own questions (JSONL) over a corpus folder or JSONL file."""
    if not questions.is_file():
        raise FileNotFoundError(f"fichier de questions introuvable : {questions}")
    if not corpus.exists():
        raise FileNotFoundError(f"corpus introuvable : {corpus}")
    return EvalSet(name or questions.stem, tuple(load_questions(questions, limit)), corpus)
