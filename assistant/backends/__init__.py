"""Backends behind small Protocols: embedder, chunk store, language model."""
