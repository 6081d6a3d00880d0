"""What the interface needs from the rest of the product, as a Protocol: the UI never imports the assembly.

``assistant.factory.Services`` provides it; tests may pass anything with these attributes.
"""

from __future__ import annotations

from typing import Protocol

from assistant.backends.store import DocumentRegistry
from assistant.feedback import FeedbackStore
from assistant.indexing import Indexer
from assistant.jobs import IngestQueue
from assistant.notes.desk import ExperienceDesk
from assistant.pipeline import Assistant
from assistant.settings import Settings


class AppServices(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> DocumentRegistry: ...  # the Documents page and the document route read it

    @property
    def assistant(self) -> Assistant: ...

    @property
    def indexer(self) -> Indexer: ...

    @property
    def desk(self) -> ExperienceDesk: ...

    @property
    def feedback(self) -> FeedbackStore: ...

    @property
    def answerer_kind(self) -> str: ...

    @property
    def ingest_queue(self) -> IngestQueue | None: ...  # ingest.mode = "queue": uploads and folders go there
