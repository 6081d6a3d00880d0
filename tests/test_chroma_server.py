"""The index on a real `chroma run` server on 127.0.0.1 (deployments beyond one machine).

The sync scenarios also run against the server: see ``ON_EMBEDDED_AND_SERVER_STORES`` in ``test_sync.py``.
"""

from __future__ import annotations

import chromadb
import pytest
from files import write_corpus


@pytest.mark.parametrize("light_services", ["server"], indirect=True)
def test_chunks_live_on_the_server(light_services, chroma_server, tmp_path):
    light_services.indexer.index_paths([write_corpus(tmp_path / "corpus")])
    host, port = chroma_server
    other_client = chromadb.HttpClient(host=host, port=port)
    collection = other_client.get_collection(light_services.settings.chroma.collection)
    assert collection.count() == light_services.store.chunk_count() > 0
    assert not (light_services.settings.data_dir / "chroma").exists()
