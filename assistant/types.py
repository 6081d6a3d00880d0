"""Records that flow from ingestion to answers. Frozen so they can be shared safely."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Span:
    """A slice of a text: ``text == whole[start:end]`` (a sentence, a heading, a section body)."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Block:
    """A structural unit of a document: a heading or a paragraph, on one page."""

    text: str
    kind: str = "paragraph"  # "heading" | "paragraph"
    level: int = 0  # heading level, 0 for paragraphs
    page: int | None = None


@dataclass(frozen=True)
class Section:
    """Where a block landed in the document text: ``text[start:end]``."""

    start: int
    end: int
    kind: str
    level: int
    page: int | None


@dataclass(frozen=True)
class Document:
    """A loaded, cleaned document: its full text, structure and metadata."""

    doc_id: str
    text: str
    sections: tuple[Section, ...]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return str(self.metadata.get("title", ""))


@dataclass(frozen=True)
class Chunk:
    """A passage of a document. ``text == document.text[start:end]`` always holds."""

    chunk_id: str
    doc_id: str
    index: int
    text: str
    start: int
    end: int
    page: int | None
    heading_path: tuple[str, ...]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def heading(self) -> str:
        return " > ".join(self.heading_path)


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its score and where the score came from."""

    chunk: Chunk
    score: float
    provenance: dict[str, float] = field(default_factory=dict)  # e.g. {"keyword": 3, "dense": 1}


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer; ``quote == document text[start:end]``."""

    number: int
    chunk_id: str
    doc_id: str
    title: str
    page: int | None
    source: str  # file path or URL as ingested
    url: str | None
    quote: str
    start: int
    end: int
    organisation: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer and whether the sources support it.

    ``status``: "cited" (``citation`` is its ``[n]``), "unsupported" (no passage supports it; ``shown`` is False
    when the settings hide such sentences) or "meta" (a sentence about the answer itself, which needs no source).
    """

    text: str
    status: str
    citation: int | None = None
    shown: bool = True


@dataclass(frozen=True)
class Answer:
    """What the assistant says, with the citations its ``[n]`` markers point to."""

    question: str
    text: str
    citations: tuple[Citation, ...]
    refused: bool
    answerer: str  # "offline", "openai-compatible:<model>", "local:<model>"
    notice: str | None = None  # French, shown to the user (e.g. the endpoint failed, offline answer given)
    unsupported_sentences: int = 0  # generated sentences no passage supports (marked or hidden, never cited)
    removed_markers: int = 0  # [n] written by a model that pointed to no or to a wrong source
    passages: tuple[Passage, ...] = ()  # the numbered passages the answer was built from
    timings: dict[str, float] = field(default_factory=dict)  # e.g. first_token_s, total_s, completion_tokens
    sentences: tuple[AnswerSentence, ...] = ()  # each sentence with its status (cited, unsupported, meta)


@dataclass(frozen=True)
class Passage:
    """A numbered passage shown with an answer: the hit, widened to its neighbouring chunks.

    ``text == document text[start:end]``; ``number`` is the ``[n]`` a citation uses.
    """

    number: int
    hit: Hit
    text: str
    start: int
    end: int

    @property
    def chunk(self) -> Chunk:
        return self.hit.chunk


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation, for follow-up questions."""

    question: str
    answer: str = ""
