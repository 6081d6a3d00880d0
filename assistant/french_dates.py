"""Dates as French readers expect them, in the server's time zone (tables, exports)."""

from __future__ import annotations

from datetime import datetime


def french_timestamp(value: str) -> str:
    """An ISO time stamp (UTC as stored) in the server's local time: 30/11/2026 13:54; anything else as is."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone()  # the local time zone
    return moment.strftime("%d/%m/%Y %H:%M")
