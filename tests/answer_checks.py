"""What the answering tests share: the product's assistant over an index with a given chat model, and the
check that every citation resolves to its passage and to the document text."""

from __future__ import annotations

from assistant.backends.llm import OpenAICompatibleChat
from assistant.pipeline import Assistant
from assistant.types import Answer


def assert_citations_resolve(answer: Answer, store) -> None:
    shown = {p.chunk.chunk_id: p for p in answer.passages}
    assert [c.number for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for citation in answer.citations:
        passage = shown[citation.chunk_id]
        assert citation.quote in passage.text
        assert store.document_text(citation.doc_id)[citation.start : citation.end] == citation.quote
        assert f"[{citation.number}]" in answer.text


def assistant_with(services, chat: OpenAICompatibleChat, *, max_prompt_tokens: int) -> Assistant:
    """The product's assistant over ``services``' index, answering with ``chat``."""
    return Assistant(
        services.searcher,
        services.store,
        services.settings.generation,
        chat_model=lambda: chat,
        count_tokens=services.prompt_tokens,
        max_prompt_tokens=max_prompt_tokens,
    )
