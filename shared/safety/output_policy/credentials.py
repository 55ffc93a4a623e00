"""Requests for credentials or payment data (card numbers, PINs, passwords, one-time codes).

A term alone is not a request ("we will never ask for your PIN" is the safe phrasing): the
sentence must ask for it, be a question, or present it as a form field ("Card number: ____").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shared.safety.output_policy.base import Check, Hit, PolicyContext, merged, phrases


class CredentialCheck(Check):
    name = "credentials"

    def __init__(self, raw: Mapping[str, Any]) -> None:
        cred = raw["credentials"]["per_language"]
        self._cred_terms = phrases(merged(cred, "terms"))
        self._cred_asks = phrases(merged(cred, "asks"), whole=True)
        self._cred_safe = phrases(merged(cred, "safe"))

    def sentence(self, s: str, plain: str, ctx: PolicyContext) -> list[Hit]:
        if not self._cred_terms:
            return []
        term = self._cred_terms.search(plain)
        if not term:
            return []
        if self._cred_safe and self._cred_safe.search(plain + " "):
            return []
        asks = self._cred_asks and self._cred_asks.search(plain)
        question = plain.rstrip().endswith("?")
        form = re.search(re.escape(term.group(0)) + r"\s*[:=]\s*(?:_{2,}|\.{3}|…|\[|\(|$)", plain, re.IGNORECASE)
        if asks or question or form:
            return [Hit("credential_request", s, term.group(0).lower())]
        return []
