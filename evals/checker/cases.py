"""The checker's labelled set: authored in source.yaml, stored as cases.jsonl with each passage's exact text.

``python -m evals.checker.cases`` rebuilds cases.jsonl from source.yaml and the documents of corpus/demo;
``load_cases`` reads it back and checks that every passage is still an exact slice of its document.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from evals.datasets import REPO
from ingest.documents import build_document
from ingest.loaders import load_file

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source.yaml"
CASES = HERE / "cases.jsonl"
CORPUS = REPO / "corpus" / "demo"
GLOSSARY = REPO / "assistant" / "glossary.yaml"
UNSUPPORTED = "unsupported"
FABRICATIONS = (
    "number",
    "quantity",
    "date",
    "territory",
    "organisation",
    "partner",
    "negation",
    "merge",
    "unsupported",
)
# the targets: no fabrication of these kinds may be attached
HARD_FACTS = ("number", "quantity", "date", "territory")
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)


@dataclass(frozen=True)
class CasePassage:
    doc: str  # file name in corpus/demo
    heading: str
    text: str  # exact slice of the document's file text


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    question: str
    passages: tuple[CasePassage, ...]
    sentence: str
    expected: int | None  # 1-based passage number, None: no passage supports the sentence

    @property
    def fabrication(self) -> bool:
        return self.kind in FABRICATIONS


@lru_cache(maxsize=64)
def document_text(doc: str, corpus: Path = CORPUS) -> str:
    """A document's text as passages quote it: the file itself for Markdown, the text the product extracts
    (loaders and cleaning of ``ingest``) for HTML, PDF and DOCX."""
    path = corpus / doc
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8")
    return build_document(doc, load_file(path.read_bytes(), path), source=doc, file_meta={}, sidecar={}).text


def document_metadata(doc: str, corpus: Path = CORPUS) -> dict:
    """A document's metadata: the front matter of a Markdown file, else its ``<name>.meta.yaml``."""
    path = corpus / doc
    if path.suffix != ".md":
        sidecar = path.with_name(path.name + ".meta.yaml")
        return yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {} if sidecar.is_file() else {}
    match = _FRONT_MATTER.match(document_text(doc, corpus))
    return yaml.safe_load(match.group(1)) if match else {}


def section(text: str, heading: str) -> str:
    """The section of a Markdown text under ``## heading`` (heading line included), or the text before the
    first ``## `` heading for "intro"; raises KeyError when the heading is missing."""
    lines = text.split("\n")
    if heading == "intro":
        start = next(i for i, line in enumerate(lines) if line.startswith("# "))
    else:
        start = next((i for i, line in enumerate(lines) if line == f"## {heading}"), None)
        if start is None:
            raise KeyError(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start:end]).strip()


def build_cases(source: Path = SOURCE, corpus: Path = CORPUS) -> list[Case]:
    """Cases of the authoring file, with each passage's exact text taken from its document."""
    cases = []
    for number, group in enumerate(yaml.safe_load(source.read_text(encoding="utf-8")), 1):
        passages = tuple(
            CasePassage(doc, heading, section(document_text(doc, corpus), heading))
            for doc, heading in group["passages"]
        )
        for position, (kind, expected, sentence) in enumerate(group["cases"], 1):
            if not 0 <= expected <= len(passages):
                raise ValueError(f"groupe {number}, cas {position} : passage {expected} inexistant")
            cases.append(
                Case(f"g{number:02d}-{position:02d}", kind, group["question"], passages, sentence, expected or None)
            )
    return cases


def write_cases(cases: list[Case], path: Path = CASES) -> None:
    with path.open("w", encoding="utf-8") as out:
        for case in cases:
            record = {
                "id": case.id,
                "kind": case.kind,
                "question": case.question,
                "passages": [{"doc": p.doc, "heading": p.heading, "text": p.text} for p in case.passages],
                "sentence": case.sentence,
                "expected": case.expected if case.expected is not None else UNSUPPORTED,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def load_cases(path: Path = CASES, corpus: Path = CORPUS) -> list[Case]:
    """Cases of a JSONL file; raises ValueError when a passage is not an exact slice of its document."""
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        passages = tuple(CasePassage(p["doc"], p.get("heading", ""), p["text"]) for p in record["passages"])
        for passage in passages:
            if passage.text not in document_text(passage.doc, corpus):
                raise ValueError(f"{record['id']} : passage absent de {passage.doc}")
        expected = record["expected"]
        cases.append(
            Case(
                record["id"],
                record["kind"],
                record["question"],
                passages,
                record["sentence"],
                None if expected == UNSUPPORTED else int(expected),
            )
        )
    return cases


if __name__ == "__main__":
    built = build_cases()
    write_cases(built)
    print(f"{len(built)} cas écrits dans {CASES}")
