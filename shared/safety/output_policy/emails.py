"""Email addresses in a reply: only configured ones, the company's domains or the customer's own.

An address whose local part is itself a domain (``example-telco.com@evil.xyz``) is a link
in disguise (the part before ``@`` is userinfo) and is reported as ``link_userinfo``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.safety.output_policy.base import EMAIL, TRAIL, Check, Hit, PolicyContext, defanged, extract, registered


class EmailCheck(Check):
    name = "emails"

    def __init__(self, raw: Mapping[str, Any]) -> None:
        contacts = raw["contacts"]
        self.email_domains = {d.lower() for d in contacts["email_domains"]}
        self.emails = {e.lower() for e in contacts["emails"]}

    def sentence(self, s: str, plain: str, ctx: PolicyContext) -> list[Hit]:
        hits: list[Hit] = []
        for email in EMAIL.findall(defanged(plain)):
            email = email.strip(TRAIL)
            local, _, domain = email.rpartition("@")
            if "." in local and extract()(local).suffix:  # example-telco.com@evil.xyz
                hits.append(Hit("link_userinfo", s, email))
                continue
            if email.lower() in ctx.own or email.lower() in self.emails:
                continue
            if registered(domain) in self.email_domains:
                continue
            hits.append(Hit("unapproved_contact", s, f"email {email}"))
        return hits
