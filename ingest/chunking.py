"""Structure-aware chunking (pure): sections are packed into chunks of ~target tokens.

Chunks follow headings and pages: a new heading closes the current chunk once
it is big enough, a page break always does (so each chunk has one page), and
only a paragraph longer than the limit is cut, by LangChain's recursive splitter
with a small token overlap. Every chunk is an exact slice of the document text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.types import Chunk, Document, Section

TokenCounter = Callable[[str], int]
_SEPARATORS = ["\n\n", "\n", ". ", "; ", ", ", " ", ""]


@dataclass(frozen=True)
class ChunkSizes:
    target: int = 320
    maximum: int = 400
    minimum: int = 80
    overlap: int = 40


def _split_long(text: str, count: TokenCounter, sizes: ChunkSizes) -> list[tuple[int, int]]:
    # The splitter adds up the lengths of its pieces (single words when a paragraph has no
    # sentence breaks), but e5's counter includes a fixed cost per call (special tokens, the
    # "passage: " prefix): summed per word it made chunks ~8 times too small and overlapping.
    fixed_cost = count("")

    def content_tokens(piece: str) -> int:
        return max(count(piece) - fixed_cost, 0)

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=sizes.target - fixed_cost,
        chunk_overlap=min(sizes.overlap, max(sizes.target - fixed_cost - 1, 0)),
        length_function=content_tokens,
        separators=_SEPARATORS,
        keep_separator="end",
    )
    # Offsets are found here: the splitter's own start_index subtracts the overlap (in tokens)
    # from a character offset and returns -1 once the overlap is longer in characters.
    spans = []
    cursor = 0
    for piece in splitter.split_text(text):
        start = text.find(piece, cursor)
        if not piece.strip() or start < 0:
            continue
        spans.append((start, start + len(piece)))
        cursor = start + 1
    return spans


def chunk_document(
    document: Document, *, count_tokens: TokenCounter, sizes: ChunkSizes, chunk_prefix: str
) -> list[Chunk]:
    """Cut a document into chunks; ``chunk_prefix`` makes ids unique per document version."""
    text = document.text
    spans: list[tuple[int, int, int | None, tuple[str, ...]]] = []  # start, end, page, headings
    headings: list[tuple[int, str]] = []  # (level, text) stack
    current: list[Section] = []
    current_path: tuple[str, ...] = ()
    current_tokens = 0

    def close() -> None:
        nonlocal current_tokens
        if current:
            spans.append((current[0].start, current[-1].end, current[0].page, current_path))
        current.clear()
        current_tokens = 0

    for section in document.sections:
        piece = text[section.start : section.end]
        if section.kind == "heading":
            while headings and headings[-1][0] >= section.level:
                headings.pop()
            headings.append((section.level, piece.replace("\n", " ")))
            # a heading opens a new chunk unless the current one is still small
            if current_tokens >= sizes.minimum:
                close()
        tokens = count_tokens(piece)
        if current and (section.page != current[0].page or current_tokens + tokens > sizes.target):
            close()
        path = tuple(h for _, h in headings)
        if tokens > sizes.maximum:
            close()
            for start, end in _split_long(piece, count_tokens, sizes):
                spans.append((section.start + start, section.start + end, section.page, path))
            continue
        if all(s.kind == "heading" for s in current):
            # a chunk opening with headings is labelled by the deepest one before its text
            current_path = path
        current.append(section)
        current_tokens += tokens
    close()

    chunks = []
    for index, (start, end, page, path) in enumerate(spans):
        chunks.append(
            Chunk(
                chunk_id=f"{chunk_prefix}-{index:04d}",
                doc_id=document.doc_id,
                index=index,
                text=text[start:end],
                start=start,
                end=end,
                page=page,
                heading_path=path,
                metadata=document.metadata,
            )
        )
    return chunks
