"""Evaluation of retrieval and answers on the shared benchmarks and the domain set."""
