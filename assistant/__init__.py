"""Assistant documentaire « politique de la ville » : recherche hybride et réponses citées."""

__version__ = "0.1.0"
