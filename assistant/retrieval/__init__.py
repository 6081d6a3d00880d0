"""Retrieval: French keyword index, dense search and their fusion."""
