"""The last pass over model output: no placeholder the request did not create reaches a person.

The model sees masked text (``[CUSTOMER_NAME]``, ``[PHONE_1]``) and may write placeholders
back; :meth:`~shared.safety.pii.base.Pseudonymizer.restore_model` puts the real values in
for the ones this request created. Whatever placeholder-shaped text is left afterwards was
invented or garbled by the model (``[PHONE_4]``, ``[ORDER_9``, ``CUSTOMER_NAME_2]``): it
would reach the customer as is (closing message) or mislead the agent (summary, intents,
questions). This pass walks every string field of the output, removes such tokens, tidies
the spacing they leave, and reports which fields it changed so the response can carry a
review flag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

# Well-formed: what the masker writes. Anything of this shape left after restore is unknown.
WELL_FORMED = re.compile(r"\[[A-Z]+(?:_[A-Z]+)*(?:_\d+)?\]")
# Garbled: an opening bracket without its closing one, a numbered token that lost its opening
# bracket, or a numbered token in lower case.
MALFORMED = re.compile(
    r"\[[A-Z]{2,}(?:_[A-Z0-9]+)+(?![\]A-Za-z0-9_])"
    r"|(?<![\[\w])[A-Z]{2,}(?:_[A-Z]+)*_\d+\]"
    r"|\[[a-z]{2,}(?:_[a-z]+)*_\d+\]"
)
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([,.;:!?)])")
_DOUBLE_SPACE = re.compile(r"[ \t]{2,}")
REVIEW_FLAG = "unknown_placeholder_removed"


@dataclass(frozen=True)
class Finding:
    field: str
    kind: str  # "unknown" | "malformed"


def scrub_text(text: str) -> tuple[str, list[str]]:
    """``text`` without unknown or malformed placeholders, and the kinds removed."""
    kinds: list[str] = []

    def drop(kind: str) -> Any:
        def _sub(m: re.Match[str]) -> str:
            kinds.append(kind)
            return ""

        return _sub

    cleaned = WELL_FORMED.sub(drop("unknown"), text)
    cleaned = MALFORMED.sub(drop("malformed"), cleaned)
    if not kinds:
        return text, []
    cleaned = _DOUBLE_SPACE.sub(" ", _SPACE_BEFORE_PUNCT.sub(r"\1", cleaned))
    return "\n".join(line.strip() for line in cleaned.split("\n")), kinds


def scrub_obj(obj: Any, path: str = "") -> tuple[Any, list[Finding]]:
    """Scrub every string inside a JSON-like structure; findings name the field (``actions.0.description``)."""
    if isinstance(obj, str):
        cleaned, kinds = scrub_text(obj)
        return cleaned, [Finding(path or "value", k) for k in sorted(set(kinds))]
    findings: list[Finding] = []
    if isinstance(obj, dict):
        out_d: dict[str, Any] = {}
        for key, value in obj.items():
            out_d[key], found = scrub_obj(value, f"{path}.{key}" if path else str(key))
            findings += found
        return out_d, findings
    if isinstance(obj, list):
        out_l: list[Any] = []
        for i, value in enumerate(obj):
            cleaned, found = scrub_obj(value, f"{path}.{i}" if path else str(i))
            out_l.append(cleaned)
            findings += found
        return out_l, findings
    return obj, []


def scrub_model(model: M, keep: tuple[str, ...] = ()) -> tuple[M, list[Finding]]:
    """The model with every string field scrubbed (re-validated), and what was removed where.

    ``keep`` names top-level fields left as they are because a stronger check handles them
    (reply_draft's reply: a leaked placeholder there replaces the whole draft).
    """
    data = model.model_dump(mode="json")
    kept = {k: data.pop(k) for k in keep if k in data}
    data, findings = scrub_obj(data)
    if not findings:
        return model, []
    return type(model).model_validate(data | kept), findings
