"""What every loader returns (imported by each loader; the dispatch in ``ingest.loaders`` imports the loaders)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.types import Block


@dataclass
class LoadedFile:
    blocks: list[Block]
    metadata: dict[str, Any] = field(default_factory=dict)
