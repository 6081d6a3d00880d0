"""Notes and the desk above the cards: pillar-note drafting, its section writers, hand edits and exports, and
``ExperienceDesk``, the one entry point the interface, the API and the CLI use for cards, precedents, comparisons and
notes. It combines ``experiences`` (cards, precedents) with ``generation`` (composer, prompts), which both sit below.
"""
