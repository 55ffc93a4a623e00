"""Who is calling and what to record about the call; independent of the transport."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.platform.identity import Principal

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"  # customer, ticket and order ids in requests


@dataclass
class CallContext:
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    agent_id: str | None = None
    agent_role: str | None = None
    principal: Principal | None = None  # the verified caller and its grant (shared.platform.identity)
    started: float = field(default_factory=time.perf_counter)
    log_fields: dict[str, Any] = field(default_factory=dict)

    def note(self, **fields: Any) -> None:
        """Add facts (engine, tokens, pseudonymous customer key) to the access log line."""
        self.log_fields.update(fields)

    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 2)
