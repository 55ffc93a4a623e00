"""Authorization on customer data, and the audit trail of every access.

* **Who may do what** (:class:`AccessPolicy`, ``config/safety/access.yaml``): a verified identity
  (shared.platform.identity) gets a role and a scope from the first grant that matches its
  e-mail, e-mail domain or group, or, for the contact-center platform's service account,
  the role the platform asserts (within the roles its grant allows). Never from the browser.
* **Which customers** (:meth:`AccessPolicy.permits`): a grant's scope lists allowed values
  per customer attribute (tenant, brand, region, team); an attribute it does not list is
  unrestricted.
* **Every read goes through** :meth:`CustomerAccess.open`: it reads the snapshot, refuses a
  customer out of scope with exactly the answer an unknown customer gets (no enumeration),
  evaluates the data-access policy (``config/safety/context_policy.yaml``) for this call, and
  publishes one ``audit.customer_access`` event (allow or deny) naming the fields the
  policy lets through. The returned :class:`CustomerView` is the only way a capability
  gets a snapshot and the fields it may put in a prompt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.data.snapshots import Customer, CustomerSnapshot
from shared.platform.calls import CallContext
from shared.platform.errors import NotFound
from shared.platform.events import Event
from shared.platform.identity import ROLES, Grant, Identity
from shared.safety.context_policy import ContextPolicy
from shared.safety.pii.base import customer_key

SCOPE_FIELDS = ("tenant", "brand", "region", "team")
ANY = "*"
Role = Literal["agent", "supervisor", "backoffice", "system", "privacy"]


def customer_scope(customer: Customer) -> dict[str, str | None]:
    """The attributes a grant's scope is checked against."""
    return {
        "tenant": customer.tenant,
        "brand": customer.brand,
        "region": customer.profile.region,
        "team": customer.team,
    }


# Calls made in-process by trusted code (the ticket_closed handler, evaluation and benchmark tools) carry no
# principal: every HTTP entry point authenticates before a capability runs (shared/platform/http.py), so
# a call without one never comes from outside. They are audited as role "system", source "in-process".
IN_PROCESS = Grant(role="system", scope={}, rule="in-process")


class CustomerUnavailable(NotFound):
    """Unknown and forbidden customers (and suggestions) get this same answer: status, code and message."""

    def __init__(self, what: str = "customer") -> None:
        super().__init__(f"{what} not found")


class Match(BaseModel):
    model_config = ConfigDict(extra="forbid")

    emails: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list, description="E-mail domains, e.g. example.com.")
    groups: list[str] = Field(default_factory=list, description="Values of the token's groups claim.")
    platform: list[str] = Field(default_factory=list, description="Trusted platform service accounts; * = any.")

    def fits(self, identity: Identity) -> bool:
        if identity.source == "platform":
            return bool(self.platform) and (ANY in self.platform or (identity.platform or "") in self.platform)
        email = (identity.email or "").lower()
        domain = email.rpartition("@")[2] if "@" in email else ""
        return bool(
            (email and email in {e.lower() for e in self.emails})
            or (domain and domain in {d.lower() for d in self.domains})
            or set(identity.groups) & set(self.groups)
        )


class GrantRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    match: Match
    role: Role = Field(description="The role; for a platform grant, the role when the platform asserts none.")
    roles: list[Role] = Field(default_factory=list, description="Platform grants: roles the platform may assert.")
    scope: dict[str, list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> GrantRule:
        unknown = set(self.scope) - set(SCOPE_FIELDS)
        if unknown:
            raise ValueError(f"grant {self.name!r}: unknown scope fields {sorted(unknown)}; use {list(SCOPE_FIELDS)}")
        if any(not values for values in self.scope.values()):
            raise ValueError(f"grant {self.name!r}: an empty scope list would allow nobody; omit the field instead")
        return self


class AccessPolicy(BaseModel):
    """``config/safety/access.yaml``: grants in order (the first that fits wins) and response details by role."""

    model_config = ConfigDict(extra="forbid")

    version: str
    grants: list[GrantRule]
    details: dict[str, list[Role]] = Field(
        default_factory=dict, description="Response details (e.g. scoring) and the roles that see them."
    )

    @classmethod
    def load(cls, path: Path) -> AccessPolicy:
        return cls.model_validate(yaml.safe_load(path.read_text("utf-8")))

    def grant(self, identity: Identity) -> Grant | None:
        for rule in self.grants:
            if not rule.match.fits(identity):
                continue
            role = rule.role
            if identity.source == "platform" and identity.asserted_role is not None:
                if identity.asserted_role not in (rule.roles or [rule.role]):
                    return None
                role = identity.asserted_role  # type: ignore[assignment]
            scope = {k: frozenset(v) for k, v in rule.scope.items()}
            return Grant(role=role, scope=scope, rule=rule.name)
        return None

    def permits(self, grant: Grant, customer: Customer) -> bool:
        attributes = customer_scope(customer)
        for name, allowed in grant.scope.items():
            if ANY in allowed:
                continue
            if attributes.get(name) not in allowed:
                return False
        return True

    def shows(self, detail: str, role: str | None) -> bool:
        return role in self.details.get(detail, [])


class AuditCustomerAccess(Event):
    """One access to one customer's data, allowed or denied (BigQuery: cx_analytics.audit_events)."""

    event_type: Literal["audit.customer_access"] = "audit.customer_access"
    request_id: str
    capability: str
    decision: Literal["allow", "deny"]
    reason: str | None = Field(default=None, description="Deny: unknown | out_of_scope | not_owner.")
    agent_id: str | None
    role: str | None
    auth_source: str | None
    grant: str | None = Field(default=None, description="Name of the access.yaml grant that matched.")
    tenant: str | None = Field(default=None, description="The customer's tenant (the caller's when unknown).")
    customer_key: str = Field(description="HMAC pseudonym of the customer id, never the id.")
    fields: list[str] = Field(default_factory=list, description="Snapshot fields the data-access policy let through.")
    details: list[str] = Field(default_factory=list, description="Role-gated response details shown (scoring).")
    access_policy_version: str
    context_policy_version: str


@dataclass(frozen=True)
class CustomerView:
    """A snapshot the caller may see and the fields of it that may reach a prompt."""

    snapshot: CustomerSnapshot
    allowed: frozenset[str]
    policy_version: str
    details: frozenset[str]


class CustomerAccess:
    """The one door to customer data for capabilities; stateless, shared by all requests."""

    def __init__(
        self, policy: AccessPolicy, context_policy: ContextPolicy, publish: Callable[[Event], Any], pseudonym_key: str
    ) -> None:
        self.policy = policy
        self.context_policy = context_policy
        self._publish = publish
        self._key = pseudonym_key

    def open(
        self,
        call: CallContext,
        capability: str,
        customer_id: str,
        read: Callable[[], CustomerSnapshot],
        *,
        channel: str | None = None,
        discloses: bool = True,
    ) -> CustomerView:
        """Read, authorize, filter and audit; :class:`CustomerUnavailable` for unknown or forbidden alike."""
        grant = call.principal.grant if call.principal else IN_PROCESS
        try:
            snapshot = read()
        except NotFound:
            self.audit(call, capability, customer_id, "deny", reason="unknown")
            raise CustomerUnavailable() from None
        customer = snapshot.customer
        if not self.policy.permits(grant, customer):
            self.audit(call, capability, customer_id, "deny", reason="out_of_scope", tenant=customer.tenant)
            raise CustomerUnavailable()
        allowed = self.context_policy.allowed(channel, customer.profile.region, role=grant.role, capability=capability)
        details = frozenset(d for d in self.policy.details if grant is IN_PROCESS or self.policy.shows(d, grant.role))
        shown = (sorted(allowed), sorted(details)) if discloses else ([], [])
        self.audit(call, capability, customer_id, "allow", tenant=customer.tenant, fields=shown[0], details=shown[1])
        return CustomerView(snapshot, allowed, self.context_policy.version, details)

    def audit(
        self,
        call: CallContext,
        capability: str,
        customer_id: str,
        decision: Literal["allow", "deny"],
        *,
        reason: str | None = None,
        tenant: str | None = None,
        fields: list[str] | None = None,
        details: list[str] | None = None,
    ) -> AuditCustomerAccess:
        principal = call.principal
        grant = principal.grant if principal else IN_PROCESS
        if tenant is None and len(grant.scope.get("tenant", ())) == 1:
            (tenant,) = grant.scope["tenant"]
        event = AuditCustomerAccess(
            request_id=call.request_id,
            capability=capability,
            decision=decision,
            reason=reason,
            agent_id=call.agent_id,
            role=grant.role,
            auth_source=principal.identity.source if principal else "in-process",
            grant=grant.rule,
            tenant=tenant,
            customer_key=customer_key(customer_id, self._key),
            fields=fields or [],
            details=details or [],
            access_policy_version=self.policy.version,
            context_policy_version=self.context_policy.version,
        )
        self._publish(event)
        call.note(access=decision, access_reason=reason)
        return event

    def own_suggestion(self, call: CallContext, capability: str, suggestion: dict[str, Any] | None) -> dict[str, Any]:
        """A stored suggestion the caller made; someone else's answers exactly like a missing one."""
        if suggestion is None:
            raise CustomerUnavailable("suggestion")
        if call.principal is not None and (not suggestion.get("agent_id") or suggestion["agent_id"] != call.agent_id):
            self.audit(call, capability, suggestion.get("customer_id", ""), "deny", reason="not_owner")
            raise CustomerUnavailable("suggestion")
        self.audit(call, capability, suggestion.get("customer_id", ""), "allow")
        return suggestion


__all__ = [
    "ROLES",
    "AccessPolicy",
    "AuditCustomerAccess",
    "CustomerAccess",
    "CustomerUnavailable",
    "CustomerView",
    "customer_scope",
]
