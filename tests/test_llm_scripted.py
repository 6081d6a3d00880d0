"""OpenAICompatibleChat against a scripted OpenAI-compatible server on 127.0.0.1.

Each test enqueues the server's replies (normal stream, dropped stream, HTTP errors, silence)
and checks what the client yields, what it reports in StreamStats, which French reason it
raises, and how many requests it sent (retries are bounded and never follow a token).
"""

from __future__ import annotations

import socket

import pytest
from fakes import (
    QUESTION,
    ScriptedEndpoint,
    collect,
    collect_until_failure,
    dropped_reply,
    invalid_json_reply,
    make_chat,
    rejects_stream_options,
    silent_reply,
    status_reply,
    stream_reply,
)

from assistant.backends.llm import LLMUnavailable, OpenAICompatibleChat, StreamStats


def test_stream_yields_deltas_and_fills_stats(endpoint: ScriptedEndpoint) -> None:
    endpoint.replies = [stream_reply(["Un QPV ", "est un ", "quartier prioritaire."], usage=(42, 7))]
    stats = StreamStats()

    deltas = collect(make_chat(endpoint), stats)

    assert deltas == ["Un QPV ", "est un ", "quartier prioritaire."]
    assert stats.finish_reason == "stop"
    assert (stats.prompt_tokens, stats.completion_tokens) == (42, 7)
    assert 0 < stats.first_token_s <= stats.total_s
    sent = endpoint.requests[0]
    assert sent["messages"] == [{"role": m.role, "content": m.content} for m in QUESTION]
    assert (sent["model"], sent["max_tokens"], sent["stream"]) == ("scripted", 32, True)
    assert sent["stream_options"] == {"include_usage": True}


def test_finish_reason_length_is_reported(endpoint: ScriptedEndpoint) -> None:
    endpoint.replies = [stream_reply(["Un QPV"], finish_reason="length")]
    stats = StreamStats()
    assert collect(make_chat(endpoint), stats) == ["Un QPV"]
    assert stats.finish_reason == "length"


@pytest.mark.parametrize("chunked", [False, True], ids=["closed-cleanly", "closed-mid-chunk"])
def test_dropped_stream_is_unavailable_and_not_retried(endpoint: ScriptedEndpoint, chunked: bool) -> None:
    endpoint.replies = [dropped_reply(["Un QPV ", "est"], chunked=chunked)]

    deltas, failure = collect_until_failure(make_chat(endpoint, max_retries=2))

    assert deltas == ["Un QPV ", "est"]  # what arrived was shown; the failure follows it
    assert str(failure) == "connexion interrompue pendant la réponse"
    assert len(endpoint.requests) == 1


def test_http_500_is_retried_a_bounded_number_of_times(endpoint: ScriptedEndpoint) -> None:
    endpoint.replies = [status_reply(500, "boom", headers={"retry-after-ms": "5"})]

    deltas, failure = collect_until_failure(make_chat(endpoint, max_retries=2))

    assert deltas == []
    assert str(failure) == "erreur du service de génération (HTTP 500)"
    assert len(endpoint.requests) == 3  # the first try and two retries


def test_http_500_then_success_recovers_before_the_first_token(endpoint: ScriptedEndpoint) -> None:
    endpoint.replies = [status_reply(503, "loading", headers={"retry-after-ms": "5"}), stream_reply(["Oui."])]
    assert collect(make_chat(endpoint, max_retries=2)) == ["Oui."]
    assert len(endpoint.requests) == 2


def test_silent_server_times_out(endpoint: ScriptedEndpoint) -> None:
    endpoint.replies = [silent_reply(5.0)]

    deltas, failure = collect_until_failure(make_chat(endpoint, timeout_s=0.5, max_retries=0))

    assert deltas == []
    assert str(failure) == "le service de génération ne répond pas (délai dépassé)"


def test_stream_stalling_after_tokens_times_out_without_retry(endpoint: ScriptedEndpoint) -> None:
    endpoint.replies = [silent_reply(5.0, after_deltas=["Un QPV "])]

    deltas, failure = collect_until_failure(make_chat(endpoint, timeout_s=0.5, max_retries=2))

    assert deltas == ["Un QPV "]
    assert str(failure) == "le service de génération ne répond plus (délai dépassé pendant la réponse)"
    assert len(endpoint.requests) == 1


def test_rejected_api_key_says_what_to_check(endpoint: ScriptedEndpoint) -> None:
    endpoint.replies = [status_reply(401, "Incorrect API key provided")]

    _, failure = collect_until_failure(make_chat(endpoint, max_retries=2))

    assert str(failure) == "clé d'API refusée (HTTP 401) : vérifiez OPENAI_API_KEY / la configuration"
    assert len(endpoint.requests) == 1  # a refused key is not retried


def test_context_overflow_is_explained(endpoint: ScriptedEndpoint) -> None:
    endpoint.replies = [status_reply(400, "the request exceeds the available context size")]
    _, failure = collect_until_failure(make_chat(endpoint))
    assert "trop longs" in str(failure)


def test_server_rejecting_stream_options_is_retried_without_them(endpoint: ScriptedEndpoint) -> None:
    endpoint.replies = [rejects_stream_options]
    chat = make_chat(endpoint)
    stats = StreamStats()

    assert collect(chat, stats) == ["Quartier ", "prioritaire."]
    assert stats.finish_reason == "stop"
    assert stats.prompt_tokens is None  # the server could not be asked for usage
    assert ["stream_options" in r for r in endpoint.requests] == [True, False]

    collect(chat)  # remembered: the next question goes straight without them
    assert ["stream_options" in r for r in endpoint.requests] == [True, False, False]


def test_invalid_json_chunk_is_unavailable(endpoint: ScriptedEndpoint) -> None:
    endpoint.replies = [invalid_json_reply]
    deltas, failure = collect_until_failure(make_chat(endpoint))
    assert deltas == ["Bon"]
    assert str(failure) == "réponse illisible du service de génération"


def test_unreachable_server_is_unavailable() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    chat = OpenAICompatibleChat(base_url=f"http://127.0.0.1:{port}/v1", api_key=None, model="m", max_retries=0)

    with pytest.raises(LLMUnavailable, match="injoignable"):
        collect(chat)


def test_list_models(endpoint: ScriptedEndpoint) -> None:
    assert make_chat(endpoint).list_models() == ["scripted"]
