"""Conversation turns as they arrive from voice transcripts, chat logs and email threads."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_TURNS = 400
# A whole call, chat or e-mail thread at its end (next steps): two hours of a phone call is some 1,500
# turns, read in windows (shared/language/windows.py); the request size limit still applies.
MAX_CALL_TURNS = 2000
MAX_TURN_CHARS = 4000


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    speaker: Literal["agent", "customer", "system"]
    text: str = Field(min_length=1, max_length=MAX_TURN_CHARS)
    timestamp: datetime | None = None


def customer_text(turns: list[Turn], last: int = 6) -> str:
    """The customer's latest turns, oldest first: what sentiment and intent are read from."""
    said = [t.text for t in turns if t.speaker == "customer"]
    return "\n".join(said[-last:])
