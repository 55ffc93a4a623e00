"""Token estimates for budgeting without a network call.

Gemini's tokenizer averages about four characters per token on English and a little
less on German and JSON; dividing by 3.5 over-estimates slightly, so a budget computed
with it holds for the real count (the real counts are logged from ``usage_metadata``).
"""

from __future__ import annotations

import json
import math
from typing import Any

CHARS_PER_TOKEN = 3.5


def estimate_tokens(value: str | Any) -> int:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return math.ceil(len(text) / CHARS_PER_TOKEN)
