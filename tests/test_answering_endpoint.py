"""Opt-in: the answer tests against a real endpoint given by the environment.

    ASSISTANT_TEST_BASE_URL=http://127.0.0.1:8080/v1 [ASSISTANT_TEST_API_KEY=…] [ASSISTANT_TEST_MODEL=…] \\
        python -m pytest -m endpoint -s tests/test_answering_endpoint.py

Selected only when ASSISTANT_TEST_BASE_URL is set (see conftest). Prints each answer with its
time to first token, generation speed and the share of sentences the citation checker attached.
"""

from __future__ import annotations

import os

import pytest
from answer_checks import assert_citations_resolve, assistant_with

from assistant.backends.llm import OpenAICompatibleChat
from assistant.pipeline import Assistant

QUESTIONS = [
    "Quelle publication a capitalisé le premier cycle de qualification sur le développement économique urbain de l'IREV ?",
    "Le forum Cités Cap, c'est organisé par qui, où et quand ?",
    "Comment organiser une formation-action qui rapproche développeurs économiques et équipes politique de la ville ?",
]

pytestmark = [pytest.mark.endpoint, pytest.mark.shared]


@pytest.fixture(scope="module")
def llm_assistant(seed_services) -> Assistant:
    chat = OpenAICompatibleChat(
        base_url=os.environ["ASSISTANT_TEST_BASE_URL"],
        api_key=os.environ.get("ASSISTANT_TEST_API_KEY"),
        model=os.environ.get("ASSISTANT_TEST_MODEL", "local"),
        timeout_s=600,
        max_retries=0,
    )
    return assistant_with(
        seed_services, chat, max_prompt_tokens=int(os.environ.get("ASSISTANT_TEST_PROMPT_TOKENS", "850"))
    )


@pytest.mark.parametrize("question", QUESTIONS)
def test_endpoint_answers_with_checked_citations(llm_assistant, seed_services, question):
    answer = llm_assistant.ask(question)
    assert answer.notice is None, answer.notice
    assert answer.text.strip()
    assert_citations_resolve(answer, seed_services.store)
    sentences = answer.text.count("[") + answer.unsupported_sentences
    attached = (sentences - answer.unsupported_sentences) / sentences if sentences else 0.0
    timings = answer.timings
    rate = timings.get("completion_tokens", 0) / max(timings.get("total_s", 1) - timings.get("first_token_s", 0), 1e-6)
    print(
        f"\nQ: {question}\nA: {answer.text}\n  first token {timings.get('first_token_s', 0):.1f} s · "
        f"{rate:.1f} tokens/s · prompt {timings.get('prompt_tokens', 0):.0f} tokens · "
        f"sentences attached to a passage: {attached:.0%} · markers removed: {answer.removed_markers}"
    )
