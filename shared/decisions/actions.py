"""The actions an agent confirms at the end of a contact: who does what by when.

Shared by confirm_next_steps and closing_message (and the commitments built from them)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Owner = Literal["agent", "customer", "backoffice"]


class FinalAction(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    owner: Owner
    description: str = Field(min_length=1, max_length=1000)
    due_by: date | None = None
    # where the date comes from: said in the contact, the agent's own entry, or the queue's service level
    # (then the closing text words it as the usual processing time, never as a promise)
    due_source: Literal["said", "service_level", "agent"] | None = None
    condition: str | None = Field(
        default=None, max_length=500, description="A conditional step's condition, kept in every text."
    )
