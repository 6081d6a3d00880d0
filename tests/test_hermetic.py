"""The test run's own guards (conftest.py): what the machine configures never reaches a test, nor the network."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from conftest import MACHINE_VARIABLES, RUN_OPTIONS, NetworkAccess

from assistant.settings import Settings, load_settings


def test_tests_start_in_an_empty_folder_with_only_the_run_s_variables():
    assert list(Path.cwd().iterdir()) == []
    leaked = [n for n in os.environ if n.startswith(MACHINE_VARIABLES) and not n.startswith(RUN_OPTIONS)]
    assert leaked == ["ASSISTANT_GENERATION__ANSWERER"]
    assert load_settings().generation.answerer == "offline"


def test_a_config_file_is_read_only_where_the_test_puts_it(tmp_path, monkeypatch):
    (tmp_path / "assistant.toml").write_text('[generation]\nmodel = "lu-dans-le-fichier"\n', encoding="utf-8")
    assert Settings().generation.model != "lu-dans-le-fichier"
    monkeypatch.setenv("ASSISTANT_CONFIG", str(tmp_path / "assistant.toml"))  # named when settings are read
    assert Settings().generation.model == "lu-dans-le-fichier"


def test_only_loopback_can_be_reached():
    with pytest.raises(NetworkAccess), socket.socket() as outside:
        outside.connect(("192.0.2.1", 80))  # TEST-NET-1: would time out, if it were tried
    with socket.socket() as server, socket.socket() as client:
        server.bind(("127.0.0.1", 0))
        server.listen()
        client.connect(("127.0.0.1", server.getsockname()[1]))
